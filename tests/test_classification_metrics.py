"""The Evaluator's binary and multiclass metrics against TFMA's own metrics and independent numpy.

Real TFMA runs on Beam (``tfma.analyze_raw_data``) over labels, predictions
and example weights, sliced, with ours and TFMA's native metrics of the same
meaning side by side (TFMA's under ``native_`` names). Counts must be equal
exactly, means to 1e-6, and the AUC within the difference the threshold grids
make: ours reads the plot's 1,000 buckets, TFMA's 10,000; each is within half
the share of positive-negative pairs sharing one of its buckets of the exact
AUC (computed here by ranking), so the two differ by at most half the sum of
those shares.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import tensorflow_model_analysis as tfma
from scipy.stats import rankdata

from models import classification_metrics as cm
from models.regression_metrics import DenseHistogram

MODULE = cm.MODULE
BINARY_OURS = {"MeanLabelFromCounts": "mean_label", "MeanPredictionFromCounts": "mean_prediction",
               "CalibrationFromCounts": "calibration", "BinaryCrossEntropyFromCounts": "binary_crossentropy",
               "BinaryAccuracyFromCounts": "binary_accuracy", "PrecisionFromCounts": "precision",
               "RecallFromCounts": "recall", "AUCFromHistogram": "auc"}
BINARY_NATIVE = {"MeanLabel": "mean_label", "MeanPrediction": "mean_prediction", "Calibration": "calibration",
                 "BinaryCrossEntropy": "binary_crossentropy", "BinaryAccuracy": "binary_accuracy",
                 "Precision": "precision", "Recall": "recall", "AUC": "auc"}
MEANS = ("mean_label", "mean_prediction", "calibration", "binary_crossentropy", "binary_accuracy", "precision",
         "recall")


def exact_auc(label: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """Weighted share of positive-negative pairs ordered correctly, ties counting half (by ranks)."""
    order = np.argsort(score, kind="stable")
    score, label, weight = score[order], label[order], weight[order]
    positive, negative = weight * label, weight * (1 - label)
    _, first = np.unique(score, return_index=True)  # tie groups of equal scores
    groups = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(score))))
    neg_per_group = np.bincount(groups, weights=negative)
    neg_below = np.cumsum(neg_per_group) - neg_per_group
    ordered = np.sum(positive * (neg_below[groups] + 0.5 * neg_per_group[groups]))
    return ordered / (positive.sum() * negative.sum())


def tie_share(label: np.ndarray, score: np.ndarray, weight: np.ndarray, buckets: int) -> float:
    """The weighted share of positive-negative pairs in one of ``buckets`` equal buckets over [0, 1]."""
    index = np.clip(np.floor(score * buckets).astype(int), 0, buckets)
    positives = np.bincount(index, weights=weight * label, minlength=buckets + 1)
    negatives = np.bincount(index, weights=weight * (1 - label), minlength=buckets + 1)
    return float(np.dot(positives, negatives) / (positives.sum() * negatives.sum()))


@pytest.fixture(scope="module")
def binary_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 4000
    label = rng.binomial(1, 0.3, size=n).astype(np.float32)
    score = 1 / (1 + np.exp(-(1.5 * label - 1 + rng.normal(0, 1.2, size=n))))
    segment = rng.choice(["a", "b", "c"], size=n)
    segment[:40] = "d"  # one class only: its AUC is undefined
    label[:40] = 0.0
    return pd.DataFrame({"label": label, "prediction": score.astype(np.float32),
                         "weight": rng.uniform(0.5, 2.0, size=n).astype(np.float32), "segment": segment})


def _eval_config(metrics_specs: list) -> tfma.EvalConfig:
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key="label", prediction_key="prediction", example_weight_key="weight")],
        metrics_specs=metrics_specs,
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["segment"])])


def _by_slice(result) -> dict:
    """slice name -> sub key ('' or 'classId:k') -> metric name -> value."""
    out = {}
    for slice_key, by_output in result.slicing_metrics:
        name = "Overall" if not slice_key else slice_key[0][1]
        for sub_key, values in by_output[""].items():
            out.setdefault(name, {})[sub_key] = {
                k: float(v.get("doubleValue", math.nan)) if isinstance(v, dict) else v for k, v in values.items()}
    return out


@pytest.fixture(scope="module")
def binary_results(binary_frame) -> dict:
    metrics = [tfma.MetricConfig(class_name=name, module=MODULE) for name in BINARY_OURS]
    metrics += [tfma.MetricConfig(class_name=name, config=json.dumps({"name": f"native_{key}"}))
                for name, key in BINARY_NATIVE.items()]
    metrics.append(tfma.MetricConfig(class_name="ExampleCount"))
    result = tfma.analyze_raw_data(binary_frame, _eval_config([tfma.MetricsSpec(metrics=metrics)]))
    return {name: by_sub_key[""] for name, by_sub_key in _by_slice(result).items()}


def _rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame if name == "Overall" else frame[frame.segment == name]


def test_binary_means_equal_tfma_and_numpy_to_1e6(binary_frame, binary_results):
    assert set(binary_results) == {"Overall", "a", "b", "c", "d"}
    for name, values in binary_results.items():
        rows = _rows(binary_frame, name)
        y, p, w = (rows[c].to_numpy(np.float64) for c in ("label", "prediction", "weight"))
        above = p > 0.5
        expected = {"mean_label": np.sum(w * y) / w.sum(), "mean_prediction": np.sum(w * p) / w.sum(),
                    "calibration": np.sum(w * p) / np.sum(w * y) if y.any() else math.nan,
                    "binary_crossentropy": np.sum(w * -(y * np.log(p) + (1 - y) * np.log(1 - p))) / w.sum(),
                    "binary_accuracy": np.sum(w * (above == (y == 1))) / w.sum(),
                    "precision": np.sum(w * y * above) / np.sum(w * above),
                    "recall": np.sum(w * y * above) / np.sum(w * y) if y.any() else math.nan}
        for metric in MEANS:
            assert values[metric] == pytest.approx(expected[metric], abs=1e-6, rel=1e-6, nan_ok=True), \
                (name, metric)
            if not math.isnan(expected[metric]):
                assert values[metric] == pytest.approx(values[f"native_{metric}"], abs=1e-6, rel=1e-6), \
                    (name, metric)
        assert values["example_count"] == pytest.approx(w.sum(), rel=1e-12)  # the weighted count
        assert not any(k.startswith("_") for k in values)  # the shared counts are not reported


def test_binary_auc_within_the_threshold_grid_difference_of_tfma_and_exact(binary_frame, binary_results):
    for name, values in binary_results.items():
        rows = _rows(binary_frame, name)
        y, p, w = (rows[c].to_numpy(np.float64) for c in ("label", "prediction", "weight"))
        if name == "d":  # one class only: undefined here; TFMA's sum skips its 0/0 terms and reports 0
            assert math.isnan(values["auc"]) and values["native_auc"] == 0.0
            continue
        ours_share, tfma_share = tie_share(y, p, w, 1000), tie_share(y, p, w, 10_000)
        assert abs(values["auc"] - exact_auc(y, p, w)) <= ours_share / 2 + 1e-9, name
        assert abs(values["auc"] - values["native_auc"]) <= (ours_share + tfma_share) / 2 + 1e-6, name
        assert ours_share < 0.01  # the bound is tight at this grid


def test_auc_of_a_histogram_is_the_pair_share_with_ties_half_and_nan_for_one_class():
    histogram = DenseHistogram(4)
    # Buckets 1..2: positives at 2 (w 1) and 1 (w 1); negatives at 1 (w 2) and 0 (w 1).
    histogram.add(np.array([2, 1, 1, 0]), np.array([1.0, 1.0, 0.0, 0.0]), np.zeros(4), np.array([1.0, 1, 2, 1]))
    # Pairs (weighted): pos@2 beats both negatives (3); pos@1 beats neg@0 (1), ties neg@1 (2 -> 1).
    assert cm.auc(histogram) == pytest.approx((3 + 1 + 1) / (2 * 3))
    assert cm.auc_tie_share(histogram) == pytest.approx(2 / 6)
    one_class = DenseHistogram(4)
    one_class.add(np.array([1, 2]), np.zeros(2), np.zeros(2), np.ones(2))
    assert math.isnan(cm.auc(one_class))


K = 5
MACRO = "macro_average: true\n"  # how TFMA's loaded results name a macro-averaged metric


@pytest.fixture(scope="module")
def multiclass_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3000
    label = rng.integers(0, K, size=n)
    logits = rng.normal(0, 1.0, size=(n, K))
    logits[np.arange(n), label] += 1.2
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return pd.DataFrame({"label": label.astype(np.int64), "prediction": list(probabilities.astype(np.float32)),
                         "weight": rng.uniform(0.5, 2.0, size=n).astype(np.float32),
                         "segment": rng.choice(["a", "b"], size=n)})


def _class_specs(per_class: list, macro: list) -> list:
    class_ids = list(range(K))
    return [tfma.MetricsSpec(binarize=tfma.BinarizationOptions(class_ids={"values": class_ids}), metrics=per_class),
            tfma.MetricsSpec(aggregate=tfma.AggregationOptions(macro_average=True,
                                                               class_weights={i: 1.0 for i in class_ids}),
                             metrics=macro)]


@pytest.fixture(scope="module")
def multiclass_results(multiclass_frame) -> dict:
    ours = [tfma.MetricConfig(class_name=c, module=MODULE) for c in (
        "SparseCategoricalAccuracyFromCounts", "SparseCategoricalCrossentropyFromCounts", "ExampleCount")]
    native = [tfma.MetricConfig(class_name="SparseCategoricalAccuracy", config=json.dumps({"name": "native_acc"})),
              tfma.MetricConfig(class_name="SparseCategoricalCrossentropy", config=json.dumps({"name": "native_ce"}))]
    per_class = [tfma.MetricConfig(class_name=c, module=MODULE)
                 for c in ("PrecisionFromCounts", "RecallFromCounts", "AUCFromHistogram")]
    per_class += [tfma.MetricConfig(class_name=c, config=json.dumps({"name": f"native_{c.lower()}"}))
                  for c in ("Precision", "Recall", "AUC")]
    macro = [tfma.MetricConfig(class_name="AUCFromHistogram", module=MODULE),
             tfma.MetricConfig(class_name="AUC", config=json.dumps({"name": "native_auc"}))]
    result = tfma.analyze_raw_data(multiclass_frame, _eval_config(
        [tfma.MetricsSpec(metrics=ours + native), *_class_specs(per_class, macro)]))
    return _by_slice(result)


def test_multiclass_metrics_equal_tfma_and_numpy(multiclass_frame, multiclass_results):
    assert set(multiclass_results) == {"Overall", "a", "b"}
    for name, by_sub_key in multiclass_results.items():
        rows = _rows(multiclass_frame, name)
        y, w = rows.label.to_numpy(), rows.weight.to_numpy(np.float64)
        p = np.stack(rows.prediction.to_numpy()).astype(np.float64)
        values = by_sub_key[""]
        clipped = np.clip(p, 1e-7, 1 - 1e-7)
        entropy = np.log(clipped.sum(axis=1)) - np.log(clipped[np.arange(len(y)), y])
        assert values["example_count"] == pytest.approx(w.sum(), rel=1e-12)
        assert values["sparse_categorical_accuracy"] == pytest.approx(
            np.sum(w * (p.argmax(axis=1) == y)) / w.sum(), abs=1e-6)
        assert values["sparse_categorical_crossentropy"] == pytest.approx(np.sum(w * entropy) / w.sum(), abs=1e-6)
        # TFMA's are Keras metrics, summed in float32.
        assert values["sparse_categorical_accuracy"] == pytest.approx(values["native_acc"], abs=1e-5)
        assert values["sparse_categorical_crossentropy"] == pytest.approx(values["native_ce"], abs=1e-5)
        shares = []
        for k in range(K):
            ours = by_sub_key[f"classId:{k}"]
            yk, pk = (y == k).astype(np.float64), p[:, k]
            for metric in ("precision", "recall"):
                assert ours[metric] == pytest.approx(ours[f"native_{metric}"], abs=1e-6), (name, k, metric)
            assert ours["precision"] == pytest.approx(np.sum(w * yk * (pk > 0.5)) / np.sum(w * (pk > 0.5)), abs=1e-6)
            share = (tie_share(yk, pk, w, 1000) + tie_share(yk, pk, w, 10_000)) / 2
            shares.append(share)
            assert abs(ours["auc"] - ours["native_auc"]) <= share + 1e-6, (name, k)
            assert abs(ours["auc"] - exact_auc(yk, pk, w)) <= tie_share(yk, pk, w, 1000) / 2 + 1e-9, (name, k)
        # The macro AUC (TFMA's averaging over our per-class values): the mean of the classes' AUCs.
        per_class_auc = [by_sub_key[f"classId:{k}"]["auc"] for k in range(K)]
        macro, native_macro = values[f"{MACRO}_auc"], values[f"{MACRO}_native_auc"]
        assert macro == pytest.approx(np.mean(per_class_auc), abs=1e-12)
        assert abs(macro - native_macro) <= np.mean(shares) + 1e-6


def test_multiclass_confusion_matrix_counts_equal_tfma_exactly(multiclass_frame):
    def plots(metric: tfma.MetricConfig) -> dict:
        result = tfma.analyze_raw_data(multiclass_frame, _eval_config([tfma.MetricsSpec(metrics=[metric])]))
        return {("Overall" if not key else key[0][1]): by_output[""][""]["multiClassConfusionMatrixAtThresholds"]
                for key, by_output in result.plots}

    ours = plots(tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlotFromCounts", module=MODULE))
    theirs = plots(tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"))
    assert ours.keys() == theirs.keys() == {"Overall", "a", "b"}
    for name in ours:
        assert ours[name] == theirs[name], name
        rows = _rows(multiclass_frame, name)
        entries = ours[name]["matrices"][0]["entries"]
        predicted = np.stack(rows.prediction.to_numpy()).argmax(axis=1)
        for entry in entries:
            chosen = (rows.label.to_numpy() == entry.get("actualClassId", 0)) & \
                (predicted == entry.get("predictedClassId", 0))
            assert entry["numWeightedExamples"] == pytest.approx(rows.weight.to_numpy(np.float64)[chosen].sum(),
                                                                 rel=1e-6)


def test_a_group_of_rows_gives_what_its_rows_give_one_at_a_time():
    from tensorflow_model_analysis.metrics import metric_types

    rng = np.random.default_rng(2)
    labels, probabilities = rng.integers(0, 3, size=20), rng.dirichlet(np.ones(3), size=20)
    weights = rng.uniform(0.5, 2, size=20)
    key = metric_types.MetricKey(name="_multiclass_counts", output_name="y", example_weighted=True)
    combiner = cm._MulticlassCountsCombiner(key, example_weighted=True)

    def element(rows):
        return metric_types.StandardMetricInputs(labels={"y": labels[rows].astype(np.float32)},
                                                 predictions={"y": probabilities[rows]},
                                                 example_weights={"y": weights[rows]})

    group = combiner.add_input(combiner.create_accumulator(), element(np.arange(20)))
    single = combiner.create_accumulator()
    for row in range(20):
        single = combiner.merge_accumulators([single, combiner.add_input(combiner.create_accumulator(),
                                                                         element(np.array([row])))])
    assert np.array_equal(group.seen, single.seen) and np.allclose(group.matrix, single.matrix)
    for stat in ("sparse_categorical_accuracy", "sparse_categorical_crossentropy"):
        assert getattr(group, stat)() == pytest.approx(getattr(single, stat)(), rel=1e-12)
    binary_key = metric_types.MetricKey(name="_binary_counts", output_name="y", example_weighted=True,
                                        sub_key=metric_types.SubKey(class_id=1))
    binary = cm._BinaryCountsCombiner(binary_key, example_weighted=True)
    counts = binary.add_input(binary.create_accumulator(), element(np.arange(20)))
    assert counts.positives == pytest.approx(weights[labels == 1].sum())
    assert counts.predicted == pytest.approx(np.dot(weights, probabilities[:, 1]))
