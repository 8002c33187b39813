"""R², the regression tasks' scale-free metric, as a tf_keras metric shown while training.

Its state is four float64 scalars (count, Σy, Σy², Σ(y−ŷ)²). R² itself is
defined once, by ``models.tasks.regression.RegressionSums.r2``, which the
Evaluator's metrics compute per slice too: this metric hands its sums to it, so
training and evaluation give the same answer, NaN on constant labels included.
A task type's ``keras_metrics`` creates it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras

from models.tasks.regression import RegressionSums


def _r2(count, sum_y, sum_y2, sse) -> np.float32:
    return np.float32(RegressionSums(weight=float(count), sum_y=float(sum_y), sum_y2=float(sum_y2),
                                     sse=float(sse)).r2())


@tf_keras.utils.register_keras_serializable(package="mtl")
class R2Score(tf_keras.metrics.Metric):
    """Coefficient of determination: 1 - SSE / SST (1 is perfect, 0 is the mean; NaN on constant labels)."""

    def __init__(self, name: str = "r2", **kwargs):
        super().__init__(name=name, **kwargs)
        # float64: the constant-label test compares SST with Σy²'s float64 rounding noise.
        self.count, self.sum_y, self.sum_y2, self.sse = (
            self.add_weight(name=n, initializer="zeros", dtype=tf.float64) for n in ("count", "sum_y", "sum_y2", "sse"))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.reshape(tf.cast(y_true, tf.float64), [-1])
        y_pred = tf.reshape(tf.cast(y_pred, tf.float64), [-1])
        weight = (tf.ones_like(y_true) if sample_weight is None
                  else tf.broadcast_to(tf.reshape(tf.cast(sample_weight, tf.float64), [-1]),
                                       tf.shape(y_true)))
        self.count.assign_add(tf.reduce_sum(weight))
        self.sum_y.assign_add(tf.reduce_sum(weight * y_true))
        self.sum_y2.assign_add(tf.reduce_sum(weight * tf.square(y_true)))
        self.sse.assign_add(tf.reduce_sum(weight * tf.square(y_true - y_pred)))

    def result(self):
        value = tf.numpy_function(_r2, [self.count, self.sum_y, self.sum_y2, self.sse], tf.float32, stateful=False)
        return tf.reshape(value, [])

    def reset_state(self):
        for weight in self.variables:
            weight.assign(tf.zeros_like(weight))
