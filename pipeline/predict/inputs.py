"""Rows to score as serialized tf.Examples, read a block at a time, in file order.

A CSV is read by the pipeline's own rules (``components.csv_example_gen``):
column names from the header (a byte-order mark and the spaces around names
and cells dropped), an empty cell or a declared missing-value token is an
absent value, a numeric feature is sent as a float and a categorical one as
text, which is what the served model takes. A cell the model cannot take
(text in a numeric column, a NaN or an infinity) is a ``BadRow`` naming the
file, the line and the column. TFRecords of tf.Example (gzipped or not) pass
as they are; the serving signature checks their values (``scoring``).
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass, field
from typing import Iterator, Optional

from components.csv_example_gen.header import parse_header, read_rows
from pipeline.errors import UsageError

# Rows scored together: one serving call, one element of the Beam pipeline.
BLOCK_ROWS = 1000
GZIP_MAGIC = b"\x1f\x8b"


class BadRow(UsageError):
    """A row the model cannot take; the message names the file, the line (or record) and the column."""


@dataclass(frozen=True)
class InputColumn:
    """A model input as a request carries it: a float feature or a text one."""

    name: str
    numeric: bool


@dataclass
class Block:
    """Consecutive rows: where they start, their serialized tf.Examples and the kept columns' values."""

    index: int  # the block's place in the file
    first_row: int  # line number (CSV) or record number (TFRecord, from 1) of its first row
    examples: list[bytes] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # each row's line or record number
    kept: dict[str, list[str]] = field(default_factory=dict)  # --keep column -> a value per row


def is_csv(path: str) -> bool:
    return path.lower().endswith((".csv", ".csv.gz"))


def _open_text(path: str):
    if "://" in path:  # a remote file (gs://...), read through TensorFlow's file system
        import tensorflow as tf

        with tf.io.gfile.GFile(path, "rb") as f:
            raw = io.BytesIO(f.read())
    else:
        raw = open(path, "rb")
    if path.lower().endswith(".gz"):
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def csv_header(path: str) -> list[str]:
    with _open_text(path) as f:
        return parse_header(f.readline())


def check_csv_columns(path: str, inputs: list[InputColumn], keep: list[str]) -> None:
    """A UsageError before any work when the header lacks a model input or a --keep column."""
    header = csv_header(path)
    missing = [c.name for c in inputs if c.name not in header]
    if missing:
        # An input column may be left out only where the model imputes it; a column the whole
        # file lacks is almost always the wrong file, so it is named here.
        raise UsageError(f"{path}: no column {', '.join(map(repr, missing))} (the model's inputs are "
                         f"{', '.join(c.name for c in inputs)}); score a file with those columns")
    unknown = [c for c in keep if c not in header]
    if unknown:
        raise UsageError(f"--keep {', '.join(unknown)}: not a column of {path} (its columns: {', '.join(header)})")


def csv_example(cells: dict[str, str], inputs: list[InputColumn], missing: set[str],
                where: str) -> bytes:
    """One CSV row as a serialized tf.Example of the model inputs; ``where`` is 'FILE line N'."""
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for column in inputs:
        text = cells.get(column.name, "")
        if text == "" or text in missing:
            continue  # absent: the model imputes it
        feature = example.features.feature[column.name]
        if column.numeric:
            try:
                value = float(text)
            except ValueError:
                raise BadRow(f"{where} column {column.name!r}: {text!r} is not a number; fix the cell, "
                             "or leave it empty (or a missing-value token) to have it imputed") from None
            if not math.isfinite(value):
                raise BadRow(f"{where} column {column.name!r}: {text!r} is a NaN or an infinity; "
                             "send finite values (leave the cell empty to have it imputed)")
            feature.float_list.value.append(value)
        else:
            feature.bytes_list.value.append(text.encode("utf-8"))
    return example.SerializeToString()


def csv_blocks(path: str, inputs: list[InputColumn], missing_values: list[str], keep: list[str],
               block_rows: int = BLOCK_ROWS) -> Iterator[Block]:
    missing = set(missing_values)
    block: Optional[Block] = None
    index = 0
    with _open_text(path) as f:
        for line, cells in read_rows(f):
            if block is None:
                block = Block(index, line, kept={c: [] for c in keep})
            block.examples.append(csv_example(cells, inputs, missing, f"{path} line {line}"))
            block.rows.append(line)
            for column in keep:
                block.kept[column].append(cells.get(column, ""))
            if len(block.examples) == block_rows:
                yield block
                block, index = None, index + 1
    if block is not None:
        yield block


def _feature_text(feature) -> str:
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    return " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else repr(v) for v in values)


def tfrecord_compression(path: str) -> str:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as f:
        return "GZIP" if f.read(2) == GZIP_MAGIC else ""


def tfrecord_blocks(path: str, keep: list[str], block_rows: int = BLOCK_ROWS) -> Iterator[Block]:
    import tensorflow as tf
    from tensorflow.core.example import example_pb2

    # Prefetched: the next blocks are read and un-gzipped by tf.data's threads while a block is scored.
    records = tf.data.TFRecordDataset(path, compression_type=tfrecord_compression(path),
                                      buffer_size=8 << 20).batch(block_rows).prefetch(4)
    first = 1
    try:
        for index, batch in enumerate(records.as_numpy_iterator()):
            examples = list(batch)
            block = Block(index, first, examples, list(range(first, first + len(examples))),
                          {c: [] for c in keep})
            if keep:
                for serialized in examples:
                    feature = example_pb2.Example.FromString(serialized).features.feature
                    for column in keep:
                        block.kept[column].append(_feature_text(feature[column]) if column in feature else "")
            first += len(examples)
            yield block
    except tf.errors.DataLossError as exc:
        raise UsageError(f"{path}: not a file of TFRecords ({exc.message.splitlines()[0]}); "
                         "give a CSV (named .csv) or TFRecords of tf.Example") from None


def blocks(path: str, inputs: list[InputColumn], missing_values: list[str], keep: list[str],
           block_rows: int = BLOCK_ROWS) -> Iterator[Block]:
    """The file's rows, ``block_rows`` at a time, in order."""
    if is_csv(path):
        return csv_blocks(path, inputs, missing_values, keep, block_rows)
    return tfrecord_blocks(path, keep, block_rows)
