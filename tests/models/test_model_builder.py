"""The shared-bottom builder, Keras in and Keras out (no TFX)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from components import synthetic_data
from models.builder import BUILDERS, build_model, compile_model, save_network
from models.metrics import R2Score as R2
from config import build_config

SEED_PARAMS = {"model": {"bottom_units": [32, 16], "task_units": [10, 5]}}


def test_graph_builds_with_the_reference_sizes():
    config = build_config(SEED_PARAMS)
    model = build_model(config, {"x_xf": 10})
    outputs = model({"x_xf": tf.random.normal((100, 10))})
    assert set(outputs) == {"y1", "y2"}
    assert all(outputs[name].shape == (100, 1) for name in outputs)
    names = [layer.name for layer in model.layers]
    assert ["bottom_dense_0", "bottom_out", "y1_dense_0", "y1_dense_1", "y1", "y2"] == [
        n for n in names if n in {"bottom_dense_0", "bottom_out", "y1_dense_0", "y1_dense_1", "y1", "y2"}]
    # Last bottom layer is linear; one tower per task, not shared.
    assert model.get_layer("bottom_out").activation is tf_keras.activations.linear
    assert model.get_layer("y1_dense_0") is not model.get_layer("y2_dense_0")


def test_binary_task_head_is_a_probability():
    config = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    model = build_model(config, {"x_xf": 6})
    out = model({"x_xf": tf.random.normal((50, 6)) * 100})["y2"].numpy()
    assert ((out >= 0) & (out <= 1)).all()


def test_training_then_export_and_reload(tmp_path):
    config = build_config(SEED_PARAMS)
    data = synthetic_data.generate(1000, seed=7, p=0.5)
    # With the default L2 penalty, which must survive saving.
    model = compile_model(build_model(config, {"x_xf": 100}, train_examples=1000), config)
    history = model.fit({"x_xf": data.inputs}, {"y1": data.y1, "y2": data.y2},
                        batch_size=64, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    save_network(model, tmp_path / "saved_model")  # as the Trainer saves
    reloaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    outputs = reloaded.signatures["serving_default"](x_xf=tf.constant(data.inputs[:5]))
    expected = model({"x_xf": data.inputs[:5]})
    for task in ("y1", "y2"):
        np.testing.assert_allclose(outputs[task].numpy(), expected[task].numpy(), rtol=1e-5)


def test_dropout_and_initializer_settings_are_applied():
    config = build_config({"model": {"bottom_dropout": 0.2, "task_dropout": 0.1,
                                     "bottom_initializer": "he_normal"}})
    model = build_model(config, {"x_xf": 4})
    assert model.get_layer("bottom_dropout_0").rate == 0.2
    assert model.get_layer("y2_dropout_1").rate == 0.1
    assert isinstance(model.get_layer("bottom_dense_0").kernel_initializer, tf_keras.initializers.HeNormal)


def test_unknown_architecture_is_refused(monkeypatch):
    config = build_config()
    monkeypatch.setattr(config.model, "architecture", "xmoe")
    with pytest.raises(ValueError, match="unknown architecture 'xmoe'"):
        build_model(config, {"x_xf": 4})
    assert "shared_bottom" in BUILDERS


def test_r2_metric_matches_the_definition():
    y = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    pred = np.array([1.1, 1.9, 3.2, 3.7], dtype=np.float32)
    metric = R2()
    metric.update_state(y[:2], pred[:2])
    metric.update_state(y[2:], pred[2:])  # streaming over batches
    expected = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    metric.reset_state()
    metric.update_state(y, y.mean() * np.ones_like(y))
    assert float(metric.result()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("label", [0.0, 0.1, 3.7])
def test_r2_is_undefined_on_constant_labels_in_training_and_evaluation_alike(label):
    from models.tasks.regression import r2_score

    y = np.full(8, label, dtype=np.float32)
    pred = np.linspace(-1, 1, 8).astype(np.float32)
    metric = R2()
    metric.update_state(y[:3], pred[:3])
    metric.update_state(y[3:], pred[3:])
    # No label variance to explain: NaN from the Keras metric and from the Evaluator's sums,
    # so a min_r2 gate fails on such a slice instead of reading a made-up 0.
    assert np.isnan(float(metric.result())) and np.isnan(r2_score(y, pred))


def test_paper_shared_bottom_has_a_relu_bottom():
    config = build_config({"model": {"bottom_units": [113], "task_units": [8], "bottom_linear_output": False}})
    model = build_model(config, {"x_xf": 100})
    assert model.get_layer("bottom_out").activation is tf_keras.activations.relu
    # 100 -> 113 (ReLU) shared; per task 113 -> 8 -> 1: the MMoE paper's sizes (Sec. 5.1).
    assert model.count_params() == (100 * 113 + 113) + 2 * ((113 * 8 + 8) + (8 + 1))


def test_default_l2_is_five_over_the_training_examples_on_every_dense_kernel():
    config = build_config(SEED_PARAMS)
    model = build_model(config, {"x_xf": 4}, train_examples=500)
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, tf_keras.layers.Dense)]
    expected = sum(0.01 * float(tf.reduce_sum(tf.square(k))) for k in kernels)
    assert len(model.losses) == len(kernels) == 8  # bottom 2, then per task 2 tower layers + its output
    assert float(tf.add_n(model.losses)) == pytest.approx(expected, rel=1e-5)
    assert build_model(config, {"x_xf": 4}).losses == []  # no size known: no penalty
    fixed = build_model(build_config({**SEED_PARAMS, "model": {**SEED_PARAMS["model"], "l2": 0.0}}),
                        {"x_xf": 4}, train_examples=500)
    assert fixed.losses == []
