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

import json

import tensorflow_model_analysis as tfma

from models.features import transformed_labels
from pipeline.config import EvaluationConfig, PipelineConfig, Task
from pipeline.config.task_types import PREDICTED_AGAINST_ACTUAL


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


def _regression_plot(evaluation: EvaluationConfig) -> tfma.MetricConfig:
    """Predicted against actual: mean label per narrow prediction bucket."""
    low, high = evaluation.regression_plot_range
    return tfma.MetricConfig(class_name="CalibrationPlot",
                             config=json.dumps({"num_buckets": 1000, "left": low, "right": high}))


def task_metrics(task: Task, evaluation: EvaluationConfig | None = None) -> list[tfma.MetricConfig]:
    """The task's metrics with its gates attached (to the overall slice)."""
    evaluation = evaluation or EvaluationConfig()
    gate, kind = task.gate, task.task_type
    configs = {name: tfma.MetricConfig(class_name=name, module=kind.tfma_metric_modules.get(name, ""))
               for name in kind.tfma_metrics}
    key_bound = getattr(gate, kind.key_gate)
    configs[kind.key_metric_class].threshold.CopyFrom(_no_worse_than_baseline(
        _lower_bound(key_bound) if key_bound is not None else tfma.MetricThreshold(), gate.max_drop,
        kind.key_direction))
    for field, class_name in kind.upper_gates.items():
        if getattr(gate, field) is not None:
            configs[class_name].threshold.CopyFrom(_upper_bound(getattr(gate, field)))
    if kind.fit_plot == PREDICTED_AGAINST_ACTUAL:
        configs["CalibrationPlot"] = _regression_plot(evaluation)
    return [_on_overall_slice_only(metric) for metric in configs.values()]


def slicing_specs(evaluation: EvaluationConfig) -> list[tfma.SlicingSpec]:
    """The overall slice, then one spec per configured feature cross."""
    return [tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=evaluation.slice_columns(columns))
                                   for columns in evaluation.slices]


def build_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            signature_name="serving_default",
            # TFMA runs the Transform first: labels come from its output (0/1
            # for a string binary label), and so do numeric slice buckets.
            preprocessing_function_names=["transform_features"],
            label_keys=transformed_labels(config),
        )],
        metrics_specs=[tfma.MetricsSpec(output_names=[task.name],
                                        metrics=task_metrics(task, config.evaluation))
                       for task in config.tasks],
        slicing_specs=slicing_specs(config.evaluation),
        # Only the metrics above: the saved model's compiled metrics would
        # repeat them on the Trainer's standardized scale, under other names.
        options=tfma.Options(include_default_metrics={"value": False}),
    )
