"""Periodic embeddings of numeric inputs, checked against the formula computed in numpy."""

from __future__ import annotations

import numpy as np

from models.numeric_embeddings import PeriodicEmbedding


def test_each_value_is_kept_and_embedded_by_relu_of_its_sines_and_cosines():
    layer = PeriodicEmbedding(frequencies=3, sigma=0.5, dim=4, seed=1)
    x = np.array([[0.5, -1.0], [2.0, 0.0]], dtype="float32")
    out = layer(x).numpy()
    assert out.shape == (2, 2 + 2 * 4)
    np.testing.assert_array_equal(out[:, :2], x)
    c, kernel, bias = (w.numpy() for w in (layer.coefficients, layer.kernel, layer.bias))
    for feature in range(2):
        angles = 2 * np.pi * c[feature][None] * x[:, feature, None]
        periodic = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
        expected = np.maximum(periodic @ kernel[feature] + bias[feature], 0)
        np.testing.assert_allclose(out[:, 2 + 4 * feature: 2 + 4 * (feature + 1)], expected, rtol=1e-5, atol=1e-6)


def test_the_layer_round_trips_through_its_config():
    layer = PeriodicEmbedding(frequencies=5, sigma=0.2, dim=6, seed=3, name="age_periodic")
    again = PeriodicEmbedding.from_config(layer.get_config())
    assert (again.frequencies, again.sigma, again.dim, again.seed, again.name) == (5, 0.2, 6, 3, "age_periodic")
