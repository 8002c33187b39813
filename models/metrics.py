"""R², the regression tasks' scale-free metric, as a tf_keras metric shown while training.

Its state is four scalars (count, Σy, Σy², Σ(y−ŷ)²). The Evaluator computes the
same R² from numpy sums (``models.tasks.regression.RegressionSums``), much
cheaper per slice than a TF combiner. A task type's ``keras_metrics`` creates it.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras


@tf_keras.utils.register_keras_serializable(package="mtl")
class R2Score(tf_keras.metrics.Metric):
    """Coefficient of determination: 1 - SSE / SST (1 is perfect, 0 is the mean)."""

    def __init__(self, name: str = "r2", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_weight(name="count", initializer="zeros")
        self.sum_y = self.add_weight(name="sum_y", initializer="zeros")
        self.sum_y2 = self.add_weight(name="sum_y2", initializer="zeros")
        self.sse = self.add_weight(name="sse", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.reshape(tf.cast(y_true, self.dtype), [-1])
        y_pred = tf.reshape(tf.cast(y_pred, self.dtype), [-1])
        weight = (tf.ones_like(y_true) if sample_weight is None
                  else tf.broadcast_to(tf.reshape(tf.cast(sample_weight, self.dtype), [-1]),
                                       tf.shape(y_true)))
        self.count.assign_add(tf.reduce_sum(weight))
        self.sum_y.assign_add(tf.reduce_sum(weight * y_true))
        self.sum_y2.assign_add(tf.reduce_sum(weight * tf.square(y_true)))
        self.sse.assign_add(tf.reduce_sum(weight * tf.square(y_true - y_pred)))

    def result(self):
        sst = self.sum_y2 - tf.math.divide_no_nan(tf.square(self.sum_y), self.count)
        # Constant labels (SST 0) have no variance to explain: report 0.
        return tf.where(sst > 0, 1.0 - tf.math.divide_no_nan(self.sse, sst), 0.0)

    def reset_state(self):
        for weight in self.variables:
            weight.assign(0.0)
