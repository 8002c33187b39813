"""Gate recording: mean gate weights per task and expert, collapse detection (no TFX)."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.builder import build_model
from models.gates import mean_gate_weights
from models.trainer_outputs import GateGroupWeights, GateWeights
from config import build_config
from pipeline.results import gate_weights


def _batches(x, sizes):
    """(inputs, labels) batches of the given sizes: a finite dataset like the eval split."""
    starts = np.cumsum([0, *sizes])
    return [({"x_xf": tf.constant(x[a:b])}, {}) for a, b in zip(starts, starts[1:])]


@pytest.mark.parametrize("architecture", ["omoe", "mmoe", "ple"])
def test_means_are_over_examples_not_batches(architecture):
    config = build_config({"model": {"architecture": architecture}})
    model = build_model(config, {"x_xf": 6})
    x = np.random.RandomState(1).normal(size=(23, 6)).astype(np.float32) * 3
    recorded = mean_gate_weights(model, config, _batches(x, [10, 10, 3]))
    assert recorded.eval_examples == 23 and recorded.architecture == architecture
    for group in recorded.groups:
        for task, row in group.tasks.items():
            layer = model.get_layer(
                {"omoe": "gate", "mmoe": f"gate_{task}"}.get(architecture, f"level{group.name[-1]}_gate_{task}"))
            direct = tf_keras.Model(model.inputs, layer.output)({"x_xf": x}).numpy().mean(axis=0)
            seen = [w for w in row if w is not None]
            np.testing.assert_allclose(seen, direct, rtol=1e-5)
            assert sum(seen) == pytest.approx(1.0, abs=1e-5)


def test_ple_rows_leave_other_tasks_experts_empty():
    config = build_config({"model": {"architecture": "ple", "num_levels": 1, "num_task_experts": 1,
                                     "num_shared_experts": 1}})
    model = build_model(config, {"x_xf": 4})
    (group,) = mean_gate_weights(model, config, _batches(np.ones((5, 4), np.float32), [5])).groups
    assert group.experts == ["level0_y1_expert_0", "level0_y2_expert_0", "level0_shared_expert_0"]
    assert group.tasks["y1"][1] is None and group.tasks["y2"][0] is None
    assert group.tasks["y1"][0] is not None and group.tasks["y1"][2] is not None


def test_ungated_model_records_nothing():
    config = build_config()
    assert mean_gate_weights(build_model(config, {"x_xf": 4}), config, []) is None


def test_a_gate_forced_onto_one_expert_is_flagged():
    config = build_config({"model": {"architecture": "mmoe", "num_experts": 4}})
    model = build_model(config, {"x_xf": 6})
    for task in ("y1", "y2"):
        layer = model.get_layer(f"gate_{task}")
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel * 0, np.array([0, 0, 20.0, 0], np.float32)])
    recorded = mean_gate_weights(model, config, _batches(np.ones((8, 6), np.float32), [8]))
    assert recorded.groups[0].collapsed_onto() == "expert_2"
    (warning,) = recorded.warnings()
    assert "every task puts >= 90% of its gate weight on expert_2" in warning
    assert any(line.startswith("warning: gates collapsed") for line in recorded.summary_lines())


def test_collapse_needs_every_task_on_the_same_expert():
    different = GateGroupWeights("experts", ["e0", "e1"], {"y1": [0.95, 0.05], "y2": [0.05, 0.95]})
    same = GateGroupWeights("experts", ["e0", "e1"], {"y1": [0.95, 0.05], "y2": [0.92, 0.08]})
    spread = GateGroupWeights("experts", ["e0", "e1"], {"y1": [0.6, 0.4], "y2": [0.89, 0.11]})
    assert different.collapsed_onto() is None and spread.collapsed_onto() is None
    assert same.collapsed_onto() == "e0"
    assert GateWeights("mmoe", 10, [different, spread]).warnings() == []


def test_json_round_trip(tmp_path):
    recorded = GateWeights("ple", 12, [GateGroupWeights("level 0", ["a", "b", "s"],
                                                        {"y1": [0.5, None, 0.5], "y2": [None, 0.2, 0.8]})])
    (tmp_path / gate_weights.GATE_WEIGHTS_FILE).write_text(recorded.to_json())
    assert gate_weights.load(tmp_path) == recorded
    assert json.loads(recorded.to_json())["groups"][0]["tasks"]["y1"][1] is None
    assert gate_weights.load(tmp_path / "missing") is None
    lines = recorded.summary_lines(top=1)
    assert lines[1:] == ["  y1: s 0.50", "  y2: s 0.80"]
