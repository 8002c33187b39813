"""Periodic embeddings of numeric inputs (Gorishniy et al., NeurIPS 2022, "PLR(lite)").

Each numeric value x (already transformed: z-score, log or quantile) becomes
[sin(2π c_i x), cos(2π c_i x)] for ``frequencies`` trainable c_i (started
from N(0, ``sigma``)), then a ReLU layer of ``dim`` units shared by all
values of that input; the value itself is kept beside it. A dense layer of
the raw values can only bend at its ReLUs' kinks; these features let the
network follow a threshold or a bump in one input cheaply, which is where
gradient-boosted trees win on tables.

Keras in, Keras out: no TFX here.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras

FREQUENCIES = 16
SIGMA = 0.5
DIM = 8


class PeriodicEmbedding(tf_keras.layers.Layer):
    """[batch, size] floats -> [batch, size * (dim + 1)]: each value's periodic embedding and the value."""

    def __init__(self, frequencies: int = FREQUENCIES, sigma: float = SIGMA, dim: int = DIM, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        self.frequencies, self.sigma, self.dim, self.seed = frequencies, sigma, dim, seed

    def build(self, input_shape):
        size = int(input_shape[-1])
        self.coefficients = self.add_weight(
            name="frequencies", shape=(size, self.frequencies),
            initializer=tf_keras.initializers.RandomNormal(stddev=self.sigma, seed=self.seed))
        self.kernel = self.add_weight(name="kernel", shape=(size, 2 * self.frequencies, self.dim),
                                      initializer=tf_keras.initializers.GlorotUniform(seed=self.seed + 1))
        self.bias = self.add_weight(name="bias", shape=(size, self.dim), initializer="zeros")

    def call(self, x):
        angles = 2 * math.pi * self.coefficients[None] * x[..., None]  # [batch, size, frequencies]
        periodic = tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)
        embedded = tf.nn.relu(tf.einsum("bsf,sfd->bsd", periodic, self.kernel) + self.bias)
        flat = tf.reshape(embedded, [-1, x.shape[-1] * self.dim])
        return tf.concat([x, flat], axis=-1)

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies, "sigma": self.sigma,
                "dim": self.dim, "seed": self.seed}
