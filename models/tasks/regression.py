"""Regression: a number per example, fitted by mean squared error and gated on R²."""

from __future__ import annotations

import json
import math
from typing import Optional, Sequence

import numpy as np

from config.task_kinds import RegressionKind
from models.tasks.base import PREDICTED_AGAINST_ACTUAL, TaskType, is_number, register

# The project's TFMA metrics for regression (one shared pass of sums per slice).
REGRESSION_METRICS_MODULE = "models.regression_metrics"


class RegressionSums:
    """Weighted sums over examples, merged by adding: every regression metric is derived from them."""

    __slots__ = ("weight", "sum_y", "sum_p", "sum_y2", "sse", "sae")

    def __init__(self, weight=0.0, sum_y=0.0, sum_p=0.0, sum_y2=0.0, sse=0.0, sae=0.0):
        self.weight, self.sum_y, self.sum_p = weight, sum_y, sum_p
        self.sum_y2, self.sse, self.sae = sum_y2, sse, sae

    @classmethod
    def of(cls, labels: np.ndarray, predictions: np.ndarray) -> "RegressionSums":
        sums = cls()
        sums.add(np.asarray(labels, np.float64), np.asarray(predictions, np.float64),
                 np.ones(np.shape(labels), np.float64))
        return sums

    def add(self, labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray) -> None:
        errors = labels - predictions
        self.weight += float(np.sum(weights))
        self.sum_y += float(np.dot(weights, labels))
        self.sum_p += float(np.dot(weights, predictions))
        self.sum_y2 += float(np.dot(weights, labels * labels))
        self.sse += float(np.dot(weights, errors * errors))
        self.sae += float(np.dot(weights, np.abs(errors)))

    def merge(self, other: "RegressionSums") -> None:
        self.weight += other.weight
        self.sum_y += other.sum_y
        self.sum_p += other.sum_p
        self.sum_y2 += other.sum_y2
        self.sse += other.sse
        self.sae += other.sae

    # What each metric is, given the sums (NaN without examples, as TFMA's own metrics).
    def mean_squared_error(self) -> float:
        return self.sse / self.weight if self.weight else math.nan

    def root_mean_squared_error(self) -> float:
        return math.sqrt(self.sse / self.weight) if self.weight else math.nan

    def mean_absolute_error(self) -> float:
        return self.sae / self.weight if self.weight else math.nan

    def mean_label(self) -> float:
        return self.sum_y / self.weight if self.weight else math.nan

    def mean_prediction(self) -> float:
        return self.sum_p / self.weight if self.weight else math.nan

    def r2(self) -> float:
        """1 − SSE/SST; NaN (undefined) when the labels are constant: no variance to explain."""
        if not self.weight:
            return math.nan
        sst = self.sum_y2 - self.sum_y * self.sum_y / self.weight
        # Constant labels leave float noise of Σy²'s size in SST, not 0.
        return 1.0 - self.sse / sst if sst > 1e-12 * max(self.sum_y2, 1e-300) else math.nan


def r2_score(labels: np.ndarray, predictions: np.ndarray) -> float:
    """R² of predictions against labels, as the Evaluator computes it."""
    return RegressionSums.of(labels, predictions).r2()


@register
class Regression(RegressionKind, TaskType):
    keras_loss = "mse"
    likelihood_scale = 0.5  # MSE is a Gaussian negative log likelihood
    key_metric_class = "R2FromSums"
    upper_gates = {"max_mse": "MeanSquaredErrorFromSums"}
    # All but the count from one numpy pass per slice; the plot is LeanCalibrationPlot over
    # the configured prediction range (tfma_metric_configs).
    tfma_metrics = ("ExampleCount", "MeanLabelFromSums", "MeanPredictionFromSums", "MeanSquaredErrorFromSums",
                    "MeanAbsoluteErrorFromSums", "RootMeanSquaredError", "R2FromSums", "CalibrationPlot")
    tfma_metric_modules = {name: REGRESSION_METRICS_MODULE for name in (
        "MeanLabelFromSums", "MeanPredictionFromSums", "MeanSquaredErrorFromSums",
        "MeanAbsoluteErrorFromSums", "RootMeanSquaredError", "R2FromSums")}
    grouped_eval = True
    report_columns = (("R²", "r2"), ("MSE", "mean_squared_error"), ("MAE", "mean_absolute_error"),
                      ("RMSE", "root_mean_squared_error"))
    # TFMA's intervals (value ± t·s) can reach past these; the report cuts them there.
    metric_ranges = {"r2": (-math.inf, 1.0), "mean_squared_error": (0.0, math.inf),
                     "root_mean_squared_error": (0.0, math.inf), "mean_absolute_error": (0.0, math.inf)}
    serving_metric = "r2"
    fit_plot = PREDICTED_AGAINST_ACTUAL

    def encode_label(self, text: str, positive: Sequence[str] = (), classes: Sequence[str] = ()) -> float:
        return float(text)

    def encode_label_tensor(self, present, positive: Sequence[str] = (), classes: Sequence[str] = ()):
        import tensorflow as tf

        values = present.values
        if values.dtype == tf.string:
            values = tf.strings.to_number(values, tf.float32)
        return tf.SparseTensor(present.indices, tf.cast(values, tf.float32), present.dense_shape)

    def label_problem(self, values: set[str], positive: Sequence[str] = (),
                      classes: Sequence[str] = ()) -> Optional[str]:
        bad = {v for v in values if not is_number(v)}
        if bad:
            return (f"holds non-numbers ({', '.join(map(repr, sorted(bad)[:3]))}); "
                    "use a numeric column or make the task binary with its positive value(s)")
        return None

    def keras_metrics(self, project_metrics: bool = True) -> list:
        import tf_keras

        metrics = [tf_keras.metrics.MeanSquaredError(name="mse"), tf_keras.metrics.MeanAbsoluteError(name="mae")]
        if project_metrics:
            from models.metrics import R2Score
            metrics.append(R2Score(name="r2"))
        return metrics

    def tfma_metric_configs(self, task, evaluation) -> dict:
        import tensorflow_model_analysis as tfma

        configs = super().tfma_metric_configs(task, evaluation)
        low, high = evaluation.regression_plot_range
        # Predicted against actual: mean label per narrow prediction bucket, read straight
        # from each example's (or group's) values.
        configs["CalibrationPlot"] = tfma.MetricConfig(
            class_name="LeanCalibrationPlot", module=REGRESSION_METRICS_MODULE,
            config=json.dumps({"num_buckets": 1000, "left": low, "right": high}))
        return configs

    def score(self, labels: np.ndarray, predictions: np.ndarray) -> float:
        return r2_score(labels, predictions)
