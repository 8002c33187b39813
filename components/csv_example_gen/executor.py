"""CsvExampleGen's executor, reading column names as ``components.csv_example_gen.header`` does.

TFX's own CSV reader splits the header line on commas as it is, so a
byte-order mark or a space after the delimiter becomes part of the first or
the next column's name, and cells keep their leading spaces (``" 39"`` is then
typed as a string). This executor reads the header with ``parse_header`` and
strips the spaces around every cell; everything else (multi-line quoted cells,
type inference per column, tf.Example encoding) is TFX's.

Two things follow the configuration rather than the file (``csv_options``,
given as ExampleGen's ``custom_config``): a declared missing-value token
(``?``) becomes an absent value, as an empty cell is; and a declared numeric
column is written as floats even when every value in it is a whole number,
a declared categorical column as text even when it holds numbers (``2007``).
The inferred schema, and so the served model's inputs, then take a numeric
feature as a float and a categorical one as bytes, whatever the file held.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv
from tfx.dsl.io import fileio
from google.protobuf import json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx_bsl.coders import csv_decoder

from components.csv_example_gen.header import parse_header, strip_cells


def csv_options(numeric_columns: list[str], categorical_columns: list[str],
                missing_values: list[str]) -> example_gen_pb2.CustomConfig:
    """ExampleGen's ``custom_config``: which columns are numeric or categorical, which tokens mean missing."""
    options = struct_pb2.Struct()
    options.update({"column_types": {**{c: "float" for c in numeric_columns},
                                     **{c: "string" for c in categorical_columns}},
                    "missing_values": list(missing_values)})
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(options)
    return config


def read_csv_options(exec_properties: dict[str, Any]) -> tuple[dict[str, str], set[bytes]]:
    """(column -> "float" or "string", missing-value tokens as bytes) from ``csv_options``."""
    raw = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not raw:
        return {}, set()
    config = raw if isinstance(raw, example_gen_pb2.CustomConfig) else json_format.Parse(
        raw, example_gen_pb2.CustomConfig())
    options = struct_pb2.Struct()
    if not config.custom_config.Unpack(options):
        return {}, set()
    types = dict(options["column_types"]) if "column_types" in options else {}
    missing = {token.encode() for token in options["missing_values"]} if "missing_values" in options else set()
    return types, missing


def blank_missing(cells: list, missing: set[bytes]) -> list:
    """Missing-value tokens as empty cells, which become absent values."""
    return [b"" if cell in missing else cell for cell in cells]


_COLUMN_TYPES = {"float": csv_decoder.ColumnType.FLOAT, "string": csv_decoder.ColumnType.STRING}


def declared_types(column_infos: list, column_types: dict[str, str]) -> list:
    """Inferred column types, with declared columns typed as declared (an all-empty one too)."""
    return [csv_decoder.ColumnInfo(info.name, _COLUMN_TYPES[column_types[info.name]])
            if info.name in column_types else info for info in column_infos]


def read_column_names(path: str) -> list[str]:
    with fileio.open(path, "rb") as f:
        return parse_header(f.readline().decode("utf-8"))


@beam.typehints.with_input_types(beam.Pipeline)
class _CsvToExample(beam.PTransform):
    """CSV files of one split pattern -> tf.Examples keyed by the cleaned column names."""

    def __init__(self, exec_properties: dict[str, Any], split_pattern: str):
        self._csv_pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                                         split_pattern)
        self._column_types, self._missing = read_csv_options(exec_properties)

    def expand(self, pipeline: beam.Pipeline):
        csv_files = sorted(fileio.glob(self._csv_pattern))
        if not csv_files:
            raise RuntimeError(f"Split pattern {self._csv_pattern} does not match any files.")
        column_names = read_column_names(csv_files[0])
        for path in csv_files[1:]:
            if read_column_names(path) != column_names:
                raise RuntimeError(f"Files in the same split {self._csv_pattern} have different headers "
                                   f"({csv_files[0]} and {path}).")
        cells = (pipeline
                 | "CreateFilenames" >> beam.Create(csv_files)
                 | "ReadFromText" >> beam.ParDo(tfx_csv._ReadCsvRecordsFromTextFile())  # noqa: SLF001
                 | "ParseCSVLine" >> beam.ParDo(csv_decoder.ParseCSVLine(delimiter=","))
                 | "ExtractParsedCSVLines" >> beam.Keys()
                 | "StripCells" >> beam.Map(strip_cells)
                 | "BlankMissing" >> beam.Map(blank_missing, self._missing))
        column_infos = beam.pvalue.AsSingleton(
            cells | "InferColumnTypes" >> beam.CombineGlobally(
                csv_decoder.ColumnTypeInferrer(column_names, skip_blank_lines=True))
            | "DeclaredTypes" >> beam.Map(declared_types, self._column_types))
        return cells | "ToTFExample" >> beam.ParDo(tfx_csv._ParsedCsvToTfExample(), column_infos)  # noqa: SLF001


class Executor(BaseExampleGenExecutor):
    """Give it to CsvExampleGen as ``custom_executor_spec=BeamExecutorSpec(Executor)``."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802  (TFX's name)
        return _CsvToExample
