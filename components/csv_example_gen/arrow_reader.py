"""A CSV file as tf.Example records, a block of rows at a time: what TFX's CSV reader writes, with pyarrow and numpy.

TFX's reader parses each line in Python, infers each column's type cell by
cell and builds a protobuf per row (about 8,000 rows/s here). Here pyarrow
parses a block of lines into text columns; each column's cells lose the
spaces around them (as ``header.strip_cells``) and declared missing-value
tokens (as ``blank_missing``); Python's own ``int`` and ``float`` type and
convert each distinct cell once, by TFX's rules (``csv_decoder._InferValueType``:
int64, else float, else text, the widest over a column); and
``encoding.encode_examples`` serializes the rows. An empty cell is the
feature with its type's empty list, a column without any value a feature
without a list, as TFX writes them. The records are byte for byte the
deterministic serialization of TFX's, so the hash split puts each row where
TFX's reader put it.
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from tfx.dsl.io import fileio
from tfx_bsl.coders import csv_decoder

from components.synthetic_example_gen.encoding import encode_examples

ColumnType = csv_decoder.ColumnType
BLOCK_BYTES = 8 << 20  # rows parsed and serialized together; bounds memory on any file size
_DECLARED = {"float": ColumnType.FLOAT, "string": ColumnType.STRING}


def text_blocks(path: str, column_names: list[str]) -> Iterator[pa.RecordBatch]:
    """The file's rows after its header, every cell as text, a block at a time.

    Quoted cells may hold the delimiter, doubled quotes and line breaks, as in
    TFX's reader; blank lines are skipped.
    """
    if "://" in path:  # a bucket: read through TFX's file system (pyarrow's own may lack it)
        with fileio.open(path, "rb") as f:
            source = pa.BufferReader(f.read())
    else:
        source = path
    reader = pa_csv.open_csv(
        source, read_options=pa_csv.ReadOptions(column_names=column_names, skip_rows=1, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in column_names},
                                              strings_can_be_null=False))
    yield from reader


def cleaned(column: pa.Array, missing: frozenset[str]) -> pa.Array:
    """Cells without the ASCII spaces around them (as ``bytes.strip``), missing-value tokens as ''."""
    column = pc.ascii_trim_whitespace(column)
    if missing:
        column = pc.if_else(pc.is_in(column, value_set=pa.array(sorted(missing), pa.string())), "", column)
    return column


def block_types(block: pa.RecordBatch, missing: frozenset[str], declared: Mapping[str, str]
                ) -> dict[str, ColumnType]:
    """Each undeclared column's type in this block: the widest of its distinct cells' types."""
    return {name: max((csv_decoder._InferValueType(v.encode()) for v in  # noqa: SLF001 (TFX's rule itself)
                       pc.unique(cleaned(column, missing)).to_pylist()), default=ColumnType.UNKNOWN)
            for name, column in zip(block.schema.names, block.columns) if name not in declared}


def merge_types(many: list[dict[str, ColumnType]], declared: Mapping[str, str]) -> dict[str, ColumnType]:
    """Column types over blocks (the widest), declared columns typed as declared."""
    merged: dict[str, ColumnType] = {}
    for types in many:
        for name, kind in types.items():
            merged[name] = max(kind, merged.get(name, ColumnType.UNKNOWN))
    return {**merged, **{name: _DECLARED[kind] for name, kind in declared.items()}}


def _converted(cells: pa.Array, convert, dtype) -> np.ndarray:
    """``convert`` applied to each distinct non-empty cell once, as a column (0 where a cell is empty)."""
    encoded = pc.dictionary_encode(cells)
    table = np.array([convert(v.encode()) if v else 0 for v in encoded.dictionary.to_pylist()], dtype=dtype)
    return table[encoded.indices.to_numpy(zero_copy_only=False)]


def block_records(block: pa.RecordBatch, types: Mapping[str, ColumnType], missing: frozenset[str]) -> list[bytes]:
    """The block's rows as serialized tf.Examples."""
    int64s, floats, strings, present, without_values = {}, {}, {}, {}, []
    for name, column in zip(block.schema.names, block.columns):
        kind = types.get(name, ColumnType.UNKNOWN)
        if kind == ColumnType.UNKNOWN:
            without_values.append(name)
            continue
        cells = cleaned(column, missing)
        present[name] = pc.not_equal(cells, "").to_numpy(zero_copy_only=False)
        if kind == ColumnType.INT:
            int64s[name] = _converted(cells, int, np.int64)
        elif kind == ColumnType.FLOAT:
            floats[name] = _converted(cells, float, np.float64)
        else:
            strings[name] = np.asarray(cells.to_numpy(zero_copy_only=False), dtype=str)
    return encode_examples(int64s, floats, strings, present=present, without_values=without_values)
