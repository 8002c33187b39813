"""The compiled Kubeflow spec executed step by step, each step in its own process.

The e2e tests compile the default pipeline on a small budget with a local
root and run it twice through the launcher (``pipeline.kubeflow.dry_run``):
run-1 pushes a model that serves raw examples; run-2 (one training step)
resolves run-1's model as its baseline and pushes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

from conftest import REPO
from pipeline.kubeflow import dry_run
from config import build_config, load_config_file
from pipeline.kubeflow.launcher import (ArtifactRecord, LaunchError, RunResult, StepResult, load_spec,
                                        task_order)

# What `make kubeflow-dry-run` runs: about 1,000 examples, a short training that clears the gates.
BUDGET = load_config_file(REPO / "data" / "kubeflow_dry_run.yaml")
RUN_2_STEPS = 1
# Steps whose inputs or parameters change in run-2 (its Trainer has other train_args; ComponentConfigs
# gets the whole configuration; DataChoices only its data part, so it and Transform are cached).
# Run 2 changes training; the DriftCheck reruns too, because run 1 pushed the model it now compares
# with (the served model is its input: a push reruns it).
RERUN_IN_RUN_2 = {"DriftCheck", "ComponentConfigs", "Trainer", "Evaluator", "Pusher"}


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    root = tmp_path_factory.mktemp("kfp-dry-run")
    first_config = build_config(BUDGET)
    second_config = build_config({**BUDGET, "training": {**BUDGET["training"], "train_steps": RUN_2_STEPS}})
    started = time.monotonic()
    first, second, problems = dry_run.dry_run(first_config, second_config, root)
    print(f"dry run: {time.monotonic() - started:.0f} s")
    return root, first, second, problems


def _container_tasks(spec_file) -> set[str]:
    pipeline = load_spec(spec_file)
    return {name for name in pipeline.spec.root.dag.tasks
            if pipeline.executor(name).WhichOneof("spec") == "container"}


@pytest.mark.e2e
@pytest.mark.slow
def test_both_runs_reach_the_expected_outcome(dry):
    _, _, _, problems = dry
    assert problems == []


@pytest.mark.e2e
@pytest.mark.slow
def test_every_step_of_run_1_exits_0_in_its_own_process(dry):
    root, first, _, _ = dry
    containers = _container_tasks(root / "specs" / "run-1.json")
    assert len(containers) == 12  # with DataChoices, ComponentConfigs and DriftCheck
    executed = {name: step for name, step in first.steps.items() if step.kind == "container"}
    assert set(executed) == containers
    assert {name: step.returncode for name, step in executed.items()} == dict.fromkeys(containers, 0)
    pids = [step.pid for step in executed.values()]
    assert len(set(pids)) == len(pids) and os.getpid() not in pids
    for step in executed.values():  # each wrote its own log and executor output
        assert step.log.is_file() and (step.log.parent / "executor_output.json").is_file()


def _parameter(spec_file: Path, task: str, name: str) -> str:
    """A constant parameter of one task of a compiled spec (a proto exec property is its JSON)."""
    value = load_spec(spec_file).spec.root.dag.tasks[task].inputs.parameters[name].runtime_value
    return value.constant.string_value or value.constant_value.string_value


@pytest.mark.e2e
@pytest.mark.slow
def test_run_1s_evaluator_scores_a_split_no_training_decision_read(dry):
    root, first, _, _ = dry
    spec = root / "specs" / "run-1.json"
    examples = first.output("SyntheticExampleGen", "examples")
    assert json.loads(examples.metadata["split_names"]) == ["train", "eval", "test"]
    trained_on = {split for args in ("train_args", "eval_args")
                  for split in json.loads(_parameter(spec, "Trainer", args))["splits"]}
    assert trained_on == {"train", "eval"}
    assert json.loads(_parameter(spec, "Transform", "splits_config"))["analyze"] == ["train"]
    assert json.loads(_parameter(spec, "Evaluator", "example_splits")) == ["test"]


@pytest.mark.e2e
@pytest.mark.slow
def test_run_2_reruns_what_changed_and_reuses_the_rest(dry):
    root, first, second, _ = dry
    containers = _container_tasks(root / "specs" / "run-2.json")
    kinds = {name: second.steps[name].kind for name in containers}
    assert kinds == {name: "container" if name in RERUN_IN_RUN_2 else "cached" for name in containers}
    assert all(second.steps[name].returncode == 0 for name in RERUN_IN_RUN_2)
    pids = [second.steps[name].pid for name in RERUN_IN_RUN_2]
    assert len(set(pids)) == len(pids) and not set(pids) & {s.pid for s in first.steps.values()}
    for name in containers - RERUN_IN_RUN_2:
        assert second.steps[name].outputs == first.steps[name].outputs  # the same artifacts


@pytest.mark.e2e
@pytest.mark.slow
def test_run_2_evaluates_against_run_1s_model_and_pushes_nothing(dry):
    root, first, second, _ = dry
    first_model = first.output("Trainer", "model")
    assert [a.name for a in second.steps["Evaluator"].inputs["baseline_model"]] == [first_model.name]
    assert second.steps["Evaluator"].inputs["baseline_model"][0].uri == first_model.uri
    assert second.output("Evaluator", "blessing").metadata["blessed"] == 0
    assert second.output("Pusher", "pushed_model").metadata["pushed"] == 0
    assert first.output("Pusher", "pushed_model").metadata["pushed"] == 1
    assert len([p for p in (root / "serving").iterdir()]) == 1


@pytest.mark.e2e
@pytest.mark.slow
def test_a_step_that_cannot_import_its_executor_stops_the_run_with_its_error(dry, tmp_path):
    root, _, _, _ = dry
    spec = (root / "specs" / "run-1.json").read_text()
    broken = tmp_path / "broken.json"
    broken.write_text(spec.replace("components.synthetic_example_gen.executor.Executor",
                                   "components.synthetic_example_gen.missing.Executor"))
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.kubeflow.launcher", str(broken), "--root", str(tmp_path / "root"),
         "--run-id", "broken"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "step SyntheticExampleGen exited 1" in proc.stderr
    assert "No module named 'components.synthetic_example_gen.missing'" in proc.stderr
    assert "StatisticsGen" not in proc.stdout  # nothing after the failed step ran


@pytest.mark.e2e
@pytest.mark.slow
def test_a_multiclass_config_dry_runs_with_its_classes_read_from_the_data(tmp_path):
    """data/kubeflow_dry_run_penguins.yaml lists no classes: the compiled spec's DataChoices reads them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.kubeflow.dry_run", "--root", str(tmp_path / "root"),
         "--config", str(REPO / "data" / "kubeflow_dry_run_penguins.yaml")],
        cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Dry run passed" in proc.stdout
    choices = next((tmp_path / "root").glob("penguins-dry-run/run-1/DataChoices/choices"))
    decided = json.loads(choices.read_text())["pipeline_config"]
    assert decided["tasks"][0]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]


# Pure parts, without TFX.

def _dag(edges: dict[str, list[str]]) -> pb.DagSpec:
    dag = pb.DagSpec()
    for name, deps in edges.items():
        dag.tasks[name].dependent_tasks.extend(deps)
    return dag


def test_tasks_run_after_their_producers():
    order = task_order(_dag({"c": ["a", "b"], "b": ["a"], "a": [], "d": []}))
    assert order == ["a", "d", "b", "c"]


def test_a_cycle_or_an_unknown_producer_is_refused():
    with pytest.raises(LaunchError, match="cycle"):
        task_order(_dag({"a": ["b"], "b": ["a"]}))
    with pytest.raises(LaunchError, match="unknown task"):
        task_order(_dag({"a": ["z"]}))


def _artifact(name: str, title: str, **metadata) -> pb.RuntimeArtifact:
    artifact = pb.RuntimeArtifact(name=name, uri=f"/r/{name}")
    artifact.type.schema_title = title
    artifact.metadata.update(metadata)
    return artifact


def test_the_blessing_query_finds_the_newest_blessed_blessing(tmp_path):
    record = ArtifactRecord(tmp_path)
    blessing = "tfx.ModelBlessing"
    record.add_execution("run-1", "Evaluator", "k1", {"blessing": [_artifact("b1", blessing, blessed=1)]})
    record.add_execution("run-2", "Evaluator", "k2", {"blessing": [_artifact("b2", blessing, blessed=0)]})
    record.add_execution("run-2", "Trainer", "k3", {"model": [_artifact("m2", "tfx.Model")]})
    blessed = 'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
    assert [a.name for a in ArtifactRecord(tmp_path).query(blessed)] == ["b1"]  # read back from disk
    assert [a.name for a in record.query('schema_title="tfx.Model" AND name="m2"')] == ["m2"]
    assert record.query('schema_title="tfx.Model" AND name="b1"') == []
    assert record.cached("k2")[0] == "run-2" and record.cached("k9") is None


@pytest.mark.parametrize("artifact_filter", [
    'schema_title="tfx.Model" OR state=LIVE', 'create_time>"2020"', 'labels.x="y"'])
def test_a_filter_the_launcher_cannot_answer_is_refused(tmp_path, artifact_filter):
    with pytest.raises(LaunchError, match="resolver filter"):
        ArtifactRecord(tmp_path).query(artifact_filter)


def test_a_file_that_is_not_a_spec_is_refused(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"pipelineSpec": {"root": {"dag": {"tasks": {"a": {"nope": 1}}}}}}))
    with pytest.raises(LaunchError, match="not a KFP pipeline spec"):
        load_spec(bad)
    with pytest.raises(LaunchError, match="no such file"):
        load_spec(tmp_path / "missing.json")


def _run(run_id: str, **outputs) -> RunResult:
    """A RunResult whose steps produced the given artifacts: task=(key, artifact)."""
    result = RunResult(run_id, Path("/r"))
    for task, (key, artifact) in outputs.items():
        result.steps[task] = StepResult(task, "container", returncode=0, outputs={key: [artifact]})
    return result


def test_the_second_run_check_names_each_way_it_can_go_wrong(tmp_path):
    model_1 = _artifact("run-1/Trainer/model", "tfx.Model")
    first = _run("run-1", Trainer=("model", model_1),
                 Evaluator=("blessing", _artifact("run-1/Evaluator/blessing", "tfx.ModelBlessing",
                                                  blessed=1)))
    good = _run("run-2", **{
        dry_run.BLESSING_RESOLVER: ("model_blessing", first.output("Evaluator", "blessing")),
        dry_run.MODEL_RESOLVER: ("model", model_1),
        "Evaluator": ("blessing", _artifact("b2", "tfx.ModelBlessing", blessed=0,
                                            baseline_model_id=model_1.name)),
        "Pusher": ("pushed_model", _artifact("p2", "tfx.PushedModel", pushed=0))})
    assert dry_run.second_run_problems(first, good, [], tmp_path / "serving") == []

    bad = _run("run-2", **{
        dry_run.BLESSING_RESOLVER: ("model_blessing", _artifact("other", "tfx.ModelBlessing")),
        dry_run.MODEL_RESOLVER: ("model", _artifact("other-model", "tfx.Model")),
        "Evaluator": ("blessing", _artifact("b2", "tfx.ModelBlessing", blessed=1)),
        "Pusher": ("pushed_model", _artifact("p2", "tfx.PushedModel", pushed=1))})
    (tmp_path / "serving" / "17").mkdir(parents=True)
    problems = dry_run.second_run_problems(first, bad, [], tmp_path / "serving")
    assert [p.split(":")[1].split()[1] for p in problems] == [
        "blessing", "baseline", "Evaluator", "Evaluator", "Pusher", "serving"]
