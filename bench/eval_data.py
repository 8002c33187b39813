"""Raw synthetic eval examples written as an ExampleGen would (gzipped TFRecords), made once."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import tensorflow as tf

from components import synthetic_data
from components.synthetic_example_gen.executor import to_example_bytes
from config import SyntheticData


def serialized_examples(num_examples: int, first_shard: int = 1000, shard_size: int = 50_000,
                        data: Optional[SyntheticData] = None) -> list[bytes]:
    """``num_examples`` raw tf.Examples of the synthetic data (the default's, or ``data``'s: the base run's tasks).

    Drawn from shards numbered from ``first_shard`` (their own random streams),
    so none is one of the base run's examples. Labels listed in ``binary_labels``
    are written as 0/1, as the ExampleGen writes them.
    """
    data = data or SyntheticData()
    weights = synthetic_data.draw_task_weights(data.seed, data.example_dim, data.c, data.correlation, data.m,
                                               data.num_tasks)
    names = synthetic_data.label_names(data.num_tasks)
    expected = dict(zip(names, synthetic_data.expected_labels(weights)))
    records = []
    for index, start in enumerate(range(0, num_examples, shard_size)):
        shard = synthetic_data.Shard(first_shard + index, 10_000_000 + start,
                                     10_000_000 + min(num_examples, start + shard_size))
        part = synthetic_data.generate_shard(shard, weights, data.seed, data.example_dim)
        labels = {name: synthetic_data.binarize(part.label(name), expected[name])
                  if name in data.binary_labels else part.label(name) for name in names}
        records += [to_example_bytes(part.ids[i], part.inputs[i], {name: float(labels[name][i]) for name in names},
                                     part.segment[i], part.x_norm[i])
                    for i in range(len(part.ids))]
    return records


def examples_dir(work_dir: Path, num_examples: int, data: Optional[SyntheticData] = None) -> Path:
    """An Examples artifact folder with an ``eval`` split of ``num_examples`` records."""
    binary = "-binary-" + "-".join(data.binary_labels) if data is not None and data.binary_labels else ""
    uri = work_dir / f"eval-examples-v2{binary}-{num_examples}"
    split = uri / "Split-eval"
    if not (split / "data_tfrecord-00000-of-00001.gz").exists():
        split.mkdir(parents=True, exist_ok=True)
        tmp = split / "data_tfrecord-00000-of-00001.gz.tmp"
        with tf.io.TFRecordWriter(str(tmp), options="GZIP") as writer:
            for record in serialized_examples(num_examples, data=data):
                writer.write(record)
        tmp.rename(split / "data_tfrecord-00000-of-00001.gz")
    return uri


def read_records(uri: Path) -> list[bytes]:
    pattern = str(uri / "Split-eval" / "*.gz")
    return [r.numpy() for r in tf.data.TFRecordDataset(tf.io.gfile.glob(pattern), compression_type="GZIP")]
