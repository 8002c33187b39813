"""OMoE, MMoE and PLE builders, Keras in and Keras out (no TFX)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from components import synthetic_data
from models.builder import build_model, compile_model, gate_groups, save_network
from config import ConfigError, build_config
from models.features import ModelInput
from models.numeric_embeddings import PeriodicEmbedding

GATED = ["omoe", "mmoe", "ple"]
THREE_TASKS = [{"name": "y1"}, {"name": "y2", "type": "binary"}, {"name": "y3", "label": "y1"}]


def _config(architecture, tasks=None, **model):
    return build_config({"model": {"architecture": architecture, **model},
                         "data": {"source": "csv", "path": "unused.csv",
                                  "features": [{"name": "x", "size": 10}]},
                         "tasks": tasks or [{"name": "y1"}, {"name": "y2"}]})


def _dense(d_in, d_out):
    return d_in * d_out + d_out


def _towers(num_tasks, d_in, units=(10, 5)):
    sizes = [d_in, *units, 1]
    return num_tasks * sum(_dense(a, b) for a, b in zip(sizes, sizes[1:]))


def _gate_outputs(model, config, inputs):
    names = sorted({layer for group in gate_groups(config) for layer, _ in group.gates.values()})
    probe = tf_keras.Model(model.inputs, {n: model.get_layer(n).output for n in names})
    return {n: v.numpy() for n, v in probe(inputs).items()}


@pytest.mark.parametrize("architecture", GATED)
def test_one_output_per_task_of_every_type(architecture):
    config = _config(architecture, THREE_TASKS)
    model = build_model(config, {"x_xf": 10})
    outputs = model({"x_xf": tf.random.normal((7, 10)) * 50})
    assert set(outputs) == {"y1", "y2", "y3"}
    assert all(outputs[t].shape == (7, 1) for t in outputs)
    binary = outputs["y2"].numpy()
    assert ((binary >= 0) & (binary <= 1)).all()  # a probability
    assert not np.allclose(outputs["y1"].numpy(), outputs["y3"].numpy())  # own towers


@pytest.mark.parametrize("architecture, expected", [
    # 8 experts of one 16-unit layer on 10 inputs; softmax gates on the input; towers [10, 5] -> 1.
    ("omoe", 8 * _dense(10, 16) + 1 * _dense(10, 8) + _towers(2, 16)),
    ("mmoe", 8 * _dense(10, 16) + 2 * _dense(10, 8) + _towers(2, 16)),
])
def test_mixture_parameter_counts_match_a_hand_count(architecture, expected):
    model = build_model(_config(architecture, num_experts=8), {"x_xf": 10})
    assert model.count_params() == expected


def test_ple_parameter_count_matches_a_hand_count():
    # 3 tasks, 1 expert per task + 2 shared at each of 2 levels, experts [16, 8].
    config = _config("ple", THREE_TASKS, num_task_experts=1, num_shared_experts=2, num_levels=2,
                     expert_units=[16, 8])
    expert_in = lambda d: _dense(d, 16) + _dense(16, 8)  # noqa: E731
    level0 = 5 * expert_in(10) + 3 * _dense(10, 3) + _dense(10, 5)  # task gates over 1+2, shared over 5
    level1 = 5 * expert_in(8) + 3 * _dense(8, 3)  # no shared gate at the last level
    model = build_model(config, {"x_xf": 10})
    assert model.count_params() == level0 + level1 + _towers(3, 8)


def test_gate_hidden_layers_are_counted():
    model = build_model(_config("mmoe", num_experts=4, gate_units=[6]), {"x_xf": 10})
    assert model.count_params() == 4 * _dense(10, 16) + 2 * (_dense(10, 6) + _dense(6, 4)) + _towers(2, 16)


@pytest.mark.parametrize("architecture", GATED)
def test_gate_outputs_are_distributions(architecture):
    config = _config(architecture, THREE_TASKS)
    model = build_model(config, {"x_xf": 10})
    gates = _gate_outputs(model, config, {"x_xf": tf.random.normal((64, 10)) * 10})
    for group in gate_groups(config):
        for layer, experts in group.gates.values():
            weights = gates[layer]
            assert weights.shape == (64, len(experts))
            assert (weights >= 0).all()
            np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)


def test_mixture_is_the_gate_weighted_sum_of_the_experts():
    config = _config("mmoe", num_experts=3)
    model = build_model(config, {"x_xf": 10})
    x = np.random.RandomState(0).normal(size=(5, 10)).astype(np.float32)
    probe = tf_keras.Model(model.inputs, [model.get_layer(f"expert_{i}_dense_0").output for i in range(3)]
                           + [model.get_layer("gate_y2").output, model.get_layer("gate_y2_mixture").output])
    *experts, gate, mixture = [v.numpy() for v in probe({"x_xf": x})]
    expected = sum(gate[:, [i]] * experts[i] for i in range(3))
    np.testing.assert_allclose(mixture, expected, rtol=1e-5, atol=1e-6)


def test_omoe_has_one_gate_and_mmoe_one_per_task():
    omoe, mmoe = _config("omoe", THREE_TASKS), _config("mmoe", THREE_TASKS)
    assert {layer for layer, _ in gate_groups(omoe)[0].gates.values()} == {"gate"}
    assert {layer for layer, _ in gate_groups(mmoe)[0].gates.values()} == {"gate_y1", "gate_y2", "gate_y3"}
    x = {"x_xf": tf.random.normal((32, 10))}
    gates = _gate_outputs(build_model(mmoe, {"x_xf": 10}), mmoe, x)
    assert not np.allclose(gates["gate_y1"], gates["gate_y2"])


def test_ple_task_gates_weigh_own_and_shared_experts_only():
    config = _config("ple", num_task_experts=1, num_shared_experts=2, num_levels=1)
    (group,) = gate_groups(config)
    assert group.gates["y1"] == ("level0_gate_y1", ("level0_y1_expert_0", "level0_shared_expert_0",
                                                    "level0_shared_expert_1"))
    model = build_model(config, {"x_xf": 10})
    layer_names = {layer.name for layer in model.layers}
    assert "level0_gate_shared" not in layer_names  # one level: no shared gate above it
    assert set(group.experts) <= {n.removesuffix("_dense_0") for n in layer_names}


@pytest.mark.parametrize("architecture", GATED)
def test_experts_start_different_and_reproducibly(architecture):
    config = _config(architecture)
    names = [e for group in gate_groups(config) for e in group.experts]
    first = build_model(config, {"x_xf": 10})
    kernels = [first.get_layer(f"{name}_dense_0").kernel.numpy() for name in names[:2]]
    assert not np.allclose(kernels[0], kernels[1])
    again = build_model(config, {"x_xf": 10})  # same training seed: same start
    np.testing.assert_array_equal(again.get_layer(f"{names[0]}_dense_0").kernel.numpy(), kernels[0])
    reseeded = config.model_copy(update={"training": config.training.model_copy(update={"seed": 8})})
    other = build_model(reseeded, {"x_xf": 10})
    assert not np.allclose(other.get_layer(f"{names[0]}_dense_0").kernel.numpy(), kernels[0])


@pytest.mark.parametrize("architecture", GATED)
def test_trains_saves_and_serves(architecture, tmp_path):
    config = build_config({"model": {"architecture": architecture}, "training": {"learning_rate": 0.01}})
    data = synthetic_data.generate(1000, seed=7, p=0.5)
    model = compile_model(build_model(config, {"x_xf": 100}), config)
    history = model.fit({"x_xf": data.inputs}, {"y1": data.y1, "y2": data.y2},
                        batch_size=64, epochs=6, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    save_network(model, tmp_path / "saved_model")  # as the Trainer saves
    served = tf.saved_model.load(str(tmp_path / "saved_model")).signatures["serving_default"](
        x_xf=tf.constant(data.inputs[:5]))
    expected = model({"x_xf": data.inputs[:5]})
    for task in ("y1", "y2"):
        np.testing.assert_allclose(served[task].numpy(), expected[task].numpy(), rtol=1e-5)


@pytest.mark.parametrize("model, message", [
    ({"architecture": "mmoe", "num_experts": 0}, "model.num_experts: Input should be greater than or equal to 1"),
    ({"architecture": "ple", "num_levels": 0}, "model.num_levels: Input should be greater than or equal to 1"),
    ({"architecture": "ple", "num_task_experts": 0, "num_shared_experts": 0}, "ple needs at least one expert"),
    ({"architecture": "mmoe", "expert_units": []}, "model.expert_units"),
    ({"architecture": "omoe", "expert_units": [16, 0]}, "layer sizes must be positive"),
    ({"architecture": "mmoe", "bottom_units": [64]}, "bottom_units is read by shared_bottom, not by mmoe"),
    ({"num_experts": 6}, "num_experts is read by omoe / mmoe, not by shared_bottom"),
    ({"architecture": "mmoe", "num_levels": 3}, "num_levels is read by ple, not by mmoe"),
    ({"architecture": "moe"}, "model.architecture: Input should be 'shared_bottom', 'omoe', 'mmoe' or 'ple'"),
])
def test_bad_architecture_knobs_fail_in_one_line(model, message):
    with pytest.raises(ConfigError) as excinfo:
        build_config({"model": model})
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_every_architecture_of_the_configuration_has_a_builder():
    from models.builder import BUILDERS
    from config import ARCHITECTURES

    assert list(BUILDERS) == list(ARCHITECTURES)
    for name, settings in ARCHITECTURES.items():
        assert settings().architecture == name
        assert (BUILDERS[name].gate_groups is None) == (name == "shared_bottom")


# Every knob of every architecture at its default, as configurations were written out before
# each architecture had its own settings.
FLAT_DEFAULTS = {
    "bottom_units": [32, 16], "bottom_linear_output": True, "task_units": [10, 5],
    "bottom_activation": "relu", "task_activation": "relu", "bottom_dropout": 0.0, "task_dropout": 0.0,
    "bottom_initializer": "glorot_uniform", "task_initializer": "glorot_uniform", "expert_units": [16],
    "expert_dropout": 0.1, "gate_units": [], "num_experts": 4, "num_shared_experts": 2,
    "num_task_experts": 1, "num_levels": 1, "l2": None,
}


@pytest.mark.parametrize("architecture", ["shared_bottom", *GATED])
def test_a_flat_section_with_every_default_loads_as_the_architectures_settings(architecture, tmp_path):
    from config import ARCHITECTURES, load_config_file, write_config_file

    config = build_config({"model": {"architecture": architecture, **FLAT_DEFAULTS, "task_units": [7]}})
    assert type(config.model) is ARCHITECTURES[architecture]
    assert config.model.task_units == [7]
    written = tmp_path / "config.yaml"
    write_config_file(config, written)
    assert build_config(load_config_file(written)) == config


@pytest.mark.parametrize("model, training", [
    ({"architecture": "shared_bottom", "numeric_embedding": "periodic"}, {}),
    ({"architecture": "mmoe"}, {"task_weighting": "uncertainty"}),  # the log variances stay with training
    ({"architecture": "ple", "ensemble_size": 2}, {}),
], ids=["periodic", "uncertainty", "ensemble"])
def test_the_saved_network_is_rebuilt_by_keras_from_its_configuration(model, training, tmp_path):
    # The Trainer saves no per-layer traces (models.builder.save_network): Keras rebuilds the
    # network from its configuration and the project's registered layers, with the same outputs.
    config = build_config({"model": model, "training": training})
    network = build_model(config, {"x_xf": ModelInput(size=10, periodic=model.get("numeric_embedding") == "periodic")})
    if model.get("numeric_embedding"):
        assert any(isinstance(layer, PeriodicEmbedding) for layer in network.layers)
    save_network(network, tmp_path / "saved_model")
    rebuilt = tf_keras.models.load_model(tmp_path / "saved_model", compile=False)
    x = synthetic_data.generate(8, seed=3).inputs[:, :10]
    expected, outputs = network({"x_xf": x}), rebuilt({"x_xf": x})
    assert set(outputs) == {"y1", "y2"}
    for task in ("y1", "y2"):
        np.testing.assert_allclose(outputs[task].numpy(), expected[task].numpy(), rtol=1e-6)
