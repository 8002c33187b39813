"""Data drift: how far a run's statistics are from the statistics of an earlier run.

Pure TFDV (statistics protos in, findings out), testable without TFX. The
distances are TFDV's own drift comparators, chosen per column from the type
its statistics have:

- a numeric column (``num_stats``): the Jensen-Shannon divergence of its
  histograms, 0 (same) to 1 (disjoint);
- a categorical column (``string_stats``): the L-infinity distance of its value
  frequencies, the largest change in the share of any one value (a value that
  vanishes counts with its whole former share).

The comparator follows the data, not the configuration: TFDV's L-infinity
distance of a column whose statistics are numeric is silently 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

JENSEN_SHANNON = "jensen_shannon_divergence"
INFINITY_NORM = "infinity_norm"
_MEASUREMENT = {anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: JENSEN_SHANNON,
                anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: INFINITY_NORM}
_WORDS = {JENSEN_SHANNON: "Jensen-Shannon divergence", INFINITY_NORM: "L-infinity distance"}


@dataclass(frozen=True)
class DriftThresholds:
    """Which columns are compared, and the largest distance each may move.

    ``columns``: column -> its own threshold (for whichever comparator its
    type gets), or None for the default of its comparator.
    """

    jensen_shannon_divergence: float
    infinity_norm: float
    columns: dict[str, Optional[float]]

    def threshold(self, column: str, comparator: str) -> float:
        own = self.columns.get(column)
        return own if own is not None else getattr(self, comparator)

    def to_json(self) -> dict[str, Any]:
        return {JENSEN_SHANNON: self.jensen_shannon_divergence, INFINITY_NORM: self.infinity_norm,
                "columns": dict(self.columns)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "DriftThresholds":
        return cls(float(raw[JENSEN_SHANNON]), float(raw[INFINITY_NORM]),
                   {str(k): (None if v is None else float(v)) for k, v in raw["columns"].items()})


@dataclass(frozen=True)
class Drift:
    """One column's measured distance on one split, and the threshold it was held to."""

    split: str
    column: str
    comparator: str
    distance: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.distance > self.threshold  # TFDV's rule: above the threshold


def comparator_for(feature: statistics_pb2.FeatureNameStatistics) -> Optional[str]:
    """The comparator for a column's statistics: numeric -> JSD, categorical -> L-infinity."""
    if feature.HasField("num_stats"):
        return JENSEN_SHANNON
    if feature.HasField("string_stats"):
        return INFINITY_NORM
    return None  # struct or bytes statistics: nothing to compare


def _column(feature: statistics_pb2.FeatureNameStatistics) -> str:
    return ".".join(feature.path.step) if feature.HasField("path") else feature.name


def _as_list(stats) -> statistics_pb2.DatasetFeatureStatisticsList:
    if isinstance(stats, statistics_pb2.DatasetFeatureStatisticsList):
        return stats
    return statistics_pb2.DatasetFeatureStatisticsList(datasets=[stats])


def measure(current, previous, thresholds: DriftThresholds, split: str = "") -> list[Drift]:
    """Every compared column's distance between ``previous`` and ``current`` (one split each).

    Columns listed in ``thresholds`` that the previous statistics hold are
    compared; TFDV computes the distances (``validate_statistics`` with
    ``previous_statistics``) on a schema inferred from the previous statistics.
    """
    previous, current = _as_list(previous), _as_list(current)
    schema = tfdv.infer_schema(previous)
    compared = {}
    for feature in previous.datasets[0].features:
        column = _column(feature)
        comparator = comparator_for(feature)
        if column not in thresholds.columns or comparator is None:
            continue
        compared[column] = comparator
        threshold = thresholds.threshold(column, comparator)
        schema_feature = next((f for f in schema.feature if f.name == column), None)
        if schema_feature is None:  # not inferred (e.g. no values): nothing to compare with
            continue
        getattr(schema_feature.drift_comparator, comparator).threshold = threshold
    anomalies = tfdv.validate_statistics(current, schema, previous_statistics=previous)
    found = []
    for info in anomalies.drift_skew_info:
        column = ".".join(info.path.step)
        for measurement in info.drift_measurements:
            comparator = _MEASUREMENT.get(measurement.type)
            if comparator == compared.get(column):
                found.append(Drift(split, column, comparator, float(measurement.value),
                                   float(measurement.threshold)))
    return sorted(found, key=lambda d: d.column)


def drifted(drifts: Iterable[Drift]) -> list[Drift]:
    return [d for d in drifts if d.drifted]


def describe(found: list[Drift]) -> str:
    """One line: each drifted column, its distance per split, its threshold, and the fixes."""
    by_column: dict[str, list[Drift]] = {}
    for d in found:
        by_column.setdefault(d.column, []).append(d)
    parts = []
    for column, drifts in by_column.items():
        distances = ", ".join(f"{d.distance:.3g} ({d.split})" if d.split else f"{d.distance:.3g}"
                              for d in drifts)
        parts.append(f"{column}: {_WORDS[drifts[0].comparator]} {distances} above the threshold "
                     f"{drifts[0].threshold:g}")
    keys = ", ".join(f"drift.thresholds.{c}" for c in by_column)
    return (f"the data has drifted from the data of the model being served: {'; '.join(parts)} "
            f"(if the change is expected: raise {keys} or set drift.enabled: false for this run; "
            "or start fresh with another --output-dir)")
