"""Raw synthetic eval examples written as an ExampleGen would (gzipped TFRecords), made once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from components import synthetic_data
from components.synthetic_example_gen.executor import to_example_bytes


def serialized_examples(num_examples: int, seed: int = 7, first_id: int = 10_000_000) -> list[bytes]:
    """``num_examples`` raw tf.Examples of the default synthetic data (ids not in the training run)."""
    data = synthetic_data.generate(num_examples, seed=seed + 1000, num_shards=max(1, num_examples // 50_000))
    ids = np.arange(first_id, first_id + num_examples)
    return [to_example_bytes(ids[i], data.inputs[i], data.y1[i], data.y2[i], data.segment[i], data.x_norm[i])
            for i in range(num_examples)]


def examples_dir(work_dir: Path, num_examples: int) -> Path:
    """An Examples artifact folder with an ``eval`` split of ``num_examples`` records."""
    uri = work_dir / f"eval-examples-{num_examples}"
    split = uri / "Split-eval"
    if not (split / "data_tfrecord-00000-of-00001.gz").exists():
        split.mkdir(parents=True, exist_ok=True)
        tmp = split / "data_tfrecord-00000-of-00001.gz.tmp"
        with tf.io.TFRecordWriter(str(tmp), options="GZIP") as writer:
            for record in serialized_examples(num_examples):
                writer.write(record)
        tmp.rename(split / "data_tfrecord-00000-of-00001.gz")
    return uri


def read_records(uri: Path) -> list[bytes]:
    pattern = str(uri / "Split-eval" / "*.gz")
    return [r.numpy() for r in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")]
