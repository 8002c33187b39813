"""Binary and multiclass metrics for TFMA from per-slice counts and histograms (numpy, no TF).

As ``models.regression_metrics`` does for regression: each combiner keeps a
few weighted sums per slice in float64, takes one example or a group of them
(``models.slice_groups``) as arrays, and merges by adding. The metrics then
derive from those sums:

- ``BinaryCounts`` (one output, or one class of a class output against the
  rest): Σw, Σw·y, Σw·p, Σw·log loss and the confusion matrix at 0.5. Mean
  label, mean prediction, calibration, log loss, accuracy, precision, recall.
- the calibration plot's histogram, 1,000 buckets over [0, 1]
  (``regression_metrics.dense_histogram_computation``): the AUC, from the
  confusion matrices at every bucket edge (the ROC curve through them, by the
  trapezoid rule, as TFMA's AUC). A positive and a negative in one bucket
  count half a correctly ordered pair, so the AUC is within half the share
  of such pairs (``auc_tie_share``) of the exact one; TFMA's AUC, from
  10,000 buckets, is within half its own share, so the two differ by at most
  ``(share at 1/1,000 + share at 1/10,000) / 2``.
- ``MulticlassCounts``: Σw, Σw·[argmax = label], Σw·cross entropy and the
  weighted confusion matrix (actual × predicted class).

Per-class metrics and the macro AUC come from TFMA's own ``binarize`` and
``aggregate`` options, which call these metrics once per class id
(``sub_key``) and average them; they stay per-slice groups.

Values TFMA leaves at 0 when undefined are NaN here: the AUC of a slice with
one class only (TFMA's sum skips its 0/0 terms), precision without predicted
positives, recall without positives.

Named in the EvalConfig by ``class_name`` and ``module`` (``MODULE``), under
names TFMA does not register itself; the metric names in the results
(``auc``, ``binary_crossentropy``, ``calibration``, ...) are TFMA's.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util, multi_class_confusion_matrix_plot
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2

from models import tfma_fixes
from models.regression_metrics import (DenseHistogram, _labels_predictions_weights, _select,
                                       dense_histogram_computation)
from models.tasks.binary import PROBABILITY_BUCKETS

MODULE = __name__
# The AUC reads the binary calibration plot's histogram (models.tasks.binary): the same buckets.
AUC_BUCKETS, AUC_LEFT, AUC_RIGHT = PROBABILITY_BUCKETS, 0.0, 1.0
# Predicted positive above this probability (TFMA's default for precision and recall).
THRESHOLD = 0.5
# Keras clips class probabilities so before taking logs (tf_keras.backend.epsilon()).
_KERAS_EPSILON = 1e-7
_COUNTS_NAME = "_binary_counts"
_MULTICLASS_NAME = "_multiclass_counts"


def _ratio(numerator: float, denominator: float) -> float:
    """NaN where the denominator is 0 (or float noise around it), as TFMA's means."""
    return numerator / denominator if not math.isclose(denominator, 0.0, abs_tol=1e-12) else math.nan


class BinaryCounts:
    """Weighted sums of one binary output; merged by adding."""

    __slots__ = ("weight", "positives", "predicted", "loss", "tp", "fp", "fn")

    def __init__(self):
        self.weight = self.positives = self.predicted = self.loss = 0.0
        self.tp = self.fp = self.fn = 0.0

    def add(self, labels: np.ndarray, predictions: np.ndarray, weights: np.ndarray) -> None:
        above = predictions > THRESHOLD
        # TFMA's BinaryCrossEntropy: no clipping (the serving signature clips instead); 0·log 0 is NaN there too.
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = -labels * np.log(predictions) - (1.0 - labels) * np.log(1.0 - predictions)
        self.weight += float(np.sum(weights))
        self.positives += float(np.dot(weights, labels))
        self.predicted += float(np.dot(weights, predictions))
        self.loss += float(np.dot(weights, loss))
        self.tp += float(np.dot(weights[above], labels[above]))
        self.fp += float(np.dot(weights[above], 1.0 - labels[above]))
        self.fn += float(np.dot(weights[~above], labels[~above]))

    def merge(self, other: "BinaryCounts") -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def tn(self) -> float:
        return self.weight - self.positives - self.fp

    def mean_label(self) -> float:
        return _ratio(self.positives, self.weight)

    def mean_prediction(self) -> float:
        return _ratio(self.predicted, self.weight)

    def calibration(self) -> float:
        """Σw·p / Σw·y: 1 is calibrated on average."""
        return _ratio(self.predicted, self.positives)

    def binary_crossentropy(self) -> float:
        return _ratio(self.loss, self.weight)

    def binary_accuracy(self) -> float:
        return _ratio(self.tp + self.tn, self.weight)

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp > 0 else math.nan

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn > 0 else math.nan


def _positives_negatives(histogram: DenseHistogram) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positives and negatives per bucket (labels may be fractional, as TFMA allows)."""
    positives = histogram.sums[DenseHistogram.LABELS]
    return positives, histogram.sums[DenseHistogram.WEIGHTS] - positives


def auc(histogram: DenseHistogram) -> float:
    """Area under the ROC curve through the confusion matrices at the bucket edges (trapezoid rule).

    Equal to the share of positive–negative pairs the scores order correctly,
    a pair in one bucket counting half. NaN without positives or negatives:
    no curve to measure.
    """
    positives, negatives = _positives_negatives(histogram)
    total_positives, total_negatives = positives.sum(), negatives.sum()
    if total_positives <= 0 or total_negatives <= 0:
        return math.nan
    negatives_below = np.cumsum(negatives) - negatives
    ordered = np.dot(positives, negatives_below + 0.5 * negatives)
    return float(min(1.0, max(0.0, ordered / (total_positives * total_negatives))))


def auc_tie_share(histogram: DenseHistogram) -> float:
    """The share of positive–negative pairs in one bucket: twice the most the AUC can be off the exact one."""
    positives, negatives = _positives_negatives(histogram)
    total = positives.sum() * negatives.sum()
    return float(np.dot(positives, negatives) / total) if total > 0 else math.nan


class _BinaryCountsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, example_weighted: bool):
        self._key = key
        self._example_weighted = example_weighted

    def create_accumulator(self) -> BinaryCounts:
        return BinaryCounts()

    def add_input(self, counts: BinaryCounts, element: metric_types.StandardMetricInputs) -> BinaryCounts:
        counts.add(*_labels_predictions_weights(element, self._key, self._example_weighted))
        return counts

    merge_accumulators = tfma_fixes.merge_each_once

    def extract_output(self, counts: BinaryCounts) -> Dict[metric_types.MetricKey, BinaryCounts]:
        return {self._key: counts}


def _key(name: str, model_name: str, output_name: str, sub_key, example_weighted: bool,
         aggregation_type=None) -> metric_types.MetricKey:
    return metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name, sub_key=sub_key,
                                  aggregation_type=aggregation_type, example_weighted=example_weighted)


def _from_counts(statistic: Callable[[BinaryCounts], float]):
    """TFMA computations of one metric: the shared counts, then the metric derived from them."""

    def computations(name: str, eval_config: Optional[config_pb2.EvalConfig] = None, model_name: str = "",
                     output_name: str = "", sub_key: Optional[metric_types.SubKey] = None,
                     aggregation_type=None, class_weights=None,
                     example_weighted: bool = False) -> metric_types.MetricComputations:
        del eval_config, class_weights
        counts_key = _key(_COUNTS_NAME, model_name, output_name, sub_key, example_weighted)
        key = _key(name, model_name, output_name, sub_key, example_weighted, aggregation_type)

        def result(metrics: Dict[metric_types.MetricKey, BinaryCounts]) -> Dict[metric_types.MetricKey, float]:
            return {key: statistic(metrics[counts_key])}

        result.__name__ = f"_binary_{statistic.__name__}"  # TFMA tells derived computations apart by name
        return [metric_types.MetricComputation(keys=[counts_key], preprocessors=None,
                                               combiner=_BinaryCountsCombiner(counts_key, example_weighted)),
                metric_types.DerivedMetricComputation(keys=[key], result=result)]

    return computations


def _auc_computations(name: str, eval_config: Optional[config_pb2.EvalConfig] = None, model_name: str = "",
                      output_name: str = "", sub_key: Optional[metric_types.SubKey] = None,
                      aggregation_type=None, class_weights=None,
                      example_weighted: bool = False) -> metric_types.MetricComputations:
    del eval_config, class_weights
    histogram = dense_histogram_computation(AUC_BUCKETS, AUC_LEFT, AUC_RIGHT, model_name, output_name, sub_key,
                                            example_weighted)
    histogram_key = histogram.keys[0]
    key = _key(name, model_name, output_name, sub_key, example_weighted, aggregation_type)

    def result(metrics: Dict[metric_types.MetricKey, DenseHistogram]) -> Dict[metric_types.MetricKey, float]:
        return {key: auc(metrics[histogram_key])}

    result.__name__ = "_auc_from_histogram"
    return [histogram, metric_types.DerivedMetricComputation(keys=[key], result=result)]


class _ClassificationMetric(metric_types.Metric):
    computations_fn: Callable
    default_name: str

    def __init__(self, name: Optional[str] = None):
        super().__init__(metric_util.merge_per_key_computations(type(self).computations_fn),
                         name=name or self.default_name)


class AUCFromHistogram(_ClassificationMetric):
    """ROC AUC of a binary output or (binarized) one class, from the calibration plot's histogram."""
    computations_fn, default_name = staticmethod(_auc_computations), "auc"


class MeanLabelFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.mean_label)), "mean_label"


class MeanPredictionFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.mean_prediction)), "mean_prediction"


class CalibrationFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.calibration)), "calibration"


class BinaryCrossEntropyFromCounts(_ClassificationMetric):
    computations_fn = staticmethod(_from_counts(BinaryCounts.binary_crossentropy))
    default_name = "binary_crossentropy"


class BinaryAccuracyFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.binary_accuracy)), "binary_accuracy"


class PrecisionFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.precision)), "precision"


class RecallFromCounts(_ClassificationMetric):
    computations_fn, default_name = staticmethod(_from_counts(BinaryCounts.recall)), "recall"


class MulticlassCounts:
    """Weighted sums of one class output: examples, correct ones, cross entropy, and the confusion matrix.

    ``matrix[actual, predicted]`` holds weights, ``seen[actual, predicted]``
    rows (so that a cell of zero-weight rows is still listed, as TFMA lists
    it); both grow to the largest class id met.
    """

    __slots__ = ("weight", "correct", "loss", "matrix", "seen")

    def __init__(self):
        self.weight = self.correct = self.loss = 0.0
        self.matrix = np.zeros((0, 0))
        self.seen = np.zeros((0, 0))

    @staticmethod
    def _grown(array: np.ndarray, size: int) -> np.ndarray:
        if array.shape[0] >= size:
            return array
        grown = np.zeros((size, size))
        grown[:array.shape[0], :array.shape[1]] = array
        return grown

    def _add_cells(self, actual: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> None:
        size = max(self.matrix.shape[0], int(actual.max()) + 1, int(predicted.max()) + 1)
        self.matrix, self.seen = self._grown(self.matrix, size), self._grown(self.seen, size)
        cells = actual * size + predicted
        self.matrix += np.bincount(cells, weights=weights, minlength=size * size).reshape(size, size)
        self.seen += np.bincount(cells, minlength=size * size).reshape(size, size)

    def add(self, labels: np.ndarray, probabilities: np.ndarray, weights: np.ndarray) -> None:
        actual = labels.astype(np.int64)
        predicted = np.argmax(probabilities, axis=1)
        # As Keras' sparse categorical cross entropy on probabilities: clipped, then normalized.
        clipped = np.clip(probabilities, _KERAS_EPSILON, 1.0 - _KERAS_EPSILON)
        loss = np.log(clipped.sum(axis=1)) - np.log(clipped[np.arange(actual.size), actual])
        self.weight += float(np.sum(weights))
        self.correct += float(np.dot(weights, predicted == actual))
        self.loss += float(np.dot(weights, loss))
        self._add_cells(actual, predicted, weights)

    def merge(self, other: "MulticlassCounts") -> None:
        self.weight += other.weight
        self.correct += other.correct
        self.loss += other.loss
        size = max(self.matrix.shape[0], other.matrix.shape[0])
        self.matrix = self._grown(self.matrix, size) + self._grown(other.matrix, size)
        self.seen = self._grown(self.seen, size) + self._grown(other.seen, size)

    def sparse_categorical_accuracy(self) -> float:
        return _ratio(self.correct, self.weight)

    def sparse_categorical_crossentropy(self) -> float:
        return _ratio(self.loss, self.weight)

    def confusion_matrix_plot(self) -> metrics_for_slice_pb2.MultiClassConfusionMatrixAtThresholds:
        """TFMA's MultiClassConfusionMatrixPlot at its default threshold 0: every cell with rows, in order.

        (A top probability of exactly 0 would be TFMA's "no prediction";
        softmax outputs are never 0 everywhere.)
        """
        proto = metrics_for_slice_pb2.MultiClassConfusionMatrixAtThresholds()
        matrix = proto.matrices.add(threshold=0.0)
        for actual, predicted in zip(*np.nonzero(self.seen)):
            matrix.entries.add(actual_class_id=int(actual), predicted_class_id=int(predicted),
                               num_weighted_examples=float(self.matrix[actual, predicted]))
        return proto

    def __getstate__(self):
        return self.weight, self.correct, self.loss, self.matrix, self.seen

    def __setstate__(self, state):
        self.weight, self.correct, self.loss, self.matrix, self.seen = state


def _class_inputs(element: metric_types.StandardMetricInputs, key: metric_types.MetricKey,
                  example_weighted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class ids (one per row), class probabilities (a row each) and weights of one class output."""
    labels = np.asarray(_select(element.label, key.model_name, key.output_name), dtype=np.float64).ravel()
    probabilities = np.asarray(_select(element.prediction, key.model_name, key.output_name), dtype=np.float64)
    probabilities = probabilities.reshape(labels.size, -1)
    if example_weighted and element.example_weight is not None:
        weight = np.asarray(_select(element.example_weight, key.model_name, key.output_name),
                            dtype=np.float64).ravel()
        return labels, probabilities, np.broadcast_to(weight, labels.shape)
    return labels, probabilities, np.ones_like(labels)


class _MulticlassCountsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, example_weighted: bool):
        self._key = key
        self._example_weighted = example_weighted

    def create_accumulator(self) -> MulticlassCounts:
        return MulticlassCounts()

    def add_input(self, counts: MulticlassCounts, element: metric_types.StandardMetricInputs) -> MulticlassCounts:
        counts.add(*_class_inputs(element, self._key, self._example_weighted))
        return counts

    merge_accumulators = tfma_fixes.merge_each_once

    def extract_output(self, counts: MulticlassCounts) -> Dict[metric_types.MetricKey, MulticlassCounts]:
        return {self._key: counts}


def _from_class_counts(statistic: Callable[[MulticlassCounts], object], plot: bool = False):
    def computations(name: str, eval_config: Optional[config_pb2.EvalConfig] = None, model_name: str = "",
                     output_name: str = "", sub_key: Optional[metric_types.SubKey] = None,
                     aggregation_type=None, class_weights=None,
                     example_weighted: bool = False) -> metric_types.MetricComputations:
        del eval_config, class_weights, aggregation_type, sub_key  # one value per class output
        counts_key = _key(_MULTICLASS_NAME, model_name, output_name, None, example_weighted)
        key_type = metric_types.PlotKey if plot else metric_types.MetricKey
        key = key_type(name=name, model_name=model_name, output_name=output_name,
                       example_weighted=example_weighted)

        def result(metrics: Dict[metric_types.MetricKey, MulticlassCounts]) -> Dict[metric_types.MetricKey, object]:
            return {key: statistic(metrics[counts_key])}

        result.__name__ = f"_multiclass_{statistic.__name__}"
        return [metric_types.MetricComputation(keys=[counts_key], preprocessors=None,
                                               combiner=_MulticlassCountsCombiner(counts_key, example_weighted)),
                metric_types.DerivedMetricComputation(keys=[key], result=result)]

    return computations


class SparseCategoricalAccuracyFromCounts(_ClassificationMetric):
    computations_fn = staticmethod(_from_class_counts(MulticlassCounts.sparse_categorical_accuracy))
    default_name = "sparse_categorical_accuracy"


class SparseCategoricalCrossentropyFromCounts(_ClassificationMetric):
    computations_fn = staticmethod(_from_class_counts(MulticlassCounts.sparse_categorical_crossentropy))
    default_name = "sparse_categorical_crossentropy"


class MultiClassConfusionMatrixPlotFromCounts(_ClassificationMetric):
    computations_fn = staticmethod(_from_class_counts(MulticlassCounts.confusion_matrix_plot, plot=True))
    default_name = multi_class_confusion_matrix_plot.MULTI_CLASS_CONFUSION_MATRIX_PLOT_NAME
