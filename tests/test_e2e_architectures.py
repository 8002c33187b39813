"""MMoE and PLE through the real pipeline: trained, gated, pushed, served; gates recorded and reported."""

import json
import re

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_config_cli, run_pipeline_cli, serving_versions
from pipeline.results import gate_weights, mlmd, task_weights
from config import build_config
from pipeline.results.serving_check import check_serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MMOE_RUN = ["--architecture", "mmoe", "--correlation", "0.5", "--num-examples", "3000",
            "--train-steps", "2000", "--seed", "7"]
PLE_CONFIG = {
    "model": {"architecture": "ple"},
    "training": {"task_weighting": "uncertainty", "train_steps": 1500},
    "data": {"num_examples": 2000, "correlation": 0.5, "seed": 7, "binary_labels": ["y2"]},
    "tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}],
}


def _model_run_dir(output_dir, config):
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    evaluator = mlmd.latest_node_run(store, config.pipeline_name, "Evaluator")
    return mlmd.evaluated_model_run_uri(store, evaluator)


def _served_outputs(output_dir):
    (version,) = serving_versions(output_dir)
    serve = tf.saved_model.load(str(version)).signatures["serving_default"]
    example = tf.train.Example()
    example.features.feature["x"].float_list.value.extend(np.linspace(-1, 1, 100))
    return serve(examples=tf.constant([example.SerializeToString()] * 3))


def _report_dir(run):
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("Report: ")]
    return line.removeprefix("Report: ").rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def mmoe_run(tmp_path_factory):
    run = run_pipeline_cli(tmp_path_factory.mktemp("mmoe") / "out", *MMOE_RUN)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def ple_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ple")
    return run_config_cli(folder, PLE_CONFIG, "ple")


def test_mmoe_pushes_a_model_serving_both_tasks_well(mmoe_run):
    assert "Blessed and pushed:" in mmoe_run.stdout
    outputs = _served_outputs(mmoe_run.output_dir)
    assert set(outputs) == {"y1", "y2"} and all(v.shape == (3, 1) for v in outputs.values())
    config = build_config({"model": {"architecture": "mmoe"}})
    scores = check_serving(mmoe_run.output_dir, config)
    assert scores["y1"] >= 0.8 and scores["y2"] >= 0.8, scores


def test_mmoe_gate_weights_are_recorded_summarized_and_reported(mmoe_run):
    config = build_config({"model": {"architecture": "mmoe"}})
    recorded = gate_weights.load(_model_run_dir(mmoe_run.output_dir, config))
    (group,) = recorded.groups
    assert group.experts == [f"expert_{i}" for i in range(config.model.num_experts)]
    for row in group.tasks.values():
        assert sum(row) == pytest.approx(1.0, abs=1e-5) and min(row) >= 0
    # Over the whole eval split, which the Trainer reads (the Evaluator scores the held-out test split).
    store = mlmd.open_store(mmoe_run.output_dir / "metadata.sqlite")
    examples = mlmd.latest_node_run(store, config.pipeline_name, "SyntheticExampleGen").output("examples").uri
    eval_examples = sum(1 for _ in tf.data.TFRecordDataset(tf.io.gfile.glob(f"{examples}/Split-eval/*"),
                                                           compression_type="GZIP"))
    assert recorded.eval_examples == eval_examples
    assert f"Gate weights on the eval split (mmoe, {eval_examples} examples" in mmoe_run.stdout
    assert re.search(r"Evaluation on the test split \(\d+ examples\)", mmoe_run.stdout)
    report = _report_dir(mmoe_run)
    page = open(f"{report}/index.html").read()
    assert 'alt="Gate weights (experts)" src="data:image/png;base64,' in page
    markdown = open(f"{report}/report.md").read()
    y1 = " | ".join(f"{w:.2f}" for w in group.tasks["y1"])
    assert f"| y1 | {y1} |" in markdown
    assert json.load(open(f"{report}/metrics.json"))["gate_weights"] == json.loads(recorded.to_json())


def test_ple_with_a_binary_task_and_learned_task_weights(ple_run):
    assert "Blessed and pushed:" in ple_run.stdout
    outputs = _served_outputs(ple_run.output_dir)
    assert set(outputs) == {"y1", "y2"}
    assert ((outputs["y2"].numpy() >= 0) & (outputs["y2"].numpy() <= 1)).all()
    config = build_config(PLE_CONFIG)
    scores = check_serving(ple_run.output_dir, config)
    assert scores["y1"] >= 0.5 and scores["y2"] >= 0.7, scores  # R², AUC

    run_dir = _model_run_dir(ple_run.output_dir, config)
    (group,) = gate_weights.load(run_dir).groups  # one level
    assert group.tasks["y1"][group.experts.index("level0_y2_expert_0")] is None
    assert sum(w for w in group.tasks["y1"] if w is not None) == pytest.approx(1.0, abs=1e-5)
    learned = task_weights.load(run_dir)
    assert set(learned) == {"y1", "y2"}
    assert task_weights.summary_line(learned) in ple_run.stdout
    assert 'alt="Gate weights (level 0)"' in open(f"{_report_dir(ple_run)}/index.html").read()

