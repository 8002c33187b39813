"""Regression metrics for TFMA from one shared pass of running sums (numpy, no TF).

TFMA calls a metric's combiner once per example per slice, in Python. A
``tf_keras`` metric goes through a TF combiner (one graph call per batch and a
Keras metric object per slice), and each native TFMA metric unpacks the
example's label and prediction again. Here every regression metric of one
task output is derived from one combiner per slice that keeps six weighted
sums in float64: count, Σy, Σŷ, Σy², Σ(y−ŷ)², Σ|y−ŷ|. TFMA runs that
combiner once however many of these metrics are configured (its
computations are de-duplicated by key), and drops its private result.

Named in the EvalConfig by ``class_name`` and ``module`` (``MODULE``); the
metric names (``r2``, ``mean_squared_error``, ...) and values are those of the
metrics they replace. TFMA ignores ``module`` for a class name it registers
itself (``MeanSquaredError``, ``MeanLabel``, ...), hence the ``FromSums`` names.

``LeanCalibrationPlot`` is TFMA's predicted-against-actual plot with the same
buckets and output, its histogram combiner reading a scalar label and
prediction directly instead of through TFMA's general per-example unpacking.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Callable, Dict, Iterable, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import calibration_histogram, calibration_plot, metric_types, metric_util
from tensorflow_model_analysis.proto import config_pb2

MODULE = __name__
_SUMS_NAME = "_regression_sums"  # private: TFMA leaves names starting with "_" out of its results


class RegressionSums:
    """Weighted sums over examples; merged by adding."""

    __slots__ = ("weight", "sum_y", "sum_p", "sum_y2", "sse", "sae")

    def __init__(self, weight=0.0, sum_y=0.0, sum_p=0.0, sum_y2=0.0, sse=0.0, sae=0.0):
        self.weight, self.sum_y, self.sum_p = weight, sum_y, sum_p
        self.sum_y2, self.sse, self.sae = sum_y2, sse, sae

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
        """1 − SSE/SST; 0 when the labels are constant (no variance to explain)."""
        if not self.weight:
            return math.nan
        sst = self.sum_y2 - self.sum_y * self.sum_y / self.weight
        return 1.0 - self.sse / sst if sst > 0 else 0.0


def _select(value, model_name: str, output_name: str):
    """The value for one model and output from TFMA's (possibly nested) dicts."""
    if isinstance(value, Mapping) and model_name and model_name in value:
        value = value[model_name]
    if isinstance(value, Mapping) and output_name:
        value = value[output_name]
    return value


class _RegressionSumsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, example_weighted: bool):
        self._key = key
        self._example_weighted = example_weighted

    def create_accumulator(self) -> RegressionSums:
        return RegressionSums()

    def add_input(self, sums: RegressionSums, element: metric_types.StandardMetricInputs) -> RegressionSums:
        key = self._key
        labels = np.asarray(_select(element.label, key.model_name, key.output_name), dtype=np.float64).ravel()
        predictions = np.asarray(_select(element.prediction, key.model_name, key.output_name),
                                 dtype=np.float64).ravel()
        if labels.shape != predictions.shape:
            raise ValueError(f"{key.output_name or 'output'}: {labels.size} labels but "
                             f"{predictions.size} predictions in one example")
        if self._example_weighted and element.example_weight is not None:
            weight = np.asarray(_select(element.example_weight, key.model_name, key.output_name),
                                dtype=np.float64).ravel()
            weights = np.broadcast_to(weight, labels.shape)
        else:
            weights = np.ones_like(labels)
        if labels.size == 1:  # the common case, without numpy's per-call overhead
            y, p, w = labels.item(), predictions.item(), weights.item()
            e = y - p
            sums.weight += w
            sums.sum_y += w * y
            sums.sum_p += w * p
            sums.sum_y2 += w * y * y
            sums.sse += w * e * e
            sums.sae += w * abs(e)
        else:
            sums.add(labels, predictions, weights)
        return sums

    def merge_accumulators(self, accumulators: Iterable[RegressionSums]) -> RegressionSums:
        accumulators = iter(accumulators)
        result = next(accumulators)
        for sums in accumulators:
            result.merge(sums)
        return result

    def extract_output(self, sums: RegressionSums) -> Dict[metric_types.MetricKey, RegressionSums]:
        return {self._key: sums}


def _computations_for(statistic: Callable[[RegressionSums], float]):
    """TFMA computations of one metric: the shared sums, then the metric derived from them."""

    def computations(name: str, eval_config: Optional[config_pb2.EvalConfig] = None,
                     model_name: str = "", output_name: str = "",
                     sub_key: Optional[metric_types.SubKey] = None,
                     example_weighted: bool = False) -> metric_types.MetricComputations:
        del eval_config
        sums_key = metric_types.MetricKey(name=_SUMS_NAME, model_name=model_name, output_name=output_name,
                                          sub_key=sub_key, example_weighted=example_weighted)
        key = metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name,
                                     sub_key=sub_key, example_weighted=example_weighted)

        def result(metrics: Dict[metric_types.MetricKey, RegressionSums]) -> Dict[metric_types.MetricKey, float]:
            return {key: statistic(metrics[sums_key])}

        # Named per statistic: TFMA tells derived computations apart by their
        # result function's name and keys.
        result.__name__ = f"_regression_{statistic.__name__}"
        return [
            metric_types.MetricComputation(keys=[sums_key], preprocessors=None,
                                           combiner=_RegressionSumsCombiner(sums_key, example_weighted)),
            metric_types.DerivedMetricComputation(keys=[key], result=result),
        ]

    return computations


class _RegressionMetric(metric_types.Metric):
    statistic: Callable[[RegressionSums], float]
    default_name: str

    def __init__(self, name: Optional[str] = None):
        super().__init__(metric_util.merge_per_key_computations(_computations_for(type(self).statistic)),
                         name=name or self.default_name)


class R2(_RegressionMetric):
    """Coefficient of determination, 1 − SSE/SST (the project's scale-free gate)."""
    statistic, default_name = RegressionSums.r2, "r2"


class RootMeanSquaredError(_RegressionMetric):
    statistic, default_name = RegressionSums.root_mean_squared_error, "root_mean_squared_error"


class MeanSquaredErrorFromSums(_RegressionMetric):
    statistic, default_name = RegressionSums.mean_squared_error, "mean_squared_error"


class MeanAbsoluteErrorFromSums(_RegressionMetric):
    statistic, default_name = RegressionSums.mean_absolute_error, "mean_absolute_error"


class MeanLabelFromSums(_RegressionMetric):
    statistic, default_name = RegressionSums.mean_label, "mean_label"


class MeanPredictionFromSums(_RegressionMetric):
    statistic, default_name = RegressionSums.mean_prediction, "mean_prediction"


class _LeanCalibrationHistogramCombiner(calibration_histogram._CalibrationHistogramCombiner):  # noqa: SLF001
    """TFMA's calibration histogram; one scalar label and prediction per example read directly.

    Anything else (fractional labels, class weights, sub keys, several values
    per example) goes through TFMA's own ``add_input``.
    """

    def add_input(self, accumulator, element: metric_types.StandardMetricInputs):
        key = self._key
        if self._fractional_labels or self._class_weights or key.sub_key or self._aggregation_type:
            return super().add_input(accumulator, element)
        label = np.asarray(_select(element.label, key.model_name, key.output_name))
        prediction = np.asarray(_select(element.prediction, key.model_name, key.output_name))
        if label.size != 1 or prediction.size != 1 or self._example_weighted:
            return super().add_input(accumulator, element)
        label, prediction = float(label.item()), float(prediction.item())
        index = self._bucket_index(prediction if self._prediction_based_bucketing else label)
        bucket = accumulator.get(index)
        if bucket is None:
            accumulator[index] = calibration_histogram.Bucket(index, label, prediction, 1.0)
        else:
            bucket.weighted_labels += label
            bucket.weighted_predictions += prediction
            bucket.weighted_examples += 1.0
        return accumulator


def _lean_calibration_plot_computations(
        num_buckets: int = calibration_plot.DEFAULT_NUM_BUCKETS, left: Optional[float] = None,
        right: Optional[float] = None, name: str = calibration_plot.CALIBRATION_PLOT_NAME,
        eval_config: Optional[config_pb2.EvalConfig] = None, schema=None, model_name: str = "",
        output_name: str = "", sub_key: Optional[metric_types.SubKey] = None, aggregation_type=None,
        class_weights: Optional[Dict[int, float]] = None,
        example_weighted: bool = False) -> metric_types.MetricComputations:
    """TFMA's calibration plot computations, its histogram combiner swapped for the lean one."""
    computations = calibration_plot._calibration_plot(  # noqa: SLF001
        num_buckets=num_buckets, left=left, right=right, name=name, eval_config=eval_config, schema=schema,
        model_name=model_name, output_name=output_name, sub_key=sub_key, aggregation_type=aggregation_type,
        class_weights=class_weights, example_weighted=example_weighted)
    swapped = []
    for computation in computations:
        combiner = getattr(computation, "combiner", None)
        if type(combiner) is calibration_histogram._CalibrationHistogramCombiner:  # noqa: SLF001
            lean = _LeanCalibrationHistogramCombiner.__new__(_LeanCalibrationHistogramCombiner)
            lean.__dict__.update(combiner.__dict__)  # same key, buckets and options
            computation = metric_types.MetricComputation(
                keys=computation.keys, preprocessors=computation.preprocessors, combiner=lean)
        swapped.append(computation)
    return swapped


class LeanCalibrationPlot(metric_types.Metric):
    """TFMA's ``CalibrationPlot`` (same buckets, same plot), reading each example's values directly."""

    def __init__(self, num_buckets: int = calibration_plot.DEFAULT_NUM_BUCKETS, left: Optional[float] = None,
                 right: Optional[float] = None, name: str = calibration_plot.CALIBRATION_PLOT_NAME):
        super().__init__(metric_util.merge_per_key_computations(_lean_calibration_plot_computations),
                         num_buckets=num_buckets, left=left, right=right, name=name)
