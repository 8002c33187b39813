"""The Evaluator's TFMA EvalConfig, generated from the task list.

One MetricsSpec per task (``output_names=[task]``): its metrics, an absolute
gate (so a bad first model is stopped) and a change gate against the last
blessed model (so no task gets worse by more than ``max_drop``). TFMA blesses
a model only if every threshold of every task passes.

Every metric is also computed on each configured slice. A plain
``MetricConfig.threshold`` would gate every slice, so thresholds are attached
to the overall slice only (``per_slice_thresholds``): small slices are
reported, not gated. Numeric slice features are sliced by the bucket Transform
computes, which TFMA gets from the model's ``transform_features`` signature.
"""

from __future__ import annotations

import tensorflow_model_analysis as tfma
from google.protobuf import wrappers_pb2

from models.tasks import task_type
from models.features import label_weights, transformed_labels
from config import ConfigError, EvaluationConfig, PipelineConfig, Task


def _lower_bound(value: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(lower_bound={"value": value}))


def _upper_bound(value: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(upper_bound={"value": value}))


def _no_worse_than_baseline(threshold: tfma.MetricThreshold, max_drop: float,
                            direction: str) -> tfma.MetricThreshold:
    threshold.change_threshold.CopyFrom(tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.Value(direction.upper()), absolute={"value": -max_drop}))
    return threshold


def _on_overall_slice_only(metric: tfma.MetricConfig) -> tfma.MetricConfig:
    if metric.HasField("threshold"):
        gated = tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=metric.threshold)
        metric.ClearField("threshold")
        metric.per_slice_thresholds.append(gated)
    return metric


def task_metrics(task: Task, evaluation: EvaluationConfig | None = None) -> list[tfma.MetricConfig]:
    """The task's metrics with its gates attached (to the overall slice)."""
    evaluation = evaluation or EvaluationConfig()
    gate, kind = task.gate, task_type(task.type)
    configs = kind.tfma_metric_configs(task, evaluation)
    key_bound = getattr(gate, kind.key_gate)
    configs[kind.key_metric_class].threshold.CopyFrom(_no_worse_than_baseline(
        _lower_bound(key_bound) if key_bound is not None else tfma.MetricThreshold(), gate.max_drop,
        kind.key_direction))
    for field, class_name in kind.upper_gates.items():
        if getattr(gate, field) is not None:
            configs[class_name].threshold.CopyFrom(_upper_bound(getattr(gate, field)))
    return [_on_overall_slice_only(metric) for metric in configs.values()]


def class_metrics_specs(task: Task) -> list[tfma.MetricsSpec]:
    """The task type's further metrics specs (a multiclass task's per-class and macro-averaged
    metrics), with the type's macro gates on the averaged ones (overall slice only)."""
    kind = task_type(task.type)
    if kind.needs_classes(task.classes):
        raise ConfigError(f"task {task.name!r}: the Evaluator needs the classes of a {task.type} task; "
                          "list them in the task's classes (a CSV input fills them in from the data)")
    specs = kind.extra_metrics_specs(task)
    for spec in specs:
        if not spec.HasField("aggregate"):
            continue
        for field, class_name in kind.macro_gates.items():
            bound = getattr(task.gate, field)
            if bound is not None:
                metric = next(m for m in spec.metrics if m.class_name == class_name)
                metric.threshold.CopyFrom(_lower_bound(bound))
                _on_overall_slice_only(metric)
    return specs


def slicing_specs(evaluation: EvaluationConfig) -> list[tfma.SlicingSpec]:
    """The overall slice, then one spec per configured feature cross."""
    return [tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=evaluation.slice_columns(columns))
                                   for columns in evaluation.slices]


# EvaluationConfig.confidence_intervals -> TFMA's method.
INTERVAL_METHODS = {
    "jackknife": tfma.ConfidenceIntervalOptions.JACKKNIFE,
    "poisson_bootstrap": tfma.ConfidenceIntervalOptions.POISSON_BOOTSTRAP,
}


def options(evaluation: EvaluationConfig) -> tfma.Options:
    """Confidence intervals on every metric and slice, unless turned off.

    Gates still compare TFMA's point estimate (computed on all examples), not
    the interval.
    """
    result = tfma.Options(include_default_metrics=wrappers_pb2.BoolValue(value=False))
    method = INTERVAL_METHODS.get(evaluation.confidence_intervals)
    if method is not None:
        result.confidence_intervals.method = method
        result.compute_confidence_intervals.value = True
    return result


# The Evaluator's extractors: per-slice groups of examples where every metric takes them.
EVALUATOR_MODULE = "models.slice_groups"


def evaluator_code_modules(config: PipelineConfig) -> tuple[str, ...]:
    """The project modules TFMA loads by name for ``config``: the extractors and the metrics
    its tasks' EvalConfig names (``MetricConfig.module``; per-class metrics included)."""
    named = {metric.module for task in config.tasks for metric in task_metrics(task, config.evaluation)}
    named.update(module for task in config.tasks for module in task_type(task.type).tfma_metric_modules.values())
    return (EVALUATOR_MODULE, *sorted(m for m in named if m))


def build_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            signature_name="serving_default",
            # Each model loaded as TF Serving loads it: its signatures, no Keras objects revived.
            # Unset, TFMA loads every model once more only to find its type (about 0.4 CPU s each).
            model_type="tf_generic",
            # TFMA runs the Transform first: labels come from its output (0/1
            # for a string binary label), and so do numeric slice buckets.
            preprocessing_function_names=["transform_features"],
            label_keys=transformed_labels(config),
            # Per task: 0 where its label is missing (and the example weight, if any),
            # so its metrics leave those rows out.
            example_weight_keys=label_weights(config),
        )],
        metrics_specs=[spec for task in config.tasks for spec in [
            tfma.MetricsSpec(output_names=[task.name], metrics=task_metrics(task, config.evaluation)),
            *class_metrics_specs(task)]],
        slicing_specs=slicing_specs(config.evaluation),
        # Only the metrics above: the saved model's compiled metrics would repeat
        # them on the Trainer's standardized scale, under other names, and cost a
        # TF combiner per slice.
        options=options(config.evaluation),
    )
