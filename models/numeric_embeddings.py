"""Periodic embeddings and piecewise-linear encodings of numeric inputs (Gorishniy et al., NeurIPS 2022).

Periodic ("PLR(lite)"): each numeric value x (already transformed: z-score, log or quantile) becomes
[sin(2π c_i x), cos(2π c_i x)] for ``frequencies`` trainable c_i (started
from N(0, ``sigma``)), then a ReLU layer of ``dim`` units shared by all
values of that input; the value itself is kept beside it. A dense layer of
the raw values can only bend at its ReLUs' kinks; these features let the
network follow a threshold or a bump in one input cheaply, which is where
gradient-boosted trees win on tables.

Piecewise-linear ("PLE-Q"): Transform writes each value as its position among
quantile bin edges (``models.piecewise_linear``); the model expands it into one
component per bin, 1 for the bins below the value, the fraction of its own bin,
0 above: a one-hot of the bin with its lower neighbours filled, linear inside it.

Keras in, Keras out: no TFX here.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras

FREQUENCIES = 16
SIGMA = 0.5
DIM = 8


@tf_keras.utils.register_keras_serializable(package="mtl")
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


@tf_keras.utils.register_keras_serializable(package="mtl")
class PiecewiseLinearEncoding(tf_keras.layers.Layer):
    """[batch, size] positions -> [batch, size * bins]: each value's piecewise-linear components.

    Transform writes each numeric value as its position p among ``bins`` quantile
    bins (``models.piecewise_linear``); component t (0-based here) is clip(p - t, 0, 1),
    the first not clipped below and the last not above (the paper's open-ended end bins).
    With ``dim``, a linear layer per input (``bins`` -> ``dim``) and a ReLU follow
    ([batch, size * dim]; the paper's PLE with "LR").
    """

    def __init__(self, bins: int, dim: int | None = None, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.bins, self.dim, self.seed = bins, dim, seed

    def build(self, input_shape):
        if self.dim:
            size = int(input_shape[-1])
            self.kernel = self.add_weight(name="kernel", shape=(size, self.bins, self.dim),
                                          initializer=tf_keras.initializers.GlorotUniform(seed=self.seed))
            self.bias = self.add_weight(name="bias", shape=(size, self.dim), initializer="zeros")

    def call(self, positions):
        steps = tf.range(self.bins, dtype=positions.dtype)
        floor = tf.where(steps == 0, -math.inf, 0.0)
        ceiling = tf.where(steps == self.bins - 1, math.inf, 1.0)
        components = tf.minimum(tf.maximum(positions[..., None] - steps, floor), ceiling)  # [batch, size, bins]
        if self.dim:
            components = tf.nn.relu(tf.einsum("bst,std->bsd", components, self.kernel) + self.bias)
        return tf.reshape(components, [-1, positions.shape[-1] * components.shape[-1]])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "dim": self.dim, "seed": self.seed}
