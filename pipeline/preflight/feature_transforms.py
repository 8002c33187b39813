"""Decides each numeric feature's ``auto`` transform from the training data, before the run.

``log`` for a heavy-tailed non-negative column (mostly zeros, or a maximum or
99th percentile far above the bulk of the values), ``z_score`` otherwise. The
decision is written into the run's configuration (the transform is then
``log`` or ``z_score``, not ``auto``), so Transform, the cache key and the
recorded configuration all name it, and the run can be reproduced.

The rules are pure (values in, a choice and its reason out); reading the CSV
sample is thin glue.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from components.csv_example_gen.header import read_rows
from pipeline.config import CsvData, PipelineConfig, SyntheticData

SAMPLE_ROWS = 100_000  # rows of the training files read to decide
MOSTLY_ZEROS = 0.5  # a non-negative column with at least this share of zeros is heavy-tailed
MAX_OVER_P99 = 10.0
P99_OVER_MEDIAN = 20.0


@dataclass(frozen=True)
class TransformChoice:
    column: str
    transform: str
    reason: str

    def line(self) -> str:
        return f"  {self.column}: {self.transform} ({self.reason})"


def choose_transform(values: Sequence[float]) -> tuple[str, str]:
    """(transform, why) for a column's present values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "z_score", "no values to inspect"
    if x.min() < 0:
        return "z_score", "has negative values"
    if np.unique(x[:10_000]).size <= 2:
        return "z_score", "two values"
    zeros = float(np.mean(x == 0))
    p50, p99, top = np.percentile(x, 50), np.percentile(x, 99), x.max()
    if zeros >= MOSTLY_ZEROS:
        return "log", f"non-negative, {zeros:.0%} zeros, max {top:.4g}"
    if p99 > 0 and top / p99 > MAX_OVER_P99:
        return "log", f"non-negative, max/p99 = {top / p99:.3g} > {MAX_OVER_P99:g}"
    if p50 > 0 and p99 / p50 > P99_OVER_MEDIAN:
        return "log", f"non-negative, p99/median = {p99 / p50:.3g} > {P99_OVER_MEDIAN:g}"
    ratio = f"max/p99 = {top / p99:.3g}" if p99 > 0 else f"max {top:.4g}"
    return "z_score", f"no heavy tail: {ratio}"


def _training_files(data: CsvData) -> list[str]:
    pattern = data.split_patterns().get("train") or data.split_patterns()["all"]
    return sorted(glob.glob(pattern))


def _read_columns(files: list[str], columns: list[str], missing: set[str]) -> dict[str, list[float]]:
    """Present numeric values of ``columns`` in the first SAMPLE_ROWS rows of ``files``."""
    values: dict[str, list[float]] = {c: [] for c in columns}
    rows = 0
    for path in files:
        with open(path, newline="", encoding="utf-8") as f:
            for _, row in read_rows(f):
                for column in columns:
                    text = (row.get(column) or "").strip()
                    if text and text not in missing:
                        try:
                            values[column].append(float(text))
                        except ValueError:
                            pass  # the data check reports non-numbers
                rows += 1
                if rows >= SAMPLE_ROWS:
                    return values
    return values


def resolve_transforms(config: PipelineConfig) -> tuple[PipelineConfig, list[TransformChoice]]:
    """The configuration with every ``auto`` transform decided, and one choice per numeric feature."""
    data = config.data
    numeric = [f for f in config.features if f.type == "numeric"]
    if isinstance(data, SyntheticData):
        return config, [TransformChoice(f.name, f.resolved_transform,
                                        "set in the config" if f.transform != "auto"
                                        else "synthetic inputs are standard normal") for f in numeric]
    auto = [f.name for f in numeric if f.transform == "auto"]
    sample = _read_columns(_training_files(data), auto, set(data.missing_values)) \
        if isinstance(data, CsvData) and auto else {}
    choices, features = [], []
    for feature in config.features:
        if feature.type != "numeric":
            features.append(feature)
            continue
        if feature.transform != "auto":
            transform, reason = feature.transform, "set in the config"
        elif feature.name in sample:
            transform, reason = choose_transform(sample[feature.name])
        else:
            transform, reason = "z_score", "TFRecord input is not inspected before the run; set transform to choose"
        choices.append(TransformChoice(feature.name, transform, reason))
        features.append(feature.model_copy(update={"transform": transform}))
    resolved = config.model_copy(update={"data": data.model_copy(update={"features": features})})
    return resolved, choices
