"""The pushed model given bad requests: each is a clear error or a documented behaviour, never a crash.

Loads the model the shared default run pushed (synthetic data: one feature
``x``, a vector of 100 floats) in this process, sends each bad request, and
checks that the same process still answers a good request with the same
scores afterwards. Unknown and missing categories are covered on the sample
CSV in ``test_e2e_own_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from conftest import serving_versions

pytestmark = pytest.mark.e2e


def _example(x=None) -> bytes:
    example = tf.train.Example()
    if x is not None:
        example.features.feature["x"].float_list.value.extend(x)
    return example.SerializeToString()


GOOD = _example([0.1] * 100)


@pytest.fixture(scope="module")
def serve(default_run):
    (version,) = serving_versions(default_run.output_dir)
    model = tf.saved_model.load(str(version))
    signature = model.signatures["serving_default"]
    return lambda examples: {k: v.numpy() for k, v in signature(examples=tf.constant(examples, tf.string)).items()}


@pytest.fixture(scope="module")
def good_scores(serve):
    scores = serve([GOOD])
    assert sorted(scores) == ["y1", "y2"] and all(np.isfinite(v).all() for v in scores.values())
    return scores


@pytest.mark.parametrize("request_bytes, message", [
    (b"\x08\x01 this is not a tf.Example", "parse"),
    (_example(), "x"),                    # the only input is missing
    (_example([0.1] * 99), "x"),          # a vector one value short
    (_example([0.1] * 101), "x"),         # one value too many
    (_example([np.nan] + [0.1] * 99), "feature 'x' holds a NaN or an infinity"),
    (_example([0.1] * 99 + [np.inf]), "feature 'x' holds a NaN or an infinity"),
    (_example([-np.inf] * 100), "feature 'x' holds a NaN or an infinity"),
], ids=["malformed", "missing-feature", "short-vector", "long-vector", "nan", "inf", "minus-inf"])
def test_bad_request_is_a_clear_error_and_the_model_still_serves(serve, good_scores, request_bytes, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve([GOOD, request_bytes])  # one bad example fails the whole batch
    after = serve([GOOD])
    for task, value in good_scores.items():
        np.testing.assert_array_equal(after[task], value)


def test_empty_batch_gives_empty_outputs(serve, good_scores):
    scores = serve([])
    assert {task: value.shape for task, value in scores.items()} == {"y1": (0, 1), "y2": (0, 1)}
    np.testing.assert_array_equal(serve([GOOD])["y1"], good_scores["y1"])


# --- the same table against the model data/sample.yaml pushes (CSV columns, "?" tokens) ----------

def _sample_example(skip=(), **values) -> bytes:
    """A sample request with every numeric value a float; ``values`` override, ``skip`` leaves out."""
    row = {"age": 30.0, "visits": 4.0, "tenure_months": 24.0, "region": "west", "device": "mobile",
           "plan": "basic", "balance": 0.0, **values}
    example = tf.train.Example()
    for key, value in row.items():
        if key in skip:
            continue
        feature = example.features.feature[key]
        if isinstance(value, str):
            feature.bytes_list.value.append(value.encode())
        elif isinstance(value, list):
            feature.float_list.value.extend(value)
        else:
            feature.float_list.value.append(value)
    return example.SerializeToString()


SAMPLE_GOOD = _sample_example()


@pytest.fixture(scope="module")
def serve_sample(sample_run):
    (version,) = serving_versions(sample_run.output_dir)
    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    return lambda examples: {k: v.numpy() for k, v in signature(examples=tf.constant(examples, tf.string)).items()}


def test_sample_request_with_floats_and_an_optional_column_left_out_is_answered(serve_sample):
    # tenure_months holds "?" cells in the CSV and age only whole numbers: both are floats here.
    scores = serve_sample([SAMPLE_GOOD, _sample_example(skip=("tenure_months",)), _sample_example(age=25.5)])
    assert sorted(scores) == ["churned", "purchased", "spend"]
    assert all(v.shape == (3, 1) and np.isfinite(v).all() for v in scores.values())


@pytest.mark.parametrize("request_bytes, message", [
    (b"\x08\x01 this is not a tf.Example", "parse"),
    (_sample_example(skip=("visits",)), "visits"),         # a column without missing cells is required
    (_sample_example(visits=[4.0, 5.0]), "visits"),         # two values where one is expected
    (_sample_example(age=np.nan), "feature 'age' holds a NaN or an infinity"),
    (_sample_example(tenure_months=np.inf), "feature 'tenure_months' holds a NaN or an infinity"),
    (_sample_example(visits=-np.inf), "feature 'visits' holds a NaN or an infinity"),
], ids=["malformed", "missing-required", "two-values", "nan", "inf", "minus-inf"])
def test_sample_bad_request_is_a_clear_error_and_the_model_still_serves(serve_sample, request_bytes, message):
    before = serve_sample([SAMPLE_GOOD])
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve_sample([SAMPLE_GOOD, request_bytes])
    after = serve_sample([SAMPLE_GOOD])
    for task, value in before.items():
        np.testing.assert_array_equal(after[task], value)


def test_sample_optional_values_left_out_empty_or_a_token_are_imputed_alike(serve_sample):
    left_out = serve_sample([_sample_example(skip=("age", "tenure_months", "device"))])
    empty = serve_sample([_sample_example(skip=("device",), age=[], tenure_months=[])])
    token = serve_sample([_sample_example(device="?", age=[], tenure_months=[])])
    for task in left_out:
        np.testing.assert_array_equal(left_out[task], empty[task])
        np.testing.assert_array_equal(left_out[task], token[task])


def test_sample_unseen_category_and_empty_batch(serve_sample):
    unseen = serve_sample([_sample_example(plan="platinum", region="mars")])
    assert all(np.isfinite(v).all() for v in unseen.values())
    assert {task: v.shape for task, v in serve_sample([]).items()} == {
        "churned": (0, 1), "purchased": (0, 1), "spend": (0, 1)}
