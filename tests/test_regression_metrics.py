"""The Evaluator's regression metrics (one shared numpy pass) against numpy and TFMA's own metrics.

A real TFMA run on Beam (``tfma.analyze_raw_data``) over labels and
predictions, sliced; every value is compared with an independent numpy
computation over the same rows, and with TFMA's native metric of that name.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow_model_analysis as tfma

from models import regression_metrics
from models.regression_metrics import RegressionSums

OURS = {"R2FromSums": "r2", "MeanSquaredErrorFromSums": "mean_squared_error",
        "MeanAbsoluteErrorFromSums": "mean_absolute_error", "RootMeanSquaredError": "root_mean_squared_error",
        "MeanLabelFromSums": "mean_label", "MeanPredictionFromSums": "mean_prediction"}
# TFMA's own metric of the same name, computed in the same run under another name.
NATIVE = {"MeanSquaredError": "mean_squared_error", "MeanAbsoluteError": "mean_absolute_error",
          "MeanLabel": "mean_label", "MeanPrediction": "mean_prediction"}


def numpy_metrics(label: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    label, prediction = label.astype(np.float64), prediction.astype(np.float64)
    error = label - prediction
    return {"r2": 1.0 - np.sum(error ** 2) / np.sum((label - label.mean()) ** 2),
            "mean_squared_error": np.mean(error ** 2), "mean_absolute_error": np.mean(np.abs(error)),
            "root_mean_squared_error": np.sqrt(np.mean(error ** 2)), "mean_label": label.mean(),
            "mean_prediction": prediction.mean()}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    label = rng.normal(0.4, 1.7, size=3000).astype(np.float32)
    prediction = (0.8 * label + rng.normal(0.1, 0.5, size=3000)).astype(np.float32)
    return pd.DataFrame({"label": label, "prediction": prediction,
                         "segment": rng.choice(["a", "b", "c"], size=3000)})


PLOT = {"num_buckets": 40, "left": -4.0, "right": 5.0}


def _eval_config(metrics: list) -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="label", prediction_key="prediction")],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["segment"])])


def _buckets(plots) -> list[dict]:
    return plots["calibrationHistogramBuckets"]["buckets"]


@pytest.fixture(scope="module")
def results(frame) -> dict[str, dict[str, float]]:
    """slice name -> metric name -> value, ours under their names, TFMA's as native_<name>."""
    metrics = [tfma.MetricConfig(class_name=name, module=regression_metrics.MODULE) for name in OURS]
    metrics += [tfma.MetricConfig(class_name=name, config=json.dumps({"name": f"native_{key}"}))
                for name, key in NATIVE.items()]
    metrics.append(tfma.MetricConfig(class_name="LeanCalibrationPlot", module=regression_metrics.MODULE,
                                     config=json.dumps(PLOT)))
    result = tfma.analyze_raw_data(frame, _eval_config(metrics))
    out = {}
    for slice_key, by_output in result.slicing_metrics:
        name = "Overall" if not slice_key else slice_key[0][1]
        values = by_output[""][""]
        out[name] = {k: v["doubleValue"] for k, v in values.items()}
    for slice_key, by_output in result.plots:
        name = "Overall" if not slice_key else slice_key[0][1]
        out[name]["plots"] = by_output[""][""]
    return out


def test_every_slice_matches_numpy_to_1e6(frame, results):
    assert set(results) == {"Overall", "a", "b", "c"}
    for name, values in results.items():
        rows = frame if name == "Overall" else frame[frame.segment == name]
        expected = numpy_metrics(rows.label.to_numpy(), rows.prediction.to_numpy())
        for metric, value in expected.items():
            assert values[metric] == pytest.approx(value, abs=1e-6, rel=1e-6), (name, metric)
        assert not any(k.startswith("_") for k in values)  # the shared sums are not reported


def test_matches_tfma_native_metrics(results):
    for values in results.values():
        for key in NATIVE.values():
            assert values[key] == pytest.approx(values[f"native_{key}"], abs=1e-9, rel=1e-9)


def _tfma_plot_bucket(prediction: np.ndarray, fine: int = 10_000) -> np.ndarray:
    """TFMA's CalibrationPlot bucketing: a 10,000-bucket histogram over [left, right], each fine
    bucket (by its lower edge) then re-binned into the plot's buckets; -inf and +inf at the ends."""
    left, right, num = PLOT["left"], PLOT["right"], PLOT["num_buckets"]
    fine_id = np.clip(np.floor((prediction - left) / (right - left) * fine) + 1, 0, fine + 1)
    lower = np.where(fine_id == 0, -np.inf,
                     np.where(fine_id >= fine + 1, np.inf, (fine_id - 1) / fine * (right - left) + left))
    thresholds = [-np.inf] + [left + i * (right - left) / num for i in range(num + 1)]
    return np.searchsorted(thresholds, lower, side="right") - 1


def _plot_bucket(prediction: np.ndarray) -> np.ndarray:
    """The plot's own buckets: [left + (k-1)·w, left + k·w) is bucket k; below left 0, from right up num + 1."""
    left, right, num = PLOT["left"], PLOT["right"], PLOT["num_buckets"]
    return np.clip(np.floor((prediction - left) / (right - left) * num) + 1, 0, num + 1).astype(np.int64)


def test_calibration_plot_equals_numpy_and_tfma_up_to_its_rebinning(frame, results):
    # TFMA writes every calibration plot into one field, so its own runs separately.
    native = tfma.analyze_raw_data(frame, _eval_config([tfma.MetricConfig(
        class_name="CalibrationPlot", config=json.dumps(PLOT))]))
    native_by_slice = {("Overall" if not key else key[0][1]): by_output[""][""] for key, by_output in native.plots}
    size = PLOT["num_buckets"] + 2
    fine_width = (PLOT["right"] - PLOT["left"]) / 10_000
    edges = PLOT["left"] + np.arange(PLOT["num_buckets"] + 1) * (PLOT["right"] - PLOT["left"]) / PLOT["num_buckets"]
    for name, values in results.items():
        rows = frame if name == "Overall" else frame[frame.segment == name]
        prediction = rows.prediction.to_numpy(np.float64)
        ours, theirs = _buckets(values["plots"]), _buckets(native_by_slice[name])
        index = _plot_bucket(prediction)
        counts = np.bincount(index, minlength=size)
        # Ours lists the buckets with examples, TFMA every bucket; the same thresholds.
        assert [(b["lowerThresholdInclusive"], b["upperThresholdExclusive"]) for b in ours] == \
            [(b["lowerThresholdInclusive"], b["upperThresholdExclusive"])
             for b, count in zip(theirs, counts) if count]
        assert [b["numWeightedExamples"] for b in ours] == counts[counts > 0].tolist()
        label_sums = np.bincount(index, weights=rows.label.to_numpy(np.float64), minlength=size)
        assert [b.get("totalWeightedLabel", 0.0) for b in ours] == pytest.approx(
            label_sums[counts > 0].tolist(), abs=1e-6)
        # TFMA's plot is our model of it; it differs from ours only for rows within one of its
        # 10,000 fine buckets of a plot edge, which its rebinning may move to the bucket below.
        tfma_index = _tfma_plot_bucket(prediction)
        assert [b.get("numWeightedExamples", 0.0) for b in theirs] == \
            np.bincount(tfma_index, minlength=size).tolist()
        moved = prediction[index != tfma_index]
        assert len(moved) < 0.01 * len(prediction)
        assert all(np.min(np.abs(edges - value)) <= fine_width for value in moved)


def test_r2_of_constant_labels_and_of_no_rows_is_undefined():
    constant = RegressionSums()
    for p in (0.5, 1.5):
        constant.merge(RegressionSums(weight=1.0, sum_y=2.0, sum_p=p, sum_y2=4.0, sse=(2.0 - p) ** 2,
                                      sae=abs(2.0 - p)))
    assert np.isnan(constant.r2())  # nothing to explain: undefined, not 0
    assert constant.mean_squared_error() == pytest.approx(1.25)
    assert np.isnan(RegressionSums().r2()) and np.isnan(RegressionSums().mean_label())


def test_vector_path_equals_scalar_path():
    rng = np.random.default_rng(0)
    labels, predictions, weights = rng.normal(size=50), rng.normal(size=50), rng.uniform(0.5, 2, size=50)
    vector = RegressionSums()
    vector.add(labels, predictions, weights)
    scalar = RegressionSums()
    for y, p, w in zip(labels, predictions, weights):
        scalar.add(np.array([y]), np.array([p]), np.array([w]))
    for stat in ("r2", "mean_squared_error", "mean_absolute_error", "mean_label", "mean_prediction"):
        assert getattr(vector, stat)() == pytest.approx(getattr(scalar, stat)(), rel=1e-12)
    weighted_mean = np.sum(weights * labels) / np.sum(weights)
    assert vector.mean_label() == pytest.approx(weighted_mean, rel=1e-12)


def test_plot_of_a_group_counts_each_row_once_and_leaves_nan_predictions_out():
    from tensorflow_model_analysis.metrics import metric_types

    histogram, plot = regression_metrics._lean_calibration_plot_computations(num_buckets=4, left=0.0, right=4.0)
    combiner = histogram.combiner
    group = metric_types.StandardMetricInputs(
        labels=np.array([1.0, 2.0, 3.0, 9.0, 5.0]), predictions=np.array([0.5, 0.7, -3.0, 4.0, np.nan]),
        example_weights=np.array([1.0, 1.0, 1.0, 1.0, 1.0]))
    one = metric_types.StandardMetricInputs(labels=np.array([4.0]), predictions=np.array([2.5]),
                                            example_weights=np.array([1.0]))
    accumulator = combiner.add_input(combiner.add_input(combiner.create_accumulator(), group), one)
    buckets = plot.result(combiner.extract_output(accumulator))[plot.keys[0]].buckets
    # Below 0, [0, 1) twice, [2, 3), from 4 up; the NaN prediction nowhere.
    assert [(b.lower_threshold_inclusive, b.upper_threshold_exclusive, b.num_weighted_examples.value,
             b.total_weighted_label.value) for b in buckets] == [
        (-np.inf, 0.0, 1.0, 3.0), (0.0, 1.0, 2.0, 3.0), (2.0, 3.0, 1.0, 4.0), (4.0, np.inf, 1.0, 9.0)]


def test_dense_histogram_pickles_its_buckets_with_rows_only():
    import pickle

    histogram = regression_metrics.DenseHistogram(1002)
    histogram.add(np.array([3, 3, 900]), np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 9.0]),
                  np.array([1.0, 0.0, 2.0]))
    copy = pickle.loads(pickle.dumps(histogram))
    assert np.array_equal(copy.sums, histogram.sums)
    assert copy.sums[:, 3].tolist() == [2.0, 1.0, 0.5, 1.0]  # rows, Σ label·w, Σ prediction·w, Σ w
    assert len(pickle.dumps(histogram)) < 1_000  # not the 32 KB of the whole array
