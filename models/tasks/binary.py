"""Binary classification: a probability per example, fitted by log loss and gated on AUC."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from config.task_kinds import BinaryKind
from models.tasks.base import CALIBRATION, TaskType, register, text_values

# The project's TFMA metrics for classification (per-slice counts and histograms).
CLASSIFICATION_METRICS_MODULE = "models.classification_metrics"
# The calibration plot's buckets over [0, 1]; the AUC reads the same histogram.
PROBABILITY_BUCKETS = 1000


def probability_plot_config():
    """Calibration: mean label per narrow bucket of predicted probability, read straight from
    each example's (or group's) values; its histogram is also the AUC's."""
    import json

    import tensorflow_model_analysis as tfma

    return tfma.MetricConfig(class_name="LeanCalibrationPlot", module="models.regression_metrics",
                             config=json.dumps({"num_buckets": PROBABILITY_BUCKETS, "left": 0.0, "right": 1.0}))

# The served probability stays this far from 0 and 1, as Keras clips probabilities in its log loss.
PROBABILITY_EPSILON = 1e-7
# Label cells read as 0/1 when no positive value is declared.
BINARY_VALUES = {"0", "1", "0.0", "1.0"}


def auc_score(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half);
    NaN with one class only."""
    positives, negatives = predictions[labels > 0.5], predictions[labels <= 0.5]
    if not len(positives) or not len(negatives):
        return float("nan")
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + 0.5 * ties)


@register
class Binary(BinaryKind, TaskType):
    keras_loss = "binary_crossentropy"
    key_metric_class = "AUCFromHistogram"
    upper_gates = {"max_log_loss": "BinaryCrossEntropyFromCounts"}
    # From per-slice counts and the calibration plot's histogram; the plot is LeanCalibrationPlot
    # over [0, 1] at the AUC's buckets (tfma_metric_configs).
    tfma_metrics = ("ExampleCount", "MeanLabelFromCounts", "MeanPredictionFromCounts", "AUCFromHistogram",
                    "BinaryCrossEntropyFromCounts", "CalibrationFromCounts", "CalibrationPlot")
    tfma_metric_modules = {name: CLASSIFICATION_METRICS_MODULE for name in (
        "MeanLabelFromCounts", "MeanPredictionFromCounts", "AUCFromHistogram", "BinaryCrossEntropyFromCounts",
        "CalibrationFromCounts")}
    grouped_eval = True
    report_columns = (("AUC", "auc"), ("log loss", "binary_crossentropy"), ("calibration", "calibration"))
    metric_ranges = {"auc": (0.0, 1.0), "binary_crossentropy": (0.0, math.inf), "calibration": (0.0, math.inf)}
    serving_metric = "auc"
    fit_plot = CALIBRATION

    def encode_label(self, text: str, positive: Sequence[str] = (), classes: Sequence[str] = ()) -> float:
        # 1 for a declared positive value; without any, 0/1 as written.
        return float(text in positive) if positive else float(text)

    def encode_label_tensor(self, present, positive: Sequence[str] = (), classes: Sequence[str] = ()):
        import tensorflow as tf

        values = present.values
        if positive:
            text = values if values.dtype == tf.string else tf.strings.as_string(values)
            values = tf.reduce_any(tf.equal(text[:, None], tf.constant(list(positive))[None, :]), axis=1)
        elif values.dtype == tf.string:
            values = tf.strings.to_number(values, tf.float32)
        return tf.SparseTensor(present.indices, tf.cast(values, tf.float32), present.dense_shape)

    def label_problem(self, values: set[str], positive: Sequence[str] = (),
                      classes: Sequence[str] = ()) -> Optional[str]:
        if positive:
            if not values & set(positive):
                return (f"never holds the declared positive value(s) {list(positive)} in its first rows "
                        f"(it holds {text_values(values)}); fix 'positive'")
        elif not values <= BINARY_VALUES:
            others = sorted(values - BINARY_VALUES)
            return (f"holds values other than 0/1 ({text_values(others)}); declare the value(s) "
                    f"meaning 1, e.g. positive: {others[0]!r}")
        return None

    def keras_metrics(self, project_metrics: bool = True) -> list:
        import tf_keras

        return [tf_keras.metrics.AUC(name="auc"), tf_keras.metrics.BinaryCrossentropy(name="log_loss")]

    def served_output(self, output):
        import tensorflow as tf

        return tf.clip_by_value(output, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)

    def tfma_metric_configs(self, task, evaluation) -> dict:
        configs = super().tfma_metric_configs(task, evaluation)
        configs["CalibrationPlot"] = probability_plot_config()
        return configs

    def score(self, labels: np.ndarray, predictions: np.ndarray) -> float:
        return auc_score(labels, predictions)
