"""CsvExampleGen's executor, reading column names as ``components.csv_example_gen.header`` does.

TFX's own CSV reader splits the header line on commas as it is, so a
byte-order mark or a space after the delimiter becomes part of the first or
the next column's name, and cells keep their leading spaces (``" 39"`` is then
typed as a string). This executor reads the header with ``parse_header`` and
strips the spaces around every cell; everything else (multi-line quoted cells,
type inference per column, tf.Example encoding) is TFX's.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs
from tfx_bsl.coders import csv_decoder

from components.csv_example_gen.header import parse_header, strip_cells


def read_column_names(path: str) -> list[str]:
    with fileio.open(path, "rb") as f:
        return parse_header(f.readline().decode("utf-8"))


@beam.typehints.with_input_types(beam.Pipeline)
class _CsvToExample(beam.PTransform):
    """CSV files of one split pattern -> tf.Examples keyed by the cleaned column names."""

    def __init__(self, exec_properties: dict[str, Any], split_pattern: str):
        self._csv_pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                                         split_pattern)

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
                 | "StripCells" >> beam.Map(strip_cells))
        column_infos = beam.pvalue.AsSingleton(
            cells | "InferColumnTypes" >> beam.CombineGlobally(
                csv_decoder.ColumnTypeInferrer(column_names, skip_blank_lines=True)))
        return cells | "ToTFExample" >> beam.ParDo(tfx_csv._ParsedCsvToTfExample(), column_infos)  # noqa: SLF001


class Executor(BaseExampleGenExecutor):
    """Give it to CsvExampleGen as ``custom_executor_spec=BeamExecutorSpec(Executor)``."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802  (TFX's name)
        return _CsvToExample
