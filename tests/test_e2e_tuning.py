"""TFX's Tuner before the Trainer: ``tuning: {enabled: true, max_trials: N}`` on the penguins config.

The real pipeline runs locally with a two-trial search; the Tuner's best
hyperparameters must be the ones the Trainer trained with (its own record,
and the layers of the pushed model) and the ones the run summary shows. The
same configuration compiles for Kubeflow with the Tuner's output wired into
the Trainer.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import tensorflow as tf
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from conftest import REPO, command, run_pipeline_cli, serving_versions
from config import load_config_file
from config.tuning import SearchSpace, describe
from pipeline.results import mlmd

TRIALS = 2


def _tuned_config(folder: Path) -> Path:
    raw = load_config_file(REPO / "data" / "penguins.yaml")
    raw["data"]["path"] = str(REPO / "data" / "penguins.csv")
    raw["pipeline_name"] = "penguins-tuned"
    raw["tuning"] = {"enabled": True, "max_trials": TRIALS, "trial_max_steps": 100}
    raw["evaluation"]["confidence_intervals"] = "none"  # not under test here; the Evaluator is faster without
    raw["training"] = {"max_steps": 300}  # the wiring is under test, not the model's quality
    path = folder / "penguins_tuned.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuning")
    run = run_pipeline_cli(folder / "out", "--config", str(_tuned_config(folder)), timeout=1800)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    tuner = mlmd.latest_node_run(store, "penguins-tuned", "Tuner")
    trainer = mlmd.latest_node_run(store, "penguins-tuned", "Trainer")
    best = json.loads((Path(tuner.output("best_hyperparameters").uri) / "best_hyperparameters.txt").read_text())
    trials = json.loads((Path(tuner.output("tuner_results").uri) / "tuner_results.json").read_text())
    record = json.loads((Path(trainer.output("model_run").uri) / "training.json").read_text())
    return run, best["values"], trials, record


@pytest.mark.e2e
@pytest.mark.slow
def test_the_search_ran_its_trials_within_the_search_space(tuned_run):
    _, best, trials, _ = tuned_run
    assert len(trials) == TRIALS
    space = SearchSpace()
    for name, value in best.items():
        assert value in getattr(space, name), name
    # Every dimension the default space searches; the optional ones (ensemble_size) are not searched.
    assert set(best) == {name for name, choices in space if choices is not None}
    # The best trial is the one with the lowest eval loss.
    assert min(trials, key=lambda t: t["score"])["trial_id"] == trials[0]["trial_id"]
    assert {k: trials[0][k] for k in best} == best


@pytest.mark.e2e
@pytest.mark.slow
def test_the_trainer_trained_with_the_best_hyperparameters(tuned_run):
    run, best, _, record = tuned_run
    assert record["hyperparameters"] == best
    (version,) = serving_versions(run.output_dir)
    # The served signature's variables (the SavedModel holds no Keras traces: models.builder.save_network).
    loaded = tf.saved_model.load(str(version))  # held: its variables live as long as it does
    biases = {v.name: tuple(v.shape) for v in loaded.signatures["serving_default"].variables
              if v.name.endswith("bias:0")}
    # The first shared layer of the chosen architecture, at the chosen width.
    first = "expert" if best["architecture"] == "mmoe" else "bottom_dense_0"
    assert any(first in name and shape == (best["width"],) for name, shape in biases.items()), biases
    assert any("expert" in name for name in biases) == (best["architecture"] == "mmoe")


@pytest.mark.e2e
@pytest.mark.slow
def test_the_run_summary_shows_the_best_hyperparameters(tuned_run):
    run, best, trials, _ = tuned_run
    line = next(line for line in run.stdout.splitlines() if line.startswith("Tuning:"))
    assert line.startswith(f"Tuning: best of {TRIALS} trials (eval loss ")
    assert line.endswith(describe(best))
    assert f"{min(t['score'] for t in trials):.4g}" in line


@pytest.mark.e2e
def test_the_tuner_compiles_for_kubeflow_and_feeds_the_trainer(tmp_path):
    output = tmp_path / "pipeline.json"
    # A cloud pipeline root reads its data from the cloud too (a local path is refused when compiling).
    raw = load_config_file(_tuned_config(tmp_path))
    raw["data"]["path"] = "gs://test-bucket/penguins.csv"
    cloud_config = tmp_path / "penguins_tuned_cloud.yaml"
    cloud_config.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = subprocess.run([*command("mtl-kubeflow"), "--config", str(cloud_config),
                           "--output", str(output), "--image", "example.com/mtl:1",
                           "--pipeline-root", "gs://test-bucket/mtl"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    job = json_format.Parse(output.read_text(), pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec), pipeline_spec_pb2.PipelineSpec())
    tuner, trainer = spec.root.dag.tasks["Tuner"], spec.root.dag.tasks["Trainer"]
    assert tuner.inputs.parameters["tuner_fn"].runtime_value.constant_value.string_value == "models.tuning.tuner_fn"
    assert {a.task_output_artifact.producer_task for a in tuner.inputs.artifacts.values()} == \
        {"CsvExampleGen", "Transform", "SchemaGen"}
    hyperparameters = trainer.inputs.artifacts["hyperparameters"].task_output_artifact
    assert (hyperparameters.producer_task, hyperparameters.output_artifact_key) == ("Tuner", "best_hyperparameters")
