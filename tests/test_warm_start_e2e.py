"""Warm start for real: two runs into one output dir, the second starting from the first's served model."""

from __future__ import annotations

import re

import pytest

from conftest import run_pipeline_cli, serving_versions

from pipeline.results import mlmd

pytestmark = pytest.mark.e2e

CONFIG = """\
pipeline_name: mtl-warm-start
data: {{num_examples: 600, correlation: 0.5, seed: {seed}}}
training: {{max_steps: 300, warm_start_max_steps: 100, early_stopping: false, eval_steps: 5, warm_start: true}}
drift: {{enabled: false}}
tasks:
  - {{name: y1, gate: {{min_r2: -1000, max_drop: 1000}}}}
  - {{name: y2, gate: {{min_r2: -1000, max_drop: 1000}}}}
"""


def _run(tmp_path, output_dir, seed: int):
    config = tmp_path / f"seed{seed}.yaml"
    config.write_text(CONFIG.format(seed=seed))
    run = run_pipeline_cli(output_dir, "--config", str(config))
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr[-3000:]}"
    return run


def _lines(run, start: str) -> list[str]:
    return [line.strip() for line in run.stdout.splitlines() if line.strip().startswith(start)]


def _budget(run) -> tuple[str, str]:
    """The run summary's steps trained and budget: "Training: 300 steps (81 epochs); ran its whole budget, B"."""
    (line,) = _lines(run, "Training:")
    match = re.fullmatch(r"Training: ([0-9,]+ steps) \([0-9,]+ epochs\); ran its whole budget, (.+)", line)
    assert match, line
    return match[1], match[2]


def _warm_start_lines(run) -> list[str]:
    return _lines(run, "Warm start:")


@pytest.mark.slow  # two pipeline runs
def test_the_second_run_starts_from_the_first_runs_served_model(tmp_path):
    output_dir = tmp_path / "out"
    first = _run(tmp_path, output_dir, seed=7)
    assert _warm_start_lines(first) == ["Warm start: from scratch (no blessed model yet)"]
    assert _budget(first) == ("300 steps", "300 steps (training.max_steps)")
    (version,) = serving_versions(output_dir)

    second = _run(tmp_path, output_dir, seed=8)  # other data, the same architecture and inputs
    assert _warm_start_lines(second) == [f"Warm start: from serving/{version.name} (every layer matched)"]
    # Started from the served model, it trains within the warm start's cap, not the first run's.
    assert _budget(second) == ("100 steps", "100 steps (training.warm_start_max_steps)")

    store = mlmd.open_store(output_dir / "metadata.sqlite")
    first_trainer, second_trainer = mlmd.finished_node_runs(store, "mtl-warm-start", "Trainer")
    assert "base_model" not in first_trainer.inputs
    assert [a.id for a in second_trainer.inputs["base_model"]] == [first_trainer.output("model").id]


def test_the_kubeflow_spec_gives_the_trainer_the_served_model(tmp_path):
    import json
    import subprocess

    from conftest import REPO, command

    config = tmp_path / "config.yaml"
    config.write_text("pipeline_name: mtl-warm-kfp\ntraining: {train_steps: 50, warm_start: true}\n")
    output = tmp_path / "pipeline.json"
    proc = subprocess.run([*command("mtl-kubeflow"), "--config", str(config), "--output", str(output)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    spec = json.loads(output.read_text())["pipelineSpec"]
    base_model = spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["artifacts"]["base_model"]
    assert base_model["taskOutputArtifact"] == {"producerTask": "warm_start_model_resolver-model-resolver",
                                                "outputArtifactKey": "model"}
    # KFP resolves it by metadata queries: the newest blessing, then the model it names.
    executors = spec["deploymentSpec"]["executors"]
    query = executors["warm_start_model_resolver-model-blessing-resolver_executor"]["resolver"]
    assert "metadata.blessed.number_value=1" in query["outputArtifactQueries"]["model_blessing"]["filter"]
