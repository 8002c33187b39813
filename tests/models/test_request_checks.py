"""reject_non_finite on parsed requests (plain TensorFlow, no TFX)."""

import numpy as np
import pytest
import tensorflow as tf

from models.request_checks import reject_non_finite


def test_finite_values_pass_unchanged():
    parsed = {"x": tf.constant([[1.0, 2.0]]), "region": tf.constant([["west"]]),
              "age": tf.SparseTensor([[0, 0]], tf.constant([3.0]), [2, 1])}
    checked = reject_non_finite(parsed)
    np.testing.assert_array_equal(checked["x"].numpy(), [[1.0, 2.0]])
    assert checked["region"].numpy().tolist() == [[b"west"]]
    np.testing.assert_array_equal(tf.sparse.to_dense(checked["age"]).numpy(), [[3.0], [0.0]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_errors_naming_the_feature(bad):
    with pytest.raises(tf.errors.InvalidArgumentError, match="feature 'x' holds a NaN or an infinity"):
        reject_non_finite({"x": tf.constant([[1.0, bad]])})
    with pytest.raises(tf.errors.InvalidArgumentError, match="feature 'age' holds a NaN or an infinity"):
        reject_non_finite({"age": tf.SparseTensor([[1, 0]], tf.constant([bad], tf.float32), [2, 1])})
