"""The real pipeline, end to end, through the local runner CLI."""


import json
import subprocess

import pytest

from conftest import REPO, SMALL_RUN, command, run_pipeline_cli, serving_versions, tree_digest
from ml_metadata.proto import metadata_store_pb2

from config import build_config
from pipeline.results import mlmd
from pipeline.results.eval_results import load_metric_records, overall_metrics
from pipeline.results.serving_check import check_serving

pytestmark = pytest.mark.e2e
COMPONENTS = {"SyntheticExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomaliesGate",
              "DataChoices", "ComponentConfigs", "served_model_resolver", "DriftCheck", "Transform", "Trainer",
              "baseline_model_resolver", "Evaluator", "Pusher"}
RESOLVERS = {"baseline_model_resolver", "served_model_resolver"}  # they run on every run



def test_run_reports_every_component_and_a_summary(default_run):
    assert set(default_run.component_lines()) == COMPONENTS
    assert "gate passed" in default_run.stdout and "Blessed and pushed:" in default_run.stdout
    assert "label variance" in default_run.stdout
    # TFX's own logging went to the log file, not the terminal.
    assert "absl" not in default_run.stdout and "WARNING" not in default_run.stdout
    logs = list((default_run.output_dir / "logs").glob("run-*.log"))
    assert logs and "Component Trainer is finished." in logs[0].read_text()
    assert (default_run.output_dir / "metadata.sqlite").is_file()


def test_pushed_model_serves_raw_examples_without_labels(default_run):
    assert len(serving_versions(default_run.output_dir)) == 1
    # Test-split examples with their labels removed, through serving_default.
    scores = check_serving(default_run.output_dir, build_config())
    assert set(scores) == {"y1", "y2"}
    for task, r2 in scores.items():
        assert r2 >= 0.5, f"{task}: R² {r2:.3f} of the served model on the test split"


def _splits(run: mlmd.NodeRun, exec_property: str, field: str) -> set[str]:
    """The splits one of an execution's proto exec properties names (as ML Metadata recorded it)."""
    return set(json.loads(mlmd.exec_property(run.execution, exec_property) or "{}").get(field, []))


def test_the_evaluator_scores_a_split_no_training_decision_read(default_run):
    store = mlmd.open_store(default_run.output_dir / "metadata.sqlite")
    name = build_config().pipeline_name
    trainer, transform, evaluator = (mlmd.latest_node_run(store, name, node)
                                     for node in ("Trainer", "Transform", "Evaluator"))
    examples = json.loads(mlmd.latest_node_run(store, name, "SyntheticExampleGen").output("examples")
                          .properties["split_names"].string_value)
    assert examples == ["train", "eval", "test"]
    trained_on = _splits(trainer, "train_args", "splits") | _splits(trainer, "eval_args", "splits")
    assert trained_on == {"train", "eval"}  # fitted on train; early stopping and best weights on eval
    assert _splits(transform, "splits_config", "analyze") == {"train"}
    assert json.loads(mlmd.exec_property(evaluator.execution, "example_splits")) == ["test"]
    assert mlmd.evaluated_split(evaluator) == "test"
    assert "Evaluation on the test split (" in default_run.stdout


def _blessed_evaluations(output_dir, pipeline_name):
    """The evaluation folders of every Evaluator execution that blessed its model, newest first."""
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.Evaluator")
    found = []
    for execution in sorted(store.get_executions_by_context(context.id), key=lambda e: -e.id):
        events = [e for e in store.get_events_by_execution_ids([execution.id])
                  if e.type == metadata_store_pb2.Event.OUTPUT]
        outputs = {e.path.steps[0].key: a for e in events for a in store.get_artifacts_by_id([e.artifact_id])}
        if mlmd.int_property(outputs["blessing"], "blessed") == 1:
            found.append(outputs["evaluation"].uri)
    return found


def test_served_scores_equal_the_evaluators_overall_metrics(default_run):
    # Only one model is ever pushed into this dir: the one the (only) blessing evaluation scored.
    (evaluation,) = _blessed_evaluations(default_run.output_dir, build_config().pipeline_name)
    evaluated = overall_metrics(load_metric_records(evaluation))
    served = check_serving(default_run.output_dir, build_config())
    for task in ("y1", "y2"):
        assert abs(served[task] - evaluated[task]["r2"]) < 1e-3, (task, served[task], evaluated[task])


def test_serving_check_cli(default_run):
    proc = subprocess.run([*command("mtl-serving-check"), "--output-dir", str(default_run.output_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "y1: served R² on the test split" in proc.stdout and "y2:" in proc.stdout


def test_unchanged_rerun_is_served_from_cache(default_run):
    before = serving_versions(default_run.output_dir)
    rerun = run_pipeline_cli(default_run.output_dir, *SMALL_RUN)
    assert rerun.returncode == 0, rerun.stderr
    statuses = rerun.component_lines()
    # The first run pushed the model the check now compares with (it had none): the check reruns once.
    assert {name for name, status in statuses.items() if status == "ran"} <= RESOLVERS | {"DriftCheck"}
    assert serving_versions(default_run.output_dir) == before  # nothing pushed twice
    again = run_pipeline_cli(default_run.output_dir, *SMALL_RUN)
    assert again.returncode == 0, again.stderr
    statuses = again.component_lines()
    assert {name for name, status in statuses.items() if status == "ran"} <= RESOLVERS
    assert statuses["DriftCheck"] == "cached"  # nothing pushed since it last ran: the same served model
    assert serving_versions(default_run.output_dir) == before


def test_barely_trained_model_is_not_pushed_over_a_good_one(default_run):
    before = serving_versions(default_run.output_dir)
    digest = tree_digest(before[0])
    one_step = list(SMALL_RUN)
    one_step[one_step.index("--train-steps") + 1] = "1"
    bad = run_pipeline_cli(default_run.output_dir, *one_step)
    assert bad.returncode == 0, bad.stderr
    assert bad.component_lines()["Trainer"] == "ran"
    assert "gate FAILED" in bad.stdout and "Not pushed" in bad.stdout
    assert serving_versions(default_run.output_dir) == before
    assert tree_digest(before[0]) == digest


def test_bad_config_fails_before_any_component(tmp_path):
    output_dir = tmp_path / "out"
    run = run_pipeline_cli(output_dir, "--correlation", "1.5")
    assert run.returncode == 2
    assert "correlation must be in [-1, 1], got 1.5" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not output_dir.exists()


def test_bad_config_leaves_an_existing_output_dir_untouched(default_run):
    digest = tree_digest(default_run.output_dir)
    run = run_pipeline_cli(default_run.output_dir, "--train-steps", "0")
    assert run.returncode == 2 and "training.train_steps" in run.stderr
    assert tree_digest(default_run.output_dir) == digest


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    not_a_dir = tmp_path / "outputs"
    not_a_dir.write_text("keep me")
    run = run_pipeline_cli(not_a_dir)
    assert run.returncode == 2 and "exists and is not a directory" in run.stderr
    assert not_a_dir.read_text() == "keep me"
