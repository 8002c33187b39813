"""Piecewise-linear encoding: Transform's positions and the model's expansion, against the paper's
formula computed in numpy; repeated edges, values outside the edges, and real TFT analyzers."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
import tf_keras
from tensorflow_transform.tf_metadata import dataset_metadata

from components import synthetic_data
from config import build_config
from models import features, warm_start
from models.builder import BUILDERS, build_model, compile_model, save_network
from models.features import ModelInput
from models.numeric_embeddings import DIM, PiecewiseLinearEncoding
from models.piecewise_linear import positions
from models.preprocessing import preprocessing_fn


def paper_encoding(x, edges):
    """Gorishniy et al. (2022), eq. for PLE: component t is 0 if x < b_{t-1} (t > 1), 1 if x >= b_t
    (t < T), else (x - b_{t-1}) / (b_t - b_{t-1})."""
    bins = len(edges) - 1
    out = np.zeros((len(x), bins))
    for i, v in enumerate(x):
        for t in range(1, bins + 1):
            low, high = edges[t - 1], edges[t]
            if t > 1 and v < low:
                out[i, t - 1] = 0.0
            elif t < bins and v >= high:
                out[i, t - 1] = 1.0
            else:
                out[i, t - 1] = (v - low) / (high - low)
    return out


def encoded(x, edges):
    """Transform's positions, expanded by the model's layer: [len(x), bins]."""
    p = positions(tf.constant(x, tf.float32), tf.constant(edges, tf.float32)).numpy()
    return PiecewiseLinearEncoding(len(edges) - 1)(p[:, None]).numpy()


def test_inside_and_outside_the_edges_it_is_the_papers_encoding():
    rng = np.random.RandomState(0)
    edges = np.sort(rng.normal(size=9)).astype(np.float32)
    x = np.concatenate([rng.normal(scale=2, size=200), edges, [edges[0] - 5, edges[-1] + 5]]).astype(np.float32)
    out = encoded(x, edges)
    np.testing.assert_allclose(out, paper_encoding(x, edges), rtol=1e-5, atol=1e-5)
    below, above = out[-2], out[-1]  # the end bins extrapolate: not clipped at 0 and 1
    assert below[0] < -1 and np.all(below[1:] == 0)
    assert above[-1] > 2 and np.all(above[:-1] == 1)


def test_repeated_inner_edges_are_steps_as_in_the_paper():
    edges = np.array([0.0, 1.0, 1.0, 1.0, 3.0, 7.0], np.float32)
    x = np.array([0.0, 0.5, 0.999, 1.0, 2.0, 6.0, 7.0], np.float32)
    np.testing.assert_allclose(encoded(x, edges), paper_encoding(x, edges), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(encoded(np.array([1.0], np.float32), edges), [[1, 1, 1, 0, 0]])


def test_repeated_end_edges_and_a_constant_column_give_finite_steps():
    # A 0/1 column with 60% zeros: most edges are 0, the rest 1; an empty first or last bin
    # cannot extrapolate (the paper's formula divides by zero there).
    edges = np.array([0, 0, 0, 0, 1, 1, 1], np.float32)
    out = encoded(np.array([-1, 0, 0.5, 1, 2], np.float32), edges)
    np.testing.assert_array_equal(out, [[0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 0.5, 0, 0],
                                        [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    constant = encoded(np.array([-1, 3, 4], np.float32), np.full(5, 3.0, np.float32))
    np.testing.assert_array_equal(constant, [[0, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1]])


def test_vector_inputs_use_each_dimensions_own_edges():
    edges = np.array([[0, 1, 2], [10, 20, 40]], np.float32)  # [size, bins + 1]
    x = np.array([[0.5, 30.0], [3.0, 5.0]], np.float32)
    p = positions(tf.constant(x), tf.constant(edges)).numpy()
    np.testing.assert_allclose(p, [[0.5, 1.5], [3.0, -0.5]])
    out = PiecewiseLinearEncoding(2)(p).numpy()
    np.testing.assert_allclose(out, [[0.5, 0, 1, 0.5], [1, 2, -0.5, 0]])


def test_with_relu_each_input_gets_its_own_linear_layer():
    layer = PiecewiseLinearEncoding(3, dim=4, seed=2)
    p = np.array([[0.5, 2.5], [-1.0, 1.0]], np.float32)
    out = layer(p).numpy()
    components = np.clip(p[..., None] - np.arange(3), [-np.inf, 0, 0], [1, 1, np.inf])
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    for feature in range(2):
        expected = np.maximum(components[:, feature] @ kernel[feature] + bias[feature], 0)
        np.testing.assert_allclose(out[:, 4 * feature:4 * (feature + 1)], expected, rtol=1e-5, atol=1e-6)


def test_the_layer_round_trips_through_its_config():
    layer = PiecewiseLinearEncoding(16, dim=8, seed=3, name="age_xf_piecewise_linear")
    again = PiecewiseLinearEncoding.from_config(layer.get_config())
    assert (again.bins, again.dim, again.seed, again.name) == (16, 8, 3, "age_xf_piecewise_linear")


SPEC = {
    "age": tf.io.VarLenFeature(tf.float32),
    "flag": tf.io.FixedLenFeature([1], tf.float32),
    "vec": tf.io.FixedLenFeature([3], tf.float32),
    "price": tf.io.FixedLenFeature([1], tf.float32),
}
AGES = [float(a) for a in range(1, 101)]  # 1..100, one missing below
BINS_IN_TEST = 4


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    config = build_config({
        "data": {"source": "csv", "path": "t.csv",
                 "features": [{"name": "age"}, {"name": "flag"}, {"name": "vec", "size": 3}]},
        "tasks": [{"name": "price"}],
        "model": {"numeric_embedding": "piecewise_linear", "piecewise_linear_bins": BINS_IN_TEST},
    })
    custom_config = {**config.transform_custom_config(), **config.transform_model_settings()}
    assert custom_config["piecewise_linear_bins"] == BINS_IN_TEST
    rows = [{"age": [a], "flag": [float(i % 5 == 0)], "vec": [a, 10 * a, -a], "price": [a]}
            for i, a in enumerate(AGES)]
    rows.append({"age": [], "flag": [0.0], "vec": [50.5, 505.0, -50.5], "price": [1.0]})
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(SPEC)
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (out, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            functools.partial(preprocessing_fn, custom_config=custom_config))
    return {key: np.array([row[key] for row in out]) for key in out[0]}


def test_transform_writes_positions_among_quantile_edges_and_missing_is_the_median(transformed):
    p = transformed["age_xf"].ravel()
    # Edges: min 1, quartile boundaries near 25.5 / 50.5 / 75.5 (approximate quantiles), max 100.
    assert p[0] == 0.0 and p[99] == 4.0  # the minimum and the maximum
    assert np.all(np.diff(p[:100]) > 0)  # strictly increasing with age
    np.testing.assert_allclose(p[:100], np.interp(AGES, [1, 25.5, 50.5, 75.5, 100], [0, 1, 2, 3, 4]), atol=0.1)
    assert abs(p[100] - 2.0) < 1e-6  # missing: the median's position


def test_a_two_valued_column_is_encoded_without_nan(transformed):
    p = transformed["flag_xf"].ravel()
    assert np.all(np.isfinite(p))
    # 80% zeros: the edges are 0, 0, 0, 0, 1, so 0 fills three empty bins and 1 the last.
    assert set(p.round(6)) == {3.0, 4.0}


def test_a_vector_input_gets_edges_per_dimension(transformed):
    p = transformed["vec_xf"][:100]  # [rows, 3]: a, 10a and -a
    np.testing.assert_allclose(p[:, 1], p[:, 0], atol=1e-5)  # the same ranks, other units
    np.testing.assert_allclose(p[:, 2], BINS_IN_TEST - p[:, 0], atol=0.1)  # reversed
    assert p.min() == 0.0 and p.max() == pytest.approx(BINS_IN_TEST)


def test_settings_without_the_encoding_leave_transform_as_it_was():
    config = build_config({"model": {"numeric_embedding": "periodic"}})
    assert config.transform_model_settings() == {}
    assert build_config({"model": {"numeric_embedding": "piecewise_linear_relu"}}).transform_model_settings() == {
        "piecewise_linear_bins": 32}
    with pytest.raises(Exception, match="piecewise_linear_bins is read only with numeric_embedding"):
        build_config({"model": {"piecewise_linear_bins": 16}})


@pytest.mark.parametrize("embedding", ["piecewise_linear", "piecewise_linear_relu"])
@pytest.mark.parametrize("architecture", sorted(BUILDERS))
def test_every_architecture_trains_saves_and_serves_the_encoding(architecture, embedding, tmp_path):
    config = build_config({"model": {"architecture": architecture, "numeric_embedding": embedding,
                                     "piecewise_linear_bins": 8},
                           "training": {"learning_rate": 0.01}})
    data = synthetic_data.generate(600, seed=7, p=0.5)
    x = (data.inputs[:, :6] * 2 + 4).astype("float32")  # positions among 8 bins, some outside
    spec = ModelInput(size=6, piecewise_linear_bins=8, piecewise_linear_relu=embedding.endswith("relu"))
    model = compile_model(build_model(config, {"x_xf": spec}), config)
    encoding = model.get_layer("x_xf_piecewise_linear")
    assert encoding.output.shape[-1] == 6 * (DIM if embedding.endswith("relu") else 8)
    history = model.fit({"x_xf": x}, {"y1": data.y1, "y2": data.y2}, batch_size=64, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    save_network(model, tmp_path / "saved_model")  # as the Trainer saves
    served = tf.saved_model.load(str(tmp_path / "saved_model")).signatures["serving_default"](
        x_xf=tf.constant(x[:5]))
    rebuilt = tf_keras.models.load_model(tmp_path / "saved_model", compile=False)({"x_xf": x[:5]})
    expected = model({"x_xf": x[:5]})
    for task in ("y1", "y2"):
        np.testing.assert_allclose(served[task].numpy(), expected[task].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rebuilt[task].numpy(), expected[task].numpy(), rtol=1e-5, atol=1e-6)


def test_model_inputs_carry_the_bins_to_numeric_inputs_only():
    config = build_config({"data": {"source": "csv", "path": "t.csv",
                                    "features": [{"name": "age"}, {"name": "city", "type": "categorical"}]},
                           "tasks": [{"name": "price"}],
                           "model": {"numeric_embedding": "piecewise_linear_relu", "piecewise_linear_bins": 12}})
    spec = features.model_inputs(config, lambda name: 3)
    assert spec["age_xf"] == ModelInput(size=1, piecewise_linear_bins=12, piecewise_linear_relu=True)
    assert spec["city_xf"].piecewise_linear_bins is None


@pytest.mark.parametrize("with_categorical", [False, True])
def test_warm_start_copies_the_encodings_weights(tmp_path, with_categorical):
    config = build_config({"model": {"numeric_embedding": "piecewise_linear_relu", "piecewise_linear_bins": 8}})
    inputs = {"x_xf": ModelInput(size=3, piecewise_linear_bins=8, piecewise_linear_relu=True)}
    vocabularies = {}
    if with_categorical:  # the encodings are concatenated with the categorical input's one-hot
        inputs["c_xf"] = ModelInput(num_indices=4)
        vocabularies = {"c_xf": ([b"a", b"b"], 1)}
    batch = {"x_xf": np.random.RandomState(0).uniform(-1, 9, (16, 3)).astype("float32"),
             **({"c_xf": np.arange(16).reshape(-1, 1) % 4} if with_categorical else {})}
    tf_keras.utils.set_random_seed(1)
    old = build_model(config, inputs)
    path = str(tmp_path / warm_start.WEIGHTS_FILE)
    warm_start.save(old, path, "shared_bottom", vocabularies)
    tf_keras.utils.set_random_seed(2)
    new = build_model(config, inputs)
    decision = warm_start.start_from(new, path, "shared_bottom", vocabularies)
    assert decision.reason == "every layer matched"
    np.testing.assert_array_equal(new.get_layer("x_xf_piecewise_linear").kernel.numpy(),
                                  old.get_layer("x_xf_piecewise_linear").kernel.numpy())
    np.testing.assert_allclose(new(batch)["y1"], old(batch)["y1"], rtol=1e-6)
