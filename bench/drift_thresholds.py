"""Evidence for the drift thresholds' defaults: distances between samples of one distribution, and real shifts.

    .venv/bin/python bench/drift_thresholds.py

Statistics are TFDV's (as StatisticsGen computes them); the distances are the
pipeline's own comparison (``components.data_drift.measure``). Synthetic data:
the same seed and weights, another sample drawn through another ``num_shards``;
shifts of ``c`` (the weight scale) and of ``correlation``. The sample table:
``data/make_sample.py`` with other seeds; shifts edited with pandas. Each line
prints every column's distance (Jensen-Shannon divergence for numeric columns,
L-infinity distance for categorical ones) against the first sample.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "data"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_data_validation as tfdv  # noqa: E402

import make_sample  # noqa: E402
from components import synthetic_data  # noqa: E402
from components.data_drift import DriftThresholds, measure  # noqa: E402
from components.synthetic_example_gen.executor import to_example_bytes  # noqa: E402

COLUMNS = ["x", "y1", "y2", "segment", "x_norm", *make_sample.COLUMNS]
ALL = DriftThresholds(1.0, 1.0, {c: None for c in COLUMNS})  # every column, thresholds never reached
WORK = Path(tempfile.mkdtemp(prefix="drift_thresholds_"))


def synthetic(n: int, c: float = 0.3, p: float = 0.5, shards: int = 1):
    data = synthetic_data.generate(n, c=c, p=p, seed=7, num_shards=shards)
    path = WORK / "synthetic.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i in range(n):
            writer.write(to_example_bytes(data.ids[i], data.inputs[i], {"y1": data.y1[i], "y2": data.y2[i]},
                                          data.segment[i], data.x_norm[i]))
    return tfdv.generate_statistics_from_tfrecord(str(path))


def table(n: int, seed: int, edit=None):
    frame = pd.DataFrame(make_sample.make_rows(n, seed), columns=make_sample.COLUMNS)
    path = WORK / "table.csv"
    (edit(frame) if edit else frame).to_csv(path, index=False)
    return tfdv.generate_statistics_from_csv(str(path))


def show(label: str, current, baseline) -> None:
    distances = " ".join(f"{d.column}={d.distance:.3f}" for d in measure(current, baseline, ALL))
    print(f"{label:44s} {distances}", flush=True)


def _spend(frame):
    return frame.assign(spend=(frame["spend"].astype(float) * 1.5).round(3))


def _age(frame):
    age = pd.to_numeric(frame["age"], errors="coerce") + 10
    return frame.assign(age=age.map(lambda v: "" if np.isnan(v) else str(int(v))))


def _no_north(frame):
    return frame[frame["region"] != "north"]


def _no_pro(frame):
    return frame.assign(plan=frame["plan"].replace("pro", "plus"))


def main() -> None:
    for n in (80, 320, 2400):
        baseline = synthetic(n)
        for shards in (2, 3, 4):
            show(f"synthetic n={n} another sample ({shards} shards)", synthetic(n, shards=shards), baseline)
        show(f"synthetic n={n} correlation 0.5 -> 0.9", synthetic(n, p=0.9, shards=2), baseline)
        for c in (0.45, 0.6, 1.0):
            show(f"synthetic n={n} c 0.3 -> {c}", synthetic(n, c=c, shards=2), baseline)
    for n in (80, 400, 1600):
        baseline = table(n, make_sample.SEED)
        for seed in (1, 2, 3):
            show(f"table n={n} another sample (seed {seed})", table(n, seed), baseline)
        for name, edit in (("spend x 1.5", _spend), ("age + 10", _age), ("region north gone", _no_north),
                           ("plan pro -> plus", _no_pro)):
            show(f"table n={n} {name}", table(n, 1, edit), baseline)


if __name__ == "__main__":
    main()
