"""Piecewise-linear encoding of numeric inputs, Transform's half (Gorishniy et al., NeurIPS 2022, PLE-Q).

Over the training split, once (Beam analyzers), each numeric input gets
T + 1 bin edges b_0 <= ... <= b_T: its minimum, the T - 1 quantile boundaries
of ``tft.quantiles`` and its maximum. The paper encodes a value x as T
components, component t (1-based) being 0 if x < b_{t-1}, 1 if x >= b_t, else
(x - b_{t-1}) / (b_t - b_{t-1}); the first is not clipped below and the last
not above, so values outside the training range extrapolate. Those
components are always ``1, ..., 1, f, 0, ..., 0``, so their sum, the value's
*position* p among the edges, determines them: component t is
clip(p - (t - 1), 0, 1), the first not clipped below and the last not above.

Transform writes p, one float per value; the model expands it into the
components (``models.numeric_embeddings.PiecewiseLinearEncoding``). So the
transformed examples and the model's inputs keep the size they have with every
other encoding (the synthetic input, 100 values, would otherwise be 3,200
floats an example), the input pipeline, both serving signatures and warm start
see the same input names and shapes, and the edges are constants of the
Transform graph that the serving signatures already run on raw inputs.

Edges repeat where a column has fewer distinct values than bins (a 0/1 column,
a mostly-zero one). A bin of zero width is a step: 1 if x >= its edge, else 0
(no division by zero, no NaN), which keeps the ``1, ..., f, 0, ...`` form.
A missing value is encoded as the median (the edge b_{T/2}).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft


def positions(x: tf.Tensor, edges: tf.Tensor) -> tf.Tensor:
    """Each value's position among its edges: the sum of its piecewise-linear components.

    Args:
        x: float values, any shape [...].
        edges: sorted edges, [..., T + 1], broadcastable against ``x[..., None]``.
    Returns:
        [...] floats: t - 1 + (x - b_{t-1}) / (b_t - b_{t-1}) for x in bin t; below 0 or
        above T only outside the edges (through the first or last bin, if not empty).
    """
    low, high = edges[..., :-1], edges[..., 1:]
    width = high - low
    x = x[..., None]
    empty = width <= 0
    fraction = tf.where(empty, tf.cast(x >= high, x.dtype), (x - low) / tf.where(empty, tf.ones_like(width), width))
    bins = int(edges.shape[-1]) - 1
    inf = float("inf")
    floor = tf.constant([-inf] + [0.0] * (bins - 1), x.dtype)  # the first bin extrapolates below
    ceiling = tf.constant([1.0] * (bins - 1) + [inf], x.dtype)  # the last above
    return tf.reduce_sum(tf.minimum(tf.maximum(fraction, floor), ceiling), axis=-1)


def quantile_edges(values: tf.Tensor, bins: int, elementwise: bool) -> tf.Tensor:
    """The T + 1 = ``bins`` + 1 edges over the training split (Transform analyzers).

    ``values``: a column's present values, [n] (``elementwise=False``: edges [bins + 1]),
    or a complete [batch, size] input (``elementwise=True``: edges [size, bins + 1], per dimension).
    """
    reduce = not elementwise
    # As tft.bucketize's default: finer than a bin.
    inner = tft.quantiles(values, bins, epsilon=min(1.0 / bins, 0.01), reduce_instance_dims=reduce)
    lowest = tft.min(values, reduce_instance_dims=reduce)
    highest = tft.max(values, reduce_instance_dims=reduce)
    if reduce:
        edges = tf.concat([tf.reshape(lowest, [1]), tf.reshape(inner, [-1]), tf.reshape(highest, [1])], axis=0)
    else:
        size = int(values.shape[-1])
        edges = tf.concat([tf.reshape(lowest, [size, 1]), tf.reshape(inner, [size, bins - 1]),
                           tf.reshape(highest, [size, 1])], axis=-1)
    edges = tf.where(tf.math.is_finite(edges), edges, tf.zeros_like(edges))  # a column with no values
    return tf.sort(tf.cast(edges, tf.float32), axis=-1)


def encode(x, bins: int, elementwise: bool) -> tf.Tensor:
    """A numeric input as positions among its quantile edges (Transform's output for it).

    ``x``: a complete [batch, size] float input (``elementwise``), or a
    [batch, 1] SparseTensor of a column's present values. Returns dense
    [batch, size] floats; a missing value is the median's position.
    """
    if not isinstance(x, tf.SparseTensor):
        return positions(x, quantile_edges(x, bins, elementwise))
    edges = quantile_edges(x.values, bins, elementwise=False)
    present = tf.sparse.to_dense(tf.SparseTensor(x.indices, tf.ones_like(x.values, dtype=tf.bool), x.dense_shape),
                                 default_value=False)
    values = tf.where(present, tf.sparse.to_dense(x, default_value=0.0), edges[bins // 2])
    return tf.reshape(positions(values, edges), [-1, 1])
