"""Beam sources of blocks of rows: a plain CSV split by byte ranges over the workers, TFRecords a file each.

An element is an ``inputs.Block`` of up to ``inputs.BLOCK_ROWS`` rows, keyed by
its place in the input (the file's rank, then where its first row starts), so
the scored blocks can be joined in input order. Files are opened through
Beam's file systems: local, gs:// and s3:// alike.

- A CSV (not gzipped) is splittable as Beam's text source is: a range owns the
  rows that start inside it (a row is one line). The header is read once, up
  front (``inputs.csv_header``), and skipped by the range that starts the file.
  A gzipped CSV is read whole by one worker.
- TFRecords have no sync marks, so a file is read whole by one worker (as
  Beam's own TFRecord source does); many files spread over many workers.
"""

from __future__ import annotations

import csv
from typing import Iterator

from apache_beam.io import filebasedsource
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.predict import inputs

GZIP_MAGIC = b"\x1f\x8b"


class _BlockSource(filebasedsource.FileBasedSource):
    def __init__(self, pattern: str, files: list[str], keep: list[str], block_rows: int, **kwargs):
        super().__init__(pattern, validate=False, **kwargs)
        self._rank = {path: i for i, path in enumerate(files)}
        self._keep, self._block_rows = keep, block_rows

    def _block(self, path: str, position: int) -> inputs.Block:
        return inputs.Block(f"{self._rank[path]:06d}-{position:015d}", path, kept={c: [] for c in self._keep})


class CsvBlockSource(_BlockSource):
    def __init__(self, pattern: str, files: list[str], header: list[str], columns: list[inputs.InputColumn],
                 missing_values: list[str], keep: list[str], block_rows: int = inputs.BLOCK_ROWS):
        super().__init__(pattern, files, keep, block_rows)  # compression from the name: .gz is read whole
        self._header, self._columns, self._missing = header, columns, set(missing_values)

    def read_records(self, file_name: str, range_tracker) -> Iterator[inputs.Block]:
        start = range_tracker.start_position()
        with self.open_file(file_name) as f:
            if start > 0:  # the rows of this range: those starting after the line that holds byte start-1
                f.seek(start - 1)
            position = max(start - 1, 0) + len(f.readline())  # from 0: the header, read already
            block = None
            while range_tracker.try_claim(position):
                raw = f.readline()
                if not raw:
                    break
                row_start, position = position, position + len(raw)
                cells = self._cells(raw)
                if cells is None:
                    continue
                if block is None:
                    block = self._block(file_name, row_start)
                block.examples.append(inputs.csv_example(
                    cells, self._columns, self._missing,
                    lambda: f"{file_name} line {inputs.line_at(file_name, row_start)}"))
                block.rows.append(row_start)
                for column in self._keep:
                    block.kept[column].append(cells.get(column, ""))
                if len(block.examples) == self._block_rows:
                    yield block
                    block = None
            if block is not None:
                yield block

    def _cells(self, raw: bytes):
        """Column -> cell (spaces around it dropped) as ``components.csv_example_gen.header.read_rows``
        reads a row; None for a blank line."""
        row = next(csv.reader([raw.decode("utf-8").rstrip("\r\n")], skipinitialspace=True), [])
        if not row:
            return None
        return {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(self._header)}


class TFRecordBlockSource(_BlockSource):
    def __init__(self, pattern: str, files: list[str], keep: list[str], block_rows: int = inputs.BLOCK_ROWS):
        # Opened by read_records, which finds gzip by its magic bytes rather than the name.
        super().__init__(pattern, files, keep, block_rows, splittable=False,
                         compression_type=CompressionTypes.UNCOMPRESSED)

    def read_records(self, file_name: str, range_tracker) -> Iterator[inputs.Block]:
        from tensorflow.core.example import example_pb2

        if not range_tracker.try_claim(0):
            return
        first = 1
        try:
            for batch in _record_batches(file_name, self._block_rows):
                block = self._block(file_name, first)
                block.examples, block.rows = batch, list(range(first, first + len(batch)))
                for serialized in batch if self._keep else ():
                    feature = example_pb2.Example.FromString(serialized).features.feature
                    for column in self._keep:
                        block.kept[column].append(inputs.feature_text(feature[column]) if column in feature else "")
                first += len(batch)
                yield block
        except ValueError as exc:  # a damaged record, from either reader
            raise inputs.BadRow(f"{file_name}: not a file of TFRecords ({str(exc).splitlines()[0]}); "
                             "give a CSV (named .csv) or TFRecords of tf.Example") from None


def _gzipped(path: str) -> bool:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        return f.read(2) == GZIP_MAGIC


def _record_batches(path: str, size: int) -> Iterator[list[bytes]]:
    """A file's records, ``size`` at a time: through tf.data where TensorFlow reads the scheme
    (local, gs://; its threads read ahead while a block is scored), else Beam's file systems (s3://)."""
    import tensorflow as tf

    compression = "GZIP" if _gzipped(path) else ""
    if _tensorflow_reads(path):
        records = tf.data.TFRecordDataset(path, compression_type=compression,
                                          buffer_size=8 << 20).batch(size).prefetch(4)
        try:
            for batch in records.as_numpy_iterator():
                yield list(batch)
        except tf.errors.DataLossError as exc:
            raise ValueError(exc.message) from None
        return
    from apache_beam.io.tfrecordio import _TFRecordUtil

    kind = CompressionTypes.GZIP if compression else CompressionTypes.UNCOMPRESSED
    batch: list[bytes] = []
    with FileSystems.open(path, compression_type=kind) as f:
        while (record := _TFRecordUtil.read_record(f)) is not None:
            batch.append(record)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def _tensorflow_reads(path: str) -> bool:
    import tensorflow as tf

    scheme = path.split("://", 1)[0] if "://" in path else ""
    return scheme in tf.io.gfile.get_registered_schemes()


def block_source(pattern: str, files: list[str], columns: list[inputs.InputColumn], missing_values: list[str],
                 keep: list[str], block_rows: int = inputs.BLOCK_ROWS) -> _BlockSource:
    """The Beam source of ``files`` (what ``pattern`` matched): CSV when named so, else TFRecords."""
    if inputs.is_csv(files[0]):
        return CsvBlockSource(pattern, files, inputs.csv_header(files[0]), columns, missing_values, keep,
                              block_rows)
    return TFRecordBlockSource(pattern, files, keep, block_rows)
