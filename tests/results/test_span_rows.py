"""How many rows an Examples artifact holds (pipeline.results.span_data.row_count), on real TFRecord files."""

from __future__ import annotations

import tensorflow as tf

from pipeline.results.span_data import row_count


def _write(path, records: int, compression: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options=compression) as writer:
        for i in range(records):
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[float(i)]))})).SerializeToString())


def test_every_split_and_file_counts_gzipped_or_not(tmp_path):
    _write(tmp_path / "Split-train" / "part-0.gz", 5000, "GZIP")  # more than one counting batch
    _write(tmp_path / "Split-train" / "part-1.gz", 7, "GZIP")
    _write(tmp_path / "Split-eval" / "part-0", 3, "")  # an imported, uncompressed file
    _write(tmp_path / "Split-test" / "part-0.gz", 0, "GZIP")
    assert row_count(str(tmp_path)) == 5010
