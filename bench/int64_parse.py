"""What accepting int64 numbers in ``serving_default`` would cost: the parse step, two ways.

    python bench/int64_parse.py [--calls 300]

``tf.io.parse_example`` needs one dtype per feature and fails on an Int64List
where the spec says float ("Data types don't match"). A parser that takes
either must read the proto itself; the least it does is ``tf.io.decode_proto``
down to each feature's FloatList and Int64List (Example -> Features -> map
entries -> Feature -> values), before any reassembly into per-column tensors.
Timed here against ``parse_example`` on tf.Examples shaped like the sample
model's requests (4 numeric, 3 categorical columns), at batch 1 and 256.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

NUMERIC = ["age", "visits", "tenure_months", "balance"]
CATEGORICAL = ["region", "device", "plan"]
SPEC = {**{n: tf.io.FixedLenFeature([1], tf.float32) for n in NUMERIC},
        **{n: tf.io.FixedLenFeature([1], tf.string) for n in CATEGORICAL}}


def example(i: int) -> bytes:
    e = tf.train.Example()
    for n in NUMERIC:
        e.features.feature[n].float_list.value.append(float(i % 50))
    for n in CATEGORICAL:
        e.features.feature[n].bytes_list.value.append(b"west")
    return e.SerializeToString()


@tf.function
def parse(examples):
    return tf.io.parse_example(examples, SPEC)


@tf.function
def decode_either(examples):
    features = tf.io.decode_proto(examples, "tensorflow.Example", ["features"], [tf.string]).values[0]
    entries = tf.io.decode_proto(tf.reshape(features, [-1]), "tensorflow.Features", ["feature"], [tf.string])
    flat = tf.RaggedTensor.from_row_lengths(tf.reshape(entries.values[0], [-1])[:tf.reduce_sum(entries.sizes)],
                                            entries.sizes[:, 0]).flat_values
    pairs = tf.io.decode_proto(flat, "tensorflow.Features.FeatureEntry", ["key", "value"], [tf.string, tf.string])
    lists = tf.io.decode_proto(pairs.values[1][:, 0], "tensorflow.Feature",
                               ["float_list", "int64_list", "bytes_list"], [tf.string] * 3)
    floats = tf.io.decode_proto(tf.reshape(lists.values[0], [-1]), "tensorflow.FloatList", ["value"], [tf.float32])
    ints = tf.io.decode_proto(tf.reshape(lists.values[1], [-1]), "tensorflow.Int64List", ["value"], [tf.int64])
    return pairs.values[0], floats.values[0], ints.values[0]


def p50_ms(fn, calls: int) -> float:
    for _ in range(30):
        fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    records = [example(i) for i in range(256)]
    for batch in (1, 256):
        examples = tf.constant(records[:batch])
        a = p50_ms(lambda: parse(examples), args.calls)
        b = p50_ms(lambda: decode_either(examples), args.calls)
        print(f"batch {batch}: parse_example {a:.3f} ms, decode_proto (either type) {b:.3f} ms, ratio {b / a:.1f}x")


if __name__ == "__main__":
    main()
