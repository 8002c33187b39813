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
