"""The Evaluator's TFMA EvalConfig, generated from the task list.

One MetricsSpec per task (``output_names=[task]``): its metrics, an absolute
gate (so a bad first model is stopped) and a change gate against the last
blessed model (so no task gets worse by more than ``max_drop``). TFMA blesses
a model only if every threshold of every task passes.
"""

from __future__ import annotations

import tensorflow_model_analysis as tfma

from models.features import transformed_labels
from pipeline.config import PipelineConfig, Task

R2_MODULE = "models.metrics"  # the project's scale-free R² metric (a tf_keras metric)

REGRESSION_METRICS = ("ExampleCount", "MeanLabel", "MeanPrediction",
                      "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError")
BINARY_METRICS = ("ExampleCount", "MeanLabel", "MeanPrediction", "AUC", "BinaryCrossEntropy",
                  "Calibration", "CalibrationPlot")


def _lower_bound(value: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(lower_bound={"value": value}))


def _upper_bound(value: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(upper_bound={"value": value}))


def _no_worse_than_baseline(threshold: tfma.MetricThreshold, max_drop: float) -> tfma.MetricThreshold:
    threshold.change_threshold.CopyFrom(tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_drop}))
    return threshold


def task_metrics(task: Task) -> list[tfma.MetricConfig]:
    """The task's metrics with its gates attached."""
    gate = task.gate
    if task.type == "regression":
        configs = {name: tfma.MetricConfig(class_name=name) for name in REGRESSION_METRICS}
        r2 = tfma.MetricConfig(class_name="R2", module=R2_MODULE)
        r2.threshold.CopyFrom(_no_worse_than_baseline(
            _lower_bound(gate.min_r2) if gate.min_r2 is not None else tfma.MetricThreshold(), gate.max_drop))
        configs["R2"] = r2
        if gate.max_mse is not None:
            configs["MeanSquaredError"].threshold.CopyFrom(_upper_bound(gate.max_mse))
    else:
        configs = {name: tfma.MetricConfig(class_name=name) for name in BINARY_METRICS}
        auc = configs["AUC"]
        auc.threshold.CopyFrom(_no_worse_than_baseline(
            _lower_bound(gate.min_auc) if gate.min_auc is not None else tfma.MetricThreshold(), gate.max_drop))
        if gate.max_log_loss is not None:
            configs["BinaryCrossEntropy"].threshold.CopyFrom(_upper_bound(gate.max_log_loss))
    return list(configs.values())


def build_eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            signature_name="serving_default",
            # Labels come from the Transform's output (0/1 for a string binary label).
            preprocessing_function_names=["transform_features"],
            label_keys=transformed_labels(config),
        )],
        metrics_specs=[tfma.MetricsSpec(output_names=[task.name], metrics=task_metrics(task))
                       for task in config.tasks],
        slicing_specs=[tfma.SlicingSpec()],
    )
