"""Rows to score as serialized tf.Examples, read a block at a time, in file order.

A CSV is read by the pipeline's own rules (``components.csv_example_gen``):
column names from the header (a byte-order mark and the spaces around names
and cells dropped), an empty cell or a declared missing-value token is an
absent value, a numeric feature is sent as a float and a categorical one as
text, which is what the served model takes. A cell the model cannot take
(text in a numeric column, a NaN or an infinity) is a ``BadRow`` naming the
file, the line and the column. TFRecords of tf.Example (gzipped or not) pass
as they are; the serving signature checks their values (``scoring``).
Files are read through Beam's file systems, so a path may be local, gs:// or
s3://; ``sources`` reads them in blocks, split over Beam's workers.
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass, field
from typing import Callable

from components.csv_example_gen.header import parse_header
from pipeline.errors import UsageError

# Rows scored together: one serving call, one element of the Beam pipeline.
BLOCK_ROWS = 1000


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

    key: str  # the block's place in the input (file, then position in it): parts are joined in its order
    path: str  # the file it comes from
    examples: list[bytes] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # each row's byte offset (CSV) or record number (TFRecord)
    kept: dict[str, list[str]] = field(default_factory=dict)  # --keep column -> a value per row


def is_csv(path: str) -> bool:
    return path.lower().endswith((".csv", ".csv.gz"))


def input_files(pattern: str) -> list[str]:
    """The files a path or glob names, on any file system Beam has (local, gs://, s3://), sorted:
    their order is the output's."""
    from apache_beam.io.filesystems import FileSystems

    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception as exc:  # Beam raises for a bucket it cannot reach, or a scheme it lacks
        raise UsageError(f"--input {pattern}: cannot be listed ({str(exc).splitlines()[0]})") from None
    files = sorted(m.path for m in found if not m.path.endswith("/"))
    if not files:
        raise UsageError(f"--input {pattern}: no such file")
    return files


def _open_text(path: str):
    """A text file through Beam's file systems; ``.gz`` un-gzipped (by gzip: Beam's compressed file
    is not one io.TextIOWrapper can wrap)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
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


def line_at(path: str, offset: int) -> int:
    """The line number of the row starting at byte ``offset`` (of the un-gzipped text): a split read
    knows where a row starts, not its line; only an error needs the line, so it is counted then."""
    from apache_beam.io.filesystems import FileSystems

    lines, left = 1, offset
    with FileSystems.open(path) as f:
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            left -= len(chunk)
    return lines


def csv_example(cells: dict[str, str], inputs: list[InputColumn], missing: set[str],
                where: Callable[[], str]) -> bytes:
    """One CSV row as a serialized tf.Example of the model inputs; ``where()`` names the row,
    'FILE line N', and is called only for a bad cell (finding the line reads the file)."""
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
                raise BadRow(f"{where()} column {column.name!r}: {text!r} is not a number; fix the cell, "
                             "or leave it empty (or a missing-value token) to have it imputed") from None
            if not math.isfinite(value):
                raise BadRow(f"{where()} column {column.name!r}: {text!r} is a NaN or an infinity; "
                             "send finite values (leave the cell empty to have it imputed)")
            feature.float_list.value.append(value)
        else:
            feature.bytes_list.value.append(text.encode("utf-8"))
    return example.SerializeToString()


def feature_text(feature) -> str:
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    return " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else repr(v) for v in values)


