"""TabM-mini ensembling (``model.ensemble_size``), Keras in and Keras out (no TFX).

Each member of a k-member model is rebuilt here as a plain (k = 1) model with
the same weights: the input scaled by the member's vector, the member's head as
the output layer. The ensemble must serve the mean of those members, and train
on the mean of their losses.
"""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models import ensemble
from models.builder import build_model, compile_model
from models.ensemble import MemberCopies, MemberHeads, MemberMean, training_view
from models.gates import mean_gate_weights
from config import ConfigError, build_config

ARCHITECTURES = ["shared_bottom", "omoe", "mmoe", "ple"]
TASKS = [{"name": "y1"}, {"name": "y2", "type": "binary", "loss_weight": 2.0},
         {"name": "y3", "type": "multiclass", "classes": ["a", "b", "c"]}]
WIDTH = 6


DATA = {"source": "csv", "path": "unused.csv", "features": [{"name": "x", "size": WIDTH}]}


def _config(architecture, k, **model):
    return build_config({"model": {"architecture": architecture, "ensemble_size": k, "l2": 0.0, **model},
                         "data": DATA, "tasks": TASKS})


def _data(rows=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, WIDTH)).astype("float32")
    labels = {"y1": rng.normal(size=(rows, 1)).astype("float32"),
              "y2": (rng.random(size=(rows, 1)) > 0.5).astype("float32"),
              "y3": rng.integers(0, 3, size=(rows, 1))}
    return x, labels


def _member(network, config_k1, j):
    """Member j of ``network`` as a model of its own: (plain model, its input scale)."""
    member = build_model(config_k1, {"x_xf": WIDTH})
    for layer in member.layers:
        if not layer.weights:
            continue
        source = network.get_layer(layer.name if layer.name not in config_k1.task_names else f"{layer.name}_heads")
        weights = source.get_weights()
        if isinstance(source, MemberHeads):
            weights = [weights[0][j], weights[1][j]]
        layer.set_weights(weights)
    return member, network.get_layer("ensemble_copies").get_weights()[0][:, j]


def test_size_1_is_the_plain_model():
    plain = build_model(build_config({"data": DATA, "tasks": TASKS}), {"x_xf": WIDTH})
    one = build_model(_config("shared_bottom", 1, l2=None), {"x_xf": WIDTH})
    assert [(l.name, type(l)) for l in one.layers] == [(l.name, type(l)) for l in plain.layers]
    assert [w.shape for w in one.weights] == [w.shape for w in plain.weights]
    assert not any(isinstance(l, (MemberCopies, MemberHeads, MemberMean)) for l in one.layers)
    x, _ = _data(10)
    assert {t: o.shape for t, o in one({"x_xf": x}).items()} == {"y1": (10, 1), "y2": (10, 1), "y3": (10, 3)}
    assert not isinstance(training_view(one), ensemble.MembersTrainingView)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_output_is_the_mean_of_the_members_computed_each_on_its_own(architecture):
    tf_keras.utils.set_random_seed(1)
    k = 4
    network = build_model(_config(architecture, k), {"x_xf": WIDTH})
    x, _ = _data(32)
    served = network({"x_xf": x}, training=False)
    assert {t: o.shape for t, o in served.items()} == {"y1": (32, 1), "y2": (32, 1), "y3": (32, 3)}
    members = [_member(network, _config(architecture, 1), j) for j in range(k)]
    predictions = [m({"x_xf": x * scale}, training=False) for m, scale in members]
    for task in ("y1", "y2", "y3"):
        each = np.stack([p[task].numpy() for p in predictions])
        np.testing.assert_allclose(served[task].numpy(), each.mean(axis=0), rtol=1e-5, atol=1e-6)
        assert np.ptp(each, axis=0).max() > 1e-3  # the members differ
    # Probabilities stay probabilities: the mean of the members' softmaxes.
    np.testing.assert_allclose(served["y3"].numpy().sum(axis=1), 1.0, rtol=1e-5)
    # Started at random signs, as the paper's TabM-mini.
    assert set(np.unique(network.get_layer("ensemble_copies").get_weights()[0])) == {-1.0, 1.0}


@pytest.mark.parametrize("architecture", ["shared_bottom", "mmoe"])
def test_the_training_loss_is_the_mean_of_the_members_losses(architecture):
    tf_keras.utils.set_random_seed(2)
    k = 3
    network = build_model(_config(architecture, k), {"x_xf": WIDTH})
    view = compile_model(training_view(network), _config(architecture, k))
    x, labels = _data(128)
    result = view.evaluate({"x_xf": x}, labels, batch_size=128, verbose=0, return_dict=True)

    def losses(p):
        y1 = float(np.mean((labels["y1"] - p["y1"]) ** 2))
        q = np.clip(p["y2"], 1e-7, 1 - 1e-7)
        y2 = float(np.mean(-(labels["y2"] * np.log(q) + (1 - labels["y2"]) * np.log(1 - q))))
        y3 = float(np.mean(-np.log(np.clip(p["y3"][np.arange(len(x)), labels["y3"][:, 0]], 1e-7, 1))))
        return y1 + 2.0 * y2 + y3

    members = [_member(network, _config(architecture, 1), j) for j in range(k)]
    each = [losses({t: v.numpy() for t, v in m({"x_xf": x * s}, training=False).items()}) for m, s in members]
    assert result["loss"] == pytest.approx(np.mean(each), rel=1e-4)
    # Not the loss of the mean prediction: each member is trained as a model of its own.
    of_mean = losses({t: v.numpy() for t, v in network({"x_xf": x}, training=False).items()})
    assert abs(of_mean - result["loss"]) > 1e-3
    # Metrics are the served (mean) prediction's: R² of y1 from the network's output.
    served = network({"x_xf": x}, training=False)["y1"].numpy()
    r2 = 1 - np.sum((labels["y1"] - served) ** 2) / np.sum((labels["y1"] - labels["y1"].mean()) ** 2)
    assert result["y1_r2"] == pytest.approx(r2, rel=1e-4, abs=1e-5)


def test_training_moves_every_member_and_the_network_saves_with_the_mean(tmp_path):
    tf_keras.utils.set_random_seed(3)
    config = _config("shared_bottom", 4)
    network = build_model(config, {"x_xf": WIDTH}, train_examples=200)
    heads_before = network.get_layer("y1_heads").get_weights()[0].copy()
    view = compile_model(training_view(network), config)
    x, labels = _data()
    history = view.fit({"x_xf": x}, labels, batch_size=32, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    moved = np.abs(network.get_layer("y1_heads").get_weights()[0] - heads_before).reshape(4, -1).max(axis=1)
    assert (moved > 0).all()
    network.save(tmp_path / "model", save_format="tf")
    reloaded = tf.saved_model.load(str(tmp_path / "model"))
    served = reloaded.signatures["serving_default"](x_xf=tf.constant(x[:7]))
    expected = network({"x_xf": x[:7]}, training=False)
    for task in ("y1", "y2", "y3"):
        np.testing.assert_allclose(served[task].numpy(), expected[task].numpy(), rtol=1e-5)


def test_an_ensembles_gate_weights_are_the_members_mean():
    tf_keras.utils.set_random_seed(4)
    config = _config("mmoe", 4)
    network = build_model(config, {"x_xf": WIDTH})
    x, labels = _data(64)
    dataset = tf.data.Dataset.from_tensor_slices(({"x_xf": x}, labels)).batch(16)
    weights = mean_gate_weights(network, config, dataset)
    assert weights.eval_examples == 64
    gate = tf_keras.Model(network.inputs, network.get_layer("gate_y1").output)({"x_xf": x}).numpy()
    assert gate.shape == (64, 4, 4)  # [batch, members, experts]
    np.testing.assert_allclose(weights.groups[0].tasks["y1"], gate.mean(axis=(0, 1)), rtol=1e-5)


@pytest.mark.parametrize("value", [0, -2])
def test_an_ensemble_size_below_1_is_one_line_naming_the_field(value):
    with pytest.raises(ConfigError) as error:
        build_config({"model": {"ensemble_size": value}})
    message = str(error.value)
    assert "model.ensemble_size" in message and "greater than or equal to 1" in message
    assert "\n" not in message


def test_the_heads_l2_is_shared_by_the_members():
    # The loss is the members' mean, so each head gets 1/k of its gradient from the data.
    network = build_model(_config("shared_bottom", 4, l2=0.02), {"x_xf": WIDTH})
    assert network.get_layer("y1_heads").kernel_regularizer.l2 == pytest.approx(0.005)
    assert network.get_layer("bottom_dense_0").kernel_regularizer.l2 == pytest.approx(0.02)
    assert ensemble.MEMBER_AXIS == 1


def test_the_tuner_searches_ensemble_size_only_when_given():
    import keras_tuner

    from models.tuning import trial_values

    hp = keras_tuner.HyperParameters()
    assert "ensemble_size" not in trial_values(hp, build_config({}))
    config = build_config({"tuning": {"search_space": {"ensemble_size": [1, 8]}}})
    assert trial_values(keras_tuner.HyperParameters(), config)["ensemble_size"] == 1
