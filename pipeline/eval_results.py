"""Reads an Evaluator's output with TFMA's loaders into plain records."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import metrics_for_slice_pb2, validation_result_pb2

OVERALL = "Overall"


@dataclass(frozen=True)
class MetricRecord:
    task: str
    slice: str  # "Overall", or "feature:value[, feature:value]"
    metric: str
    value: float
    is_diff: bool  # candidate minus baseline


def slice_name(slice_key: tuple) -> str:
    return ", ".join(f"{k}:{v}" for k, v in slice_key) if slice_key else OVERALL


def _value(value: metrics_for_slice_pb2.MetricValue):
    if value.HasField("double_value"):
        return value.double_value.value
    return None  # plots, arrays and bounded values are not scalar records


def load_metric_records(evaluation_uri: str, model_name: str = "candidate") -> list[MetricRecord]:
    """Scalar metrics of the candidate model (and its diffs to the baseline)."""
    records = []
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        name = slice_name(tfma.slicer.deserialize_slice_key(metrics_for_slice.slice_key))
        for kv in metrics_for_slice.metric_keys_and_values:
            key = kv.key
            if key.model_name not in ("", model_name) or not key.output_name:
                continue
            value = _value(kv.value)
            if value is not None:
                records.append(MetricRecord(key.output_name, name, key.name, value, key.is_diff))
    return records


def overall_metrics(records: list[MetricRecord]) -> dict[str, dict[str, float]]:
    """task -> metric -> value on the overall slice; diffs as '<metric>_diff'."""
    result: dict[str, dict[str, float]] = {}
    for r in records:
        if r.slice == OVERALL:
            result.setdefault(r.task, {})[r.metric + ("_diff" if r.is_diff else "")] = r.value
    return result


@dataclass(frozen=True)
class GateFailure:
    task: str
    slice: str
    metric: str
    message: str


def _describe_failure(failure: validation_result_pb2.ValidationFailure) -> str:
    """E.g. 'r2 -4.12 is below 0.5' or 'r2 changed by -0.31 vs baseline, allowed -0.05'."""
    if failure.message:
        return failure.message
    key, threshold = failure.metric_key, failure.metric_threshold
    value = _value(failure.metric_value)
    shown = f"{value:.4g}" if value is not None else "?"
    if key.is_diff:
        bound = threshold.change_threshold.absolute.value
        return f"{key.name} changed by {shown} vs baseline, allowed {bound:+.4g}"
    bounds = threshold.value_threshold
    if bounds.HasField("lower_bound") and value is not None and value < bounds.lower_bound.value:
        return f"{key.name} {shown} is below {bounds.lower_bound.value:.4g}"
    if bounds.HasField("upper_bound") and value is not None and value > bounds.upper_bound.value:
        return f"{key.name} {shown} is above {bounds.upper_bound.value:.4g}"
    return f"{key.name} {shown} failed its threshold"


def load_gate_failures(evaluation_uri: str) -> tuple[bool, list[GateFailure]]:
    """(blessed, the thresholds that failed)."""
    result: validation_result_pb2.ValidationResult = tfma.load_validation_result(evaluation_uri)
    failures = []
    for per_slice in result.metric_validations_per_slice:
        name = slice_name(tfma.slicer.deserialize_slice_key(per_slice.slice_key))
        for failure in per_slice.failures:
            failures.append(GateFailure(failure.metric_key.output_name, name,
                                        failure.metric_key.name, _describe_failure(failure)))
    return result.validation_ok, failures
