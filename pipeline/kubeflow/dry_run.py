"""A dry run of the Kubeflow pipeline before deploying: compile it, then execute it twice.

    mtl-kubeflow-dry-run --root outputs/kubeflow-dry-run \
        [--config my.yaml] [--num-examples 1000] [--train-steps 100]

Compiles the pipeline with KubeflowV2DagRunner, with the pipeline root and the
serving folder under ``--root``, and executes the compiled spec step by step
through the launcher (``pipeline.kubeflow.launcher``), each step in its own
process:

1. run-1 must bless and push a model, and that model must serve raw examples
   (labels withheld) at least as well as its gates ask;
2. run-2 recompiles with ``--second-train-steps`` (1) training steps: its
   resolver must find run-1's model as the baseline, the Evaluator must not
   bless the new model, and nothing is pushed.

Exit status: 0 when every step exits 0 and both outcomes hold; 1 otherwise
(the end of a failing step's output is printed); 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from pipeline.cli.command import command
from pipeline.cli.flags import add_config_flags, config_from_args
from config import PipelineConfig
from pipeline.errors import RunStateError
from pipeline.kubeflow.launcher import (CompiledPipeline, Launcher, LaunchError, RunResult,
                                        fail_on_step_error, load_spec)

BLESSING_RESOLVER = "baseline_model_resolver-model-blessing-resolver"
MODEL_RESOLVER = "baseline_model_resolver-model-resolver"
DRY_RUN_IMAGE = "mtl-pipeline:dry-run"  # named in the spec; no image is pulled or run


@dataclass
class LocalTarget:
    """Where the compiled spec writes: a local folder instead of gs://."""
    pipeline_root: str
    serving_dir: str
    image: str = DRY_RUN_IMAGE


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_flags(parser)
    parser.add_argument("--root", type=Path, required=True,
                        help="empty or new local folder for both runs' artifacts and the serving folder")
    parser.add_argument("--second-train-steps", type=int, default=1,
                        help="training steps of run-2, whose model must not be pushed [1]")
    return parser.parse_args(argv)


def check_root(root: Path) -> Path:
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise LaunchError(f"--root {root} exists and is not an empty folder; remove it or pick another")
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def compile_spec(config: PipelineConfig, root: Path, name: str) -> CompiledPipeline:
    """The spec KubeflowV2DagRunner compiles, written to ``root/specs/name.json`` and read back."""
    from pipeline.kubeflow.compiler import compile_pipeline

    target = LocalTarget(pipeline_root=str(root), serving_dir=str(root / "serving"))
    job = compile_pipeline(config, target)
    path = root / "specs" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(job, indent=2, sort_keys=True), encoding="utf-8")
    return load_spec(path)


def _metadata(result: RunResult, task: str, key: str) -> dict:
    from google.protobuf import json_format

    artifact = result.output(task, key)
    return json_format.MessageToDict(artifact.metadata) if artifact is not None else {}


def _names(result: RunResult, task: str, key: str) -> list[str]:
    return [a.name for a in result.steps[task].outputs.get(key, [])] if task in result.steps else []


def decided_config(run: RunResult, config: PipelineConfig) -> PipelineConfig:
    """The configuration as the run's DataChoices decided it (the classes of multiclass tasks filled in)."""
    choices = run.output("ComponentConfigs", "run_config")
    if choices is None:
        return config
    return PipelineConfig.model_validate(json.loads(Path(choices.uri).read_text(encoding="utf-8"))["pipeline_config"])


def first_run_problems(run: RunResult, serving_dir: Path, config: PipelineConfig) -> list[str]:
    """What is wrong with run-1's outcome (nothing: an empty list)."""
    from pipeline.report.summary import serving_versions
    from pipeline.results.serving_check import score_served_model

    config = decided_config(run, config)
    problems = []
    if _metadata(run, "Evaluator", "blessing").get("blessed") != 1:
        problems.append("run-1: the Evaluator did not bless the model; train longer or loosen the gates")
    if _metadata(run, "Pusher", "pushed_model").get("pushed") != 1:
        problems.append("run-1: the Pusher did not push the model")
    versions = serving_versions(serving_dir)
    if len(versions) != 1:
        return problems + [f"run-1: expected one pushed model in {serving_dir}, found {versions}"]
    examples = run.steps["Evaluator"].inputs["examples"][0]  # the split the gates saw: config.evaluation_split
    scores = score_served_model(serving_dir / versions[0], examples.uri, config, config.evaluation_split)
    for task in config.tasks:
        floor = getattr(task.gate, task.kind.key_gate)  # the gate on what the check scores
        if floor is not None and not scores[task.name] >= floor:
            problems.append(f"run-1: the pushed model serves task {task.name} at {scores[task.name]:.3f}, "
                            f"below its gate {floor}")
    print("run-1: pushed model serves raw examples: "
          + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    return problems


def second_run_problems(first: RunResult, second: RunResult, versions_before: list[str],
                        serving_dir: Path) -> list[str]:
    """What is wrong with run-2's outcome: it must compare with run-1's model and push nothing."""
    from pipeline.report.summary import serving_versions

    problems = []
    first_model = _names(first, "Trainer", "model")
    if _names(second, BLESSING_RESOLVER, "model_blessing") != _names(first, "Evaluator", "blessing"):
        problems.append("run-2: the blessing resolver did not find run-1's blessing")
    if _names(second, MODEL_RESOLVER, "model") != first_model:
        problems.append(f"run-2: the baseline is {_names(second, MODEL_RESOLVER, 'model')}, "
                        f"not run-1's model {first_model}")
    blessing = _metadata(second, "Evaluator", "blessing")
    if [blessing.get("baseline_model_id")] != first_model:
        problems.append(f"run-2: the Evaluator compared with {blessing.get('baseline_model_id')!r}, "
                        f"not run-1's model")
    if blessing.get("blessed") != 0:
        problems.append("run-2: the Evaluator blessed a model trained for the second run's few steps")
    if _metadata(second, "Pusher", "pushed_model").get("pushed") != 0:
        problems.append("run-2: the Pusher pushed a model")
    if serving_versions(serving_dir) != versions_before:
        problems.append(f"run-2: the serving folder changed: {versions_before} -> "
                        f"{serving_versions(serving_dir)}")
    return problems


def execute(pipeline: CompiledPipeline, root: Path, run_id: str) -> RunResult:
    print(f"{run_id}: {pipeline.source}", flush=True)
    result = Launcher(pipeline, root, run_id).run()
    fail_on_step_error(result)
    return result


def dry_run(config: PipelineConfig, second: PipelineConfig, root: Path
            ) -> tuple[RunResult, RunResult, list[str]]:
    """Both runs and every problem with their outcomes (raises StepFailed when a step fails)."""
    from pipeline.report.summary import serving_versions

    serving_dir = root / "serving"
    first_spec = compile_spec(config, root, "run-1")
    second_spec = compile_spec(second, root, "run-2")
    first = execute(first_spec, root, "run-1")
    problems = first_run_problems(first, serving_dir, config)
    if problems:
        return first, RunResult("run-2", root), problems
    versions = serving_versions(serving_dir)
    second_result = execute(second_spec, root, "run-2")
    return first, second_result, second_run_problems(first, second_result, versions, serving_dir)


@command()
def main(argv: list[str] | None = None) -> int:
    """``mtl-kubeflow-dry-run``: 0 when both runs reach their outcome; 1 when not; 2 for bad arguments."""
    warnings.filterwarnings("ignore", category=FutureWarning)  # google-cloud deprecation notices
    args = parse_args(argv)
    config = config_from_args(args)
    second_args = copy.copy(args)
    second_args.train_steps = args.second_train_steps
    second = config_from_args(second_args)
    root = check_root(args.root)
    _, _, problems = dry_run(config, second, root)
    if problems:
        raise RunStateError("; ".join(problems))
    print(f"Dry run passed: run-1 pushed to {root / 'serving'}, run-2 compared with it and "
          "pushed nothing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
