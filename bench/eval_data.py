"""Raw synthetic eval examples written as an ExampleGen would (gzipped TFRecords), made once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from components import synthetic_data
from components.synthetic_example_gen.executor import to_example_bytes
from pipeline.config import SyntheticData


def serialized_examples(num_examples: int, first_shard: int = 1000, shard_size: int = 50_000) -> list[bytes]:
    """``num_examples`` raw tf.Examples of the default synthetic data (the base run's tasks).

    Drawn from shards numbered from ``first_shard`` (their own random streams),
    so none is one of the base run's examples.
    """
    data = SyntheticData()
    weights = synthetic_data.draw_task_weights(data.seed, data.example_dim, data.c, data.correlation, data.m,
                                               data.num_tasks)
    records = []
    for index, start in enumerate(range(0, num_examples, shard_size)):
        shard = synthetic_data.Shard(first_shard + index, 10_000_000 + start,
                                     10_000_000 + min(num_examples, start + shard_size))
        part = synthetic_data.generate_shard(shard, weights, data.seed, data.example_dim)
        labels = synthetic_data.label_names(data.num_tasks)
        records += [to_example_bytes(part.ids[i], part.inputs[i], dict(zip(labels, part.labels[i].tolist())),
                                     part.segment[i], part.x_norm[i])
                    for i in range(len(part.ids))]
    return records


def examples_dir(work_dir: Path, num_examples: int) -> Path:
    """An Examples artifact folder with an ``eval`` split of ``num_examples`` records."""
    uri = work_dir / f"eval-examples-v2-{num_examples}"
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
