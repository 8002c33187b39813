"""Decides each numeric feature's ``auto`` transform from the training data, before the run.

``log`` for a heavy-tailed non-negative column (mostly zeros, or a maximum or
99th percentile far above the bulk of the values), ``z_score`` otherwise. The
decision is written into the run's configuration (the transform is then
``log`` or ``z_score``, not ``auto``), so Transform, the cache key and the
recorded configuration all name it, and the run can be reproduced.

The rules are pure (values in, a choice and its reason out); the values are
the first rows of the training files (``csv_sample.TRANSFORM_ROWS``), read
once with the other checks before the run (``csv_sample``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from pipeline.config import PipelineConfig
from pipeline.preflight.csv_sample import CsvSample, read_sample

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


def resolve_transforms(config: PipelineConfig,
                       sample: Optional[CsvSample] = None) -> tuple[PipelineConfig, list[TransformChoice]]:
    """The configuration with every ``auto`` transform decided, and one choice per numeric feature.

    ``sample``: the CSV inputs as ``read_sample`` read them (read here when not given and needed).
    Inputs whose rows are not read before the run keep ``z_score`` for ``auto``.
    """
    data = config.data
    auto = [f.name for f in config.features if f.type == "numeric" and f.transform == "auto"]
    if data.rows_readable and auto:
        values = (sample or read_sample(config)).numeric_values
    else:
        values = {}
    choices, features = [], []
    for feature in config.features:
        if feature.type != "numeric":
            features.append(feature)
            continue
        if feature.transform != "auto":
            transform, reason = feature.transform, "set in the config"
        elif feature.name in values:
            transform, reason = choose_transform(values[feature.name])
        else:
            transform, reason = "z_score", data.unread_inputs
        choices.append(TransformChoice(feature.name, transform, reason))
        features.append(feature.model_copy(update={"transform": transform}))
    return config.model_copy(update={"data": data.with_input_features(features)}), choices
