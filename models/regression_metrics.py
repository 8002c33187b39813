"""Regression metrics for TFMA from one shared pass of running sums (numpy, no TF).

TFMA calls a metric's combiner once per example per slice, in Python. A
``tf_keras`` metric goes through a TF combiner (one graph call per batch and a
Keras metric object per slice), and each native TFMA metric unpacks the
example's label and prediction again. Here every regression metric of one
task output is derived from one combiner per slice that keeps six weighted
sums in float64: count, Σy, Σŷ, Σy², Σ(y−ŷ)², Σ|y−ŷ|. TFMA runs that
combiner once however many of these metrics are configured (its
computations are de-duplicated by key), and drops its private result.

Named in the EvalConfig by ``class_name`` and ``module`` (``MODULE``, the regression task type's
``REGRESSION_METRICS_MODULE``); the
metric names (``r2``, ``mean_squared_error``, ...) and values are those of the
metrics they replace. TFMA ignores ``module`` for a class name it registers
itself (``MeanSquaredError``, ``MeanLabel``, ...), hence the ``FromSums`` names.

``LeanCalibrationPlot`` is TFMA's predicted-against-actual plot with the same
buckets and output, counted straight into the plot's buckets in dense numpy
arrays instead of TFMA's 10,000-bucket dict of one object per bucket. Both combiners take one example or a
group of them (``models.slice_groups``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Callable, Dict, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import calibration_plot, metric_types, metric_util
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2

from models import tfma_fixes
from models.tasks.regression import RegressionSums

MODULE = __name__
_SUMS_NAME = "_regression_sums"  # private: TFMA leaves names starting with "_" out of its results


def _select(value, model_name: str, output_name: str):
    """The value for one model and output from TFMA's (possibly nested) dicts."""
    if isinstance(value, Mapping) and model_name and model_name in value:
        value = value[model_name]
    if isinstance(value, Mapping) and output_name:
        value = value[output_name]
    return value


def _labels_predictions_weights(element: metric_types.StandardMetricInputs, key: metric_types.MetricKey,
                                example_weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One output's labels, predictions and weights as flat float64 arrays of one length.

    One example gives arrays of one value; a group of examples
    (``models.slice_groups``) one value per example. With a class id in the
    key's ``sub_key`` (a class output, one class against the rest, as TFMA's
    ``binarize``): the label is 1 where it is that class, the prediction that
    class's probability.
    """
    labels = np.asarray(_select(element.label, key.model_name, key.output_name), dtype=np.float64).ravel()
    predictions = np.asarray(_select(element.prediction, key.model_name, key.output_name), dtype=np.float64)
    class_id = key.sub_key.class_id if key.sub_key is not None else None
    if class_id is not None:
        predictions = predictions.reshape(labels.size, -1)[:, class_id]
        labels = (labels == class_id).astype(np.float64)
    predictions = predictions.ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"{key.output_name or 'output'}: {labels.size} labels but "
                         f"{predictions.size} predictions")
    if example_weighted and element.example_weight is not None:
        weight = np.asarray(_select(element.example_weight, key.model_name, key.output_name),
                            dtype=np.float64).ravel()
        return labels, predictions, np.broadcast_to(weight, labels.shape)
    return labels, predictions, np.ones_like(labels)


class _RegressionSumsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, example_weighted: bool):
        self._key = key
        self._example_weighted = example_weighted

    def create_accumulator(self) -> RegressionSums:
        return RegressionSums()

    def add_input(self, sums: RegressionSums, element: metric_types.StandardMetricInputs) -> RegressionSums:
        labels, predictions, weights = _labels_predictions_weights(element, self._key, self._example_weighted)
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

    merge_accumulators = tfma_fixes.merge_each_once

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


class R2FromSums(_RegressionMetric):
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


class DenseHistogram:
    """Per bucket: rows seen and weighted sums of labels, predictions and weights, as one array.

    ``sums[ROWS | LABELS | PREDICTIONS | WEIGHTS, bucket]`` in float64. Merged
    by adding arrays, and pickled as the columns of the buckets with rows:
    Beam encodes accumulators between stages and the jackknife merges them
    for every sample, which for TFMA's dict of one object per bucket cost more
    than the metrics.
    """

    ROWS, LABELS, PREDICTIONS, WEIGHTS = range(4)
    __slots__ = ("sums",)

    def __init__(self, size: int):
        self.sums = np.zeros((4, size))

    def add(self, index: np.ndarray, labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray) -> None:
        """Rows falling in buckets ``index``; one bincount over the four sums."""
        size = self.sums.shape[1]
        offsets = np.concatenate([index + i * size for i in range(4)])
        values = np.concatenate([np.ones_like(weights), labels * weights, predictions * weights, weights])
        self.sums += np.bincount(offsets, weights=values, minlength=4 * size).reshape(4, size)

    def merge(self, other: "DenseHistogram") -> None:
        self.sums += other.sums

    def plot_proto(self, thresholds: list[float]) -> metrics_for_slice_pb2.CalibrationHistogramBuckets:
        """TFMA's plot proto: bucket ``i`` spans ``[thresholds[i], thresholds[i + 1])``; empty buckets left out.

        TFMA lists every bucket; the empty ones carry nothing but their
        thresholds, and building them was most of the plot's cost, once per
        jackknife sample and slice.
        """
        seen = np.flatnonzero(self.sums[self.ROWS])
        upper = thresholds[1:] + [math.inf]
        bucket = metrics_for_slice_pb2.CalibrationHistogramBuckets.Bucket
        return metrics_for_slice_pb2.CalibrationHistogramBuckets(buckets=[
            bucket(lower_threshold_inclusive=thresholds[i], upper_threshold_exclusive=upper[i],
                   total_weighted_label={"value": label}, total_weighted_refined_prediction={"value": prediction},
                   num_weighted_examples={"value": weight})
            for i, label, prediction, weight in zip(
                seen.tolist(), *(self.sums[row, seen].tolist()
                                 for row in (self.LABELS, self.PREDICTIONS, self.WEIGHTS)))])

    def __getstate__(self):
        # Only the buckets with rows: Beam buffers every bundle's accumulators per slice and
        # jackknife bucket, and most hold a few examples in a few of the 1,002 buckets.
        seen = np.flatnonzero(self.sums[self.ROWS])
        return self.sums.shape[1], seen.astype(np.int32), self.sums[:, seen]

    def __setstate__(self, state):
        size, seen, values = state
        self.sums = np.zeros((4, size))
        self.sums[:, seen] = values


class _DenseHistogramCombiner(beam.CombineFn):
    """Per prediction bucket of the plot: rows and weighted sums, in dense arrays.

    Buckets as TFMA's calibration histogram numbers them (0 below ``left``,
    ``num_buckets + 1`` from ``right`` up), but at the plot's resolution, so
    no rebinning is needed. Takes one example or a group of them. Rows with
    a NaN prediction are left out of the plot (TFMA's own histogram fails on
    them); the metrics still count them.
    """

    def __init__(self, key: metric_types.PlotKey, example_weighted: bool, num_buckets: int,
                 left: float, right: float):
        self._key, self._example_weighted = key, example_weighted
        self._num_buckets, self._left, self._range = num_buckets, left, right - left

    def create_accumulator(self) -> DenseHistogram:
        return DenseHistogram(self._num_buckets + 2)

    def add_input(self, histogram: DenseHistogram, element: metric_types.StandardMetricInputs) -> DenseHistogram:
        labels, predictions, weights = _labels_predictions_weights(element, self._key, self._example_weighted)
        if np.isnan(predictions).any():
            keep = ~np.isnan(predictions)
            labels, predictions, weights = labels[keep], predictions[keep], weights[keep]
        position = (predictions - self._left) / self._range * self._num_buckets + 1
        # As TFMA's calibration histogram: below range -> 0, above -> num_buckets + 1, else truncated.
        index = np.where(position < 0, 0, np.minimum(position, self._num_buckets + 1)).astype(np.int64)
        histogram.add(index, labels, predictions, weights)
        return histogram

    merge_accumulators = tfma_fixes.merge_each_once

    def extract_output(self, histogram: DenseHistogram) -> Dict[metric_types.PlotKey, DenseHistogram]:
        # The arrays themselves: Beam encodes this output for every jackknife sample.
        return {self._key: histogram}


def _lean_calibration_plot_computations(
        num_buckets: int = calibration_plot.DEFAULT_NUM_BUCKETS, left: Optional[float] = None,
        right: Optional[float] = None, name: str = calibration_plot.CALIBRATION_PLOT_NAME,
        eval_config: Optional[config_pb2.EvalConfig] = None, schema=None, model_name: str = "",
        output_name: str = "", sub_key: Optional[metric_types.SubKey] = None, aggregation_type=None,
        class_weights: Optional[Dict[int, float]] = None,
        example_weighted: bool = False) -> metric_types.MetricComputations:
    """A dense histogram at the plot's buckets, then TFMA's plot proto from it.

    TFMA's own CalibrationPlot (kept for class outputs, or without a range)
    fills a 10,000-bucket histogram and rebins it; the jackknife merges and
    encodes that histogram for every sample and slice.
    """
    if sub_key or aggregation_type or class_weights or left is None or right is None:
        return calibration_plot._calibration_plot(  # noqa: SLF001
            num_buckets=num_buckets, left=left, right=right, name=name, eval_config=eval_config, schema=schema,
            model_name=model_name, output_name=output_name, sub_key=sub_key, aggregation_type=aggregation_type,
            class_weights=class_weights, example_weighted=example_weighted)
    plot_key = metric_types.PlotKey(name=name, model_name=model_name, output_name=output_name,
                                    example_weighted=example_weighted)
    histogram = dense_histogram_computation(num_buckets, left, right, model_name, output_name, None,
                                            example_weighted)
    histogram_key = histogram.keys[0]
    thresholds = [-math.inf] + [left + i * (right - left) / num_buckets for i in range(num_buckets + 1)]

    def result(metrics: Dict[metric_types.MetricKey, DenseHistogram]) -> Dict[metric_types.PlotKey, object]:
        return {plot_key: metrics[histogram_key].plot_proto(thresholds)}

    result.__name__ = f"_lean_calibration_plot_{num_buckets}_{left}_{right}"
    return [histogram, metric_types.DerivedMetricComputation(keys=[plot_key], result=result)]


def dense_histogram_computation(num_buckets: int, left: float, right: float, model_name: str, output_name: str,
                                sub_key: Optional[metric_types.SubKey],
                                example_weighted: bool) -> metric_types.MetricComputation:
    """The per-bucket sums of one output (one class of it, with a ``sub_key``).

    Named by its buckets, so that every metric reading the same buckets (the
    calibration plot, the AUC of ``models.classification_metrics``) shares
    one combiner: TFMA runs each computation key once.
    """
    key = metric_types.PlotKey(name=f"_dense_histogram_{num_buckets}_{left}_{right}", model_name=model_name,
                               output_name=output_name, sub_key=sub_key, example_weighted=example_weighted)
    return metric_types.MetricComputation(
        keys=[key], preprocessors=None,
        combiner=_DenseHistogramCombiner(key, example_weighted, num_buckets, left, right))


class LeanCalibrationPlot(metric_types.Metric):
    """TFMA's ``CalibrationPlot`` (same buckets, same plot), reading each example's values directly."""

    def __init__(self, num_buckets: int = calibration_plot.DEFAULT_NUM_BUCKETS, left: Optional[float] = None,
                 right: Optional[float] = None, name: str = calibration_plot.CALIBRATION_PLOT_NAME):
        super().__init__(metric_util.merge_per_key_computations(_lean_calibration_plot_computations),
                         num_buckets=num_buckets, left=left, right=right, name=name)
