"""Reads an Evaluator's output with TFMA's loaders into plain records."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2, validation_result_pb2
from tensorflow_model_analysis.writers import eval_config_writer

OVERALL = "Overall"


@dataclass(frozen=True)
class MetricRecord:
    task: str
    slice: str  # "Overall", or "feature:value[, feature:value]"
    metric: str
    value: float  # TFMA's point estimate on all the slice's examples (what gates compare)
    is_diff: bool  # candidate minus baseline
    # TFMA's 95% confidence interval, when the EvalConfig asks for intervals.
    lower: Optional[float] = None
    upper: Optional[float] = None


def slice_name(slice_key: tuple) -> str:
    return ", ".join(f"{k}:{v}" for k, v in slice_key) if slice_key else OVERALL


def _value(value: metrics_for_slice_pb2.MetricValue):
    if value.HasField("double_value"):
        return value.double_value.value
    return None  # plots, arrays and bounded values are not scalar records


def _interval(kv: metrics_for_slice_pb2.MetricKeyAndValue) -> tuple[Optional[float], Optional[float]]:
    if not kv.HasField("confidence_interval"):
        return None, None
    return _value(kv.confidence_interval.lower_bound), _value(kv.confidence_interval.upper_bound)


def metric_name(key) -> str:
    """A TFMA metric key's name: ``auc``, ``auc_class_2`` (one class against the rest), ``macro_auc``.

    ``key`` is a MetricKey as stored (a proto) or as TFMA computes it (tfma.metrics.MetricKey).
    """
    if isinstance(key, metrics_for_slice_pb2.MetricKey):
        macro = key.HasField("aggregation_type") and key.aggregation_type.macro_average
        class_id = (key.sub_key.class_id.value
                    if key.HasField("sub_key") and key.sub_key.HasField("class_id") else None)
    else:
        macro = bool(key.aggregation_type and key.aggregation_type.macro_average)
        class_id = key.sub_key.class_id if key.sub_key else None
    if macro:
        return f"macro_{key.name}"
    if class_id is not None:
        return f"{key.name}_class_{class_id}"
    return key.name


def load_metric_records(evaluation_uri: str, model_name: str = "candidate") -> list[MetricRecord]:
    """Scalar metrics of the candidate model (and its diffs to the baseline), with their intervals."""
    records = []
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        name = slice_name(tfma.slicer.deserialize_slice_key(metrics_for_slice.slice_key))
        for kv in metrics_for_slice.metric_keys_and_values:
            key = kv.key
            if key.model_name not in ("", model_name) or not key.output_name:
                continue
            value = _value(kv.value)
            if value is not None:
                records.append(MetricRecord(key.output_name, name, metric_name(key), value, key.is_diff,
                                            *_interval(kv)))
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
    is_diff: bool = False  # a change threshold (against the baseline)


def _describe_failure(failure: validation_result_pb2.ValidationFailure) -> str:
    """E.g. 'r2 -4.12 is below 0.5' or 'r2 changed by -0.31 vs baseline, allowed -0.05'."""
    if failure.message:
        return failure.message
    key, threshold = failure.metric_key, failure.metric_threshold
    value = _value(failure.metric_value)
    if value is not None and math.isnan(value):
        what = f"{metric_name(key)} change vs baseline" if key.is_diff else metric_name(key)
        return (f"{what} is NaN, which fails its gate: the Evaluator could not compute it "
                "(log loss: a predicted probability of exactly 0 or 1 on the wrong label; "
                "AUC: the eval split holds one class only)")
    shown = f"{value:.4g}" if value is not None else "?"
    if key.is_diff:
        bound = threshold.change_threshold.absolute.value
        return f"{metric_name(key)} changed by {shown} vs baseline, allowed {bound:+.4g}"
    bounds = threshold.value_threshold
    if bounds.HasField("lower_bound") and value is not None and value < bounds.lower_bound.value:
        return f"{metric_name(key)} {shown} is below {bounds.lower_bound.value:.4g}"
    if bounds.HasField("upper_bound") and value is not None and value > bounds.upper_bound.value:
        return f"{metric_name(key)} {shown} is above {bounds.upper_bound.value:.4g}"
    return f"{metric_name(key)} {shown} failed its threshold"


def load_gate_failures(evaluation_uri: str) -> tuple[bool, list[GateFailure]]:
    """(blessed, the thresholds that failed)."""
    result: validation_result_pb2.ValidationResult = tfma.load_validation_result(evaluation_uri)
    failures = []
    for per_slice in result.metric_validations_per_slice:
        name = slice_name(tfma.slicer.deserialize_slice_key(per_slice.slice_key))
        for failure in per_slice.failures:
            failures.append(GateFailure(failure.metric_key.output_name, name,
                                        metric_name(failure.metric_key), _describe_failure(failure),
                                        failure.metric_key.is_diff))
    return result.validation_ok, failures


@dataclass(frozen=True)
class EvaluatedGate:
    """One threshold the Evaluator checked: ``metric >= bound`` or ``<= bound``.

    A change gate (``is_diff``) bounds candidate minus baseline.
    """

    task: str
    slice: str
    metric: str
    is_diff: bool
    lower_bound: Optional[float]
    upper_bound: Optional[float]


def load_gates(evaluation_uri: str) -> list[EvaluatedGate]:
    """The thresholds as the Evaluator ran them, from the EvalConfig it saved.

    Change gates appear only when there was a baseline to compare with.
    """
    eval_config = eval_config_writer.load_eval_run(evaluation_uri)[0]
    thresholds = tfma.metrics.metric_thresholds_from_metrics_specs(eval_config.metrics_specs, eval_config)
    gates = []
    for key, slice_thresholds in thresholds.items():
        if key.model_name not in ("", "candidate"):
            continue
        for slice_spec, threshold in slice_thresholds:
            where = OVERALL if slice_spec is None or not _spec_columns(slice_spec) else _spec_columns(slice_spec)
            if isinstance(threshold, config_pb2.GenericChangeThreshold):
                bound = threshold.absolute.value
                higher_is_better = threshold.direction == config_pb2.MetricDirection.HIGHER_IS_BETTER
                lower, upper = (bound, None) if higher_is_better else (None, bound)
            else:
                lower = threshold.lower_bound.value if threshold.HasField("lower_bound") else None
                upper = threshold.upper_bound.value if threshold.HasField("upper_bound") else None
            gates.append(EvaluatedGate(key.output_name, where, metric_name(key), key.is_diff, lower, upper))
    return gates


def interval_method(evaluation_uri: str) -> str:
    """How the Evaluator computed its intervals: 'jackknife', 'poisson_bootstrap', or '' for none."""
    options = eval_config_writer.load_eval_run(evaluation_uri)[0].options
    if not options.compute_confidence_intervals.value:
        return ""
    return config_pb2.ConfidenceIntervalOptions.ConfidenceIntervalMethod.Name(
        options.confidence_intervals.method).lower()


def _spec_columns(slice_spec: config_pb2.SlicingSpec) -> str:
    """A slicing spec as text, e.g. 'segment' or 'segment:a'."""
    parts = list(slice_spec.feature_keys) + [f"{k}:{v}" for k, v in slice_spec.feature_values.items()]
    return ", ".join(parts)


@dataclass(frozen=True)
class CalibrationBins:
    """Per prediction bucket: example count, mean prediction and mean label."""

    task: str
    slice: str
    counts: tuple[float, ...]
    mean_predictions: tuple[float, ...]
    mean_labels: tuple[float, ...]


def load_calibration_bins(evaluation_uri: str, model_name: str = "candidate") -> list[CalibrationBins]:
    """The candidate's CalibrationPlot per task and slice, empty buckets dropped."""
    result = []
    for plots_for_slice in tfma.load_plots(evaluation_uri):
        name = slice_name(tfma.slicer.deserialize_slice_key(plots_for_slice.slice_key))
        for kv in plots_for_slice.plot_keys_and_values:
            if kv.key.model_name not in ("", model_name) or not kv.key.output_name:
                continue
            buckets = [b for b in kv.value.calibration_histogram_buckets.buckets
                       if b.num_weighted_examples.value > 0]
            if not buckets:
                continue
            counts = tuple(b.num_weighted_examples.value for b in buckets)
            result.append(CalibrationBins(
                kv.key.output_name, name, counts,
                tuple(b.total_weighted_refined_prediction.value / n for b, n in zip(buckets, counts)),
                tuple(b.total_weighted_label.value / n for b, n in zip(buckets, counts))))
    return result
