"""Executes a compiled KFP v2 pipeline spec on this machine, one process per step.

    mtl-kubeflow-launch pipeline.json --root /tmp/kfp-root [--run-id run-1] [--no-cache]

A dry run of what Kubeflow Pipelines or Vertex AI does with the spec the
Kubeflow runner writes, without a cluster, an image or a bucket:

- every container task runs, in the DAG's order, as a fresh process started
  with the spec's own command and arguments (TFX's ``kubeflow_v2_run_executor``
  entrypoint), after its ``preCacheCheck`` command (a file-based ExampleGen's
  driver: the span it finds becomes the executor's) in its own process; ``python`` is this
  environment's interpreter, the working folder is the task's own folder and
  ``PYTHONPATH`` is cleared, so the project's code is found only as an
  installed package, as in the image;
- its ``ExecutorInput`` (KFP's protobuf) is built from the spec: the task's
  parameters, its input artifacts as the producing steps reported them in their
  executor output files (URI and metadata), and output artifacts under ``--root``;
- resolver tasks are answered from the launcher's record of every artifact of
  earlier steps and runs under the same root, with the spec's own artifact
  filter (e.g. the newest blessed ModelBlessing). This stands in for ML Metadata;
- like KFP, a step with caching enabled whose spec and inputs match an
  earlier execution under the same root reuses its outputs (``--no-cache``:
  run every step).

Not covered: the container image, KFP's backend, ML Metadata, GCS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from google.protobuf import json_format, struct_pb2
from kfp.local import placeholder_utils
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

from pipeline.cli.command import command
from pipeline.errors import RunStateError
from pipeline.kubeflow.artifact_record import ArtifactRecord
from pipeline.kubeflow.spec import CompiledPipeline, LaunchError, load_spec, task_order

__all__ = ["ArtifactRecord", "CompiledPipeline", "LaunchError", "Launcher", "RunResult", "StepFailed", "StepResult",
           "fail_on_step_error", "launch", "load_spec", "main", "task_order"]

EXECUTOR_OUTPUT_FILE = "executor_output.json"
LOG_FILE = "step.log"
LOG_TAIL_LINES = 40


class StepFailed(RunStateError):
    """A step's process exited non-zero; the end of its output is in the message's log file."""


@dataclass
class StepResult:
    task: str
    kind: str  # "container", "cached" (outputs of an earlier identical step) or "resolver"
    returncode: Optional[int] = None  # containers only
    pid: Optional[int] = None
    seconds: float = 0.0
    log: Optional[Path] = None
    cached_from: Optional[str] = None  # the run whose outputs a cached step reuses
    driver_pid: Optional[int] = None  # the task's pre-cache-check process, if the spec has one
    inputs: dict = field(default_factory=dict)  # key -> [RuntimeArtifact]
    outputs: dict = field(default_factory=dict)  # key -> [RuntimeArtifact]


@dataclass
class RunResult:
    run_id: str
    root: Path
    steps: dict[str, StepResult] = field(default_factory=dict)

    @property
    def failed(self) -> Optional[StepResult]:
        return next((s for s in self.steps.values() if s.returncode not in (None, 0)), None)

    def output(self, task: str, key: str) -> Optional[pb.RuntimeArtifact]:
        artifacts = self.steps[task].outputs.get(key, [])
        return artifacts[0] if artifacts else None


def output_parameter(result: "RunResult", task_name: str, name: str,
                     source: pb.TaskInputsSpec.InputParameterSpec.TaskOutputParameterSpec) -> str:
    """The value of a parameter another task output: the content of its value artifact of that key.

    TFX reports an output parameter both ways: as a String artifact whose file
    holds the value, and as the parameter Kubeflow passes on; the artifact is
    what the launcher records (and reuses when the producer is cached).
    """
    step = result.steps.get(source.producer_task)
    artifacts = step.outputs.get(source.output_parameter_key) if step is not None else None
    if not artifacts:
        raise LaunchError(f"task {task_name}: parameter {name} comes from output "
                          f"{source.output_parameter_key!r} of task {source.producer_task!r}, which has none")
    return Path(artifacts[0].uri).read_text(encoding="utf-8")


def _parameter_values(task: pb.PipelineTaskSpec, task_name: str, result: "RunResult"
                      ) -> tuple[dict[str, pb.Value], dict[str, struct_pb2.Value]]:
    """The task's parameters, in both of ExecutorInput's forms (pre-2.1 and 2.1).

    Constants, and string parameters output by an earlier task.
    """
    old, new = {}, {}
    for name, spec in task.inputs.parameters.items():
        if spec.HasField("task_output_parameter"):
            value = output_parameter(result, task_name, name, spec.task_output_parameter)
            old[name], new[name] = pb.Value(string_value=value), struct_pb2.Value(string_value=value)
            continue
        if not spec.HasField("runtime_value"):
            raise LaunchError(f"task {task_name}: parameter {name} is not a constant or a task output "
                              f"({spec.WhichOneof('kind')}); only those are supported")
        runtime = spec.runtime_value
        if runtime.HasField("constant"):
            new[name] = runtime.constant
            if runtime.constant.WhichOneof("kind") == "string_value":
                old[name] = pb.Value(string_value=runtime.constant.string_value)
            continue
        constant = runtime.constant_value
        old[name] = constant
        kind = constant.WhichOneof("value")
        new[name] = (struct_pb2.Value(string_value=constant.string_value) if kind == "string_value"
                     else struct_pb2.Value(number_value=getattr(constant, kind)))
    return old, new


def _executor_output(output_file: Path) -> Optional[pb.ExecutorOutput]:
    """What a step (or its driver) wrote to its executor output file; None when it wrote none."""
    if not output_file.is_file():
        return None
    reported = pb.ExecutorOutput()
    json_format.Parse(output_file.read_text(encoding="utf-8"), reported, ignore_unknown_fields=True)
    return reported


def _reported_parameters(output_file: Path) -> dict:
    """The parameters a step's driver wrote to its executor output file (none: {})."""
    reported = _executor_output(output_file)
    if reported is None:
        return {}
    return {"parameters": json_format.MessageToDict(reported).get("parameters", {}),
            "parameter_values": json_format.MessageToDict(reported).get("parameterValues", {})}


def apply_driver_output(executor_input: pb.ExecutorInput) -> None:
    """Sets the parameters a driver reported (e.g. the span it found) as the executor's, in both forms.

    As the pipeline service does before it starts the executor: the driver
    resolves ``{SPAN}`` in ``input_config`` when the run starts; an executor
    given the parameters in their pre-2.1 form reads only those.
    """
    reported = _executor_output(Path(executor_input.outputs.output_file))
    if reported is None:
        return
    inputs = executor_input.inputs
    for name, value in reported.parameter_values.items():
        inputs.parameter_values[name].CopyFrom(value)
        kind = value.WhichOneof("kind")
        if kind == "string_value":
            inputs.parameters[name].CopyFrom(pb.Value(string_value=value.string_value))
        elif kind == "number_value":  # span and version are whole numbers
            number = value.number_value
            inputs.parameters[name].CopyFrom(pb.Value(int_value=int(number)) if number.is_integer()
                                             else pb.Value(double_value=number))
    for name, value in reported.parameters.items():
        inputs.parameters[name].CopyFrom(value)


def _artifact_list(artifacts: list[pb.RuntimeArtifact]) -> pb.ArtifactList:
    return pb.ArtifactList(artifacts=artifacts)


class Launcher:
    """Runs one pipeline run of a compiled spec under a local root."""

    def __init__(self, pipeline: CompiledPipeline, root: Path, run_id: str, out=sys.stdout,
                 enable_cache: bool = True):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run_id):
            raise LaunchError(f"--run-id {run_id!r}: use letters, digits, '.', '_' and '-'")
        self.pipeline = pipeline
        self.root = root.resolve()
        self.run_id = run_id
        self.run_root = self.root / pipeline.name / run_id
        self.record = ArtifactRecord(self.root)
        if run_id in self.record.run_ids() or self.run_root.exists():
            raise LaunchError(f"run {run_id!r} already exists under {self.root}; pick another --run-id")
        self.out = out
        self.enable_cache = enable_cache

    def run(self) -> RunResult:
        result = RunResult(self.run_id, self.root)
        self.run_root.mkdir(parents=True)
        for name in task_order(self.pipeline.spec.root.dag):
            executor = self.pipeline.executor(name)
            kind = executor.WhichOneof("spec")
            inputs = self._input_artifacts(name, result)
            if kind == "container":
                step = self._cached_or_run(name, executor.container, inputs, result)
            elif kind == "resolver":
                step = self._resolve(name, executor.resolver, inputs)
            else:
                raise LaunchError(f"task {name}: executor kind {kind!r} is not supported here")
            result.steps[name] = step
            self._report(step)
            if step.returncode not in (None, 0):
                break
        return result

    def _cached_or_run(self, name: str, container, inputs, result: RunResult) -> StepResult:
        """Like KFP: the driver (if any) first, then the cache check, then the executor."""
        task = self.pipeline.spec.root.dag.tasks[name]
        task_root = self.run_root / name
        task_root.mkdir(parents=True)
        executor_input = self._executor_input(name, task_root, inputs, result)
        step = StepResult(name, "container", inputs=inputs, log=task_root / LOG_FILE)
        if container.lifecycle.HasField("pre_cache_check"):
            # e.g. a file-based ExampleGen's driver: it fingerprints the input files and
            # writes span, version and fingerprint to the output file for the executor.
            hook = container.lifecycle.pre_cache_check
            step.driver_pid, step.returncode, step.seconds = self._start(
                [*hook.command, *hook.args], executor_input, task_root, step.log)
            if step.returncode != 0:
                step.pid = step.driver_pid
                return step
            apply_driver_output(executor_input)
        key = hashlib.sha256(json.dumps({
            "component": json_format.MessageToDict(self.pipeline.component(name)),
            "container": json_format.MessageToDict(container),
            "parameters": json_format.MessageToDict(task.inputs).get("parameters", {}),
            # The values of parameters other tasks output: a changed value reruns.
            "parameter_values": json_format.MessageToDict(executor_input.inputs).get("parameterValues", {}),
            "inputs": {k: [(a.name, a.uri) for a in v] for k, v in sorted(inputs.items())},
            # What a driver reported, e.g. the input files' fingerprint: changed input reruns.
            "driver": _reported_parameters(Path(executor_input.outputs.output_file)),
        }, sort_keys=True).encode()).hexdigest()
        earlier = self.record.cached(key) if self.enable_cache and task.caching_options.enable_cache else None
        if earlier is not None:
            return StepResult(name, "cached", cached_from=earlier[0], inputs=inputs, outputs=earlier[1])
        driver_seconds = step.seconds
        step.pid, step.returncode, step.seconds = self._start(
            [*container.command, *container.args], executor_input, task_root, step.log)
        step.seconds += driver_seconds
        if step.returncode != 0:
            return step
        step.outputs = self._reported_outputs(name, executor_input)
        self.record.add_execution(self.run_id, name, key, step.outputs)
        return step

    def _start(self, command: list[str], executor_input: pb.ExecutorInput, task_root: Path,
               log: Path) -> tuple[int, int, float]:
        """(pid, exit code, seconds) of one process started with the spec's command."""
        executor_input_dict = json_format.MessageToDict(executor_input)
        command = placeholder_utils.replace_placeholders(
            command, executor_input_dict,
            pipeline_resource_name=f"{self.pipeline.name}-{self.run_id}",
            task_resource_name=task_root.name, pipeline_root=str(self.root))
        (task_root / "executor_input.json").write_text(json.dumps(executor_input_dict, indent=1))
        env = dict(os.environ)
        # `python` in the spec is the image's interpreter: here, this environment's.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("PYTHONPATH", None)  # the project is found only as an installed package
        started = time.monotonic()
        with open(log, "ab") as log_file:
            proc = subprocess.Popen(command, cwd=task_root, env=env, stdout=log_file,
                                    stderr=subprocess.STDOUT)
            returncode = proc.wait()
        return proc.pid, returncode, time.monotonic() - started

    def _reported_outputs(self, name: str, executor_input: pb.ExecutorInput
                          ) -> dict[str, list[pb.RuntimeArtifact]]:
        """The planned output artifacts with the metadata the step wrote to its output file."""
        output_file = Path(executor_input.outputs.output_file)
        if not output_file.is_file():
            raise LaunchError(f"task {name} exited 0 but wrote no executor output file {output_file}")
        reported = pb.ExecutorOutput()
        json_format.Parse(output_file.read_text(encoding="utf-8"), reported, ignore_unknown_fields=True)
        outputs = {}
        for key, planned in executor_input.outputs.artifacts.items():
            artifact = pb.RuntimeArtifact()
            artifact.CopyFrom(planned.artifacts[0])
            if reported.artifacts[key].artifacts:
                # What the step reports about its output (e.g. split names, "blessed").
                artifact.metadata.CopyFrom(reported.artifacts[key].artifacts[0].metadata)
            outputs[key] = [artifact]
        return outputs

    def _report(self, step: StepResult) -> None:
        if step.kind == "resolver":
            found = {k: [a.name for a in v] for k, v in step.outputs.items()}
            print(f"{step.task:<48} resolved {json.dumps(found)}", file=self.out, flush=True)
            return
        if step.kind == "cached":
            print(f"{step.task:<48} cached (outputs of run {step.cached_from})", file=self.out, flush=True)
            return
        driver = f" (driver pid {step.driver_pid})" if step.driver_pid else ""
        print(f"{step.task:<48} exit {step.returncode}  pid {step.pid}{driver}  {step.seconds:6.1f} s",
              file=self.out, flush=True)

    def _input_artifacts(self, name: str, result: RunResult) -> dict[str, list[pb.RuntimeArtifact]]:
        inputs = {}
        for key, spec in self.pipeline.spec.root.dag.tasks[name].inputs.artifacts.items():
            if not spec.HasField("task_output_artifact"):
                raise LaunchError(f"task {name}: input artifact {key} is not another task's output; "
                                  "only task outputs are supported")
            source = spec.task_output_artifact
            inputs[key] = list(result.steps[source.producer_task].outputs.get(
                source.output_artifact_key, []))
        return inputs

    def _executor_input(self, name: str, task_root: Path, inputs: dict[str, list[pb.RuntimeArtifact]],
                        result: RunResult) -> pb.ExecutorInput:
        task = self.pipeline.spec.root.dag.tasks[name]
        component = self.pipeline.component(name)
        old, new = _parameter_values(task, name, result)
        outputs = {}
        for key, spec in component.output_definitions.artifacts.items():
            outputs[key] = _artifact_list([pb.RuntimeArtifact(
                name=f"{self.pipeline.name}/{self.run_id}/{name}/{key}",
                type=spec.artifact_type, uri=str(task_root / key))])
        for key in component.output_definitions.parameters:
            if key not in outputs:
                raise LaunchError(f"task {name}: output parameter {key} has no value artifact of its name")
        return pb.ExecutorInput(
            inputs=pb.ExecutorInput.Inputs(
                parameters=old, parameter_values=new,
                artifacts={k: _artifact_list(v) for k, v in inputs.items()}),
            outputs=pb.ExecutorInput.Outputs(
                artifacts=outputs, output_file=str(task_root / EXECUTOR_OUTPUT_FILE),
                parameters={key: pb.ExecutorInput.OutputParameter(output_file=str(task_root / f"{key}.value"))
                            for key in component.output_definitions.parameters}))

    def _resolve(self, name: str, resolver, inputs) -> StepResult:
        started = time.monotonic()
        step = StepResult(name, "resolver", inputs=inputs)
        input_dict = json_format.MessageToDict(pb.ExecutorInput(inputs=pb.ExecutorInput.Inputs(
            artifacts={k: _artifact_list(v) for k, v in inputs.items()})))
        for key, query in resolver.output_artifact_queries.items():
            referenced = re.findall(r"\$\.inputs\.artifacts\['(\w+)'\]", query.filter)
            if any(not inputs.get(ref) for ref in referenced):
                step.outputs[key] = []  # the query is about an input that resolved to nothing
                continue
            artifact_filter = placeholder_utils.resolve_io_placeholders(input_dict, query.filter)
            step.outputs[key] = self.record.query(artifact_filter)
        step.seconds = time.monotonic() - started
        return step


def log_tail(step: StepResult, lines: int = LOG_TAIL_LINES) -> str:
    text = step.log.read_text(encoding="utf-8", errors="replace") if step.log else ""
    return "\n".join(text.splitlines()[-lines:])


def launch(spec_file: Path, root: Path, run_id: str, out=sys.stdout,
           enable_cache: bool = True) -> RunResult:
    return Launcher(load_spec(spec_file), root, run_id, out, enable_cache).run()


def fail_on_step_error(result: RunResult) -> None:
    """Prints the end of a failed step's output and raises StepFailed; nothing when all exited 0."""
    step = result.failed
    if step is None:
        return
    print(f"--- the end of {step.log}:\n{log_tail(step)}\n---", file=sys.stderr)
    raise StepFailed(f"run {result.run_id}: step {step.task} exited {step.returncode}; "
                     f"its whole output is in {step.log}")


@command()
def main(argv: list[str] | None = None) -> int:
    """``mtl-kubeflow-launch``: 0 when every step exits 0; 1 when one fails; 2 for an unusable spec."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="compiled pipeline: .json (PipelineJob) or .yaml")
    parser.add_argument("--root", type=Path, required=True, help="local folder for every step's outputs")
    parser.add_argument("--run-id", default=time.strftime("run-%Y%m%d-%H%M%S"),
                        help="name of this run under the root [run-<date>-<time>]")
    parser.add_argument("--no-cache", action="store_true",
                        help="run every step, even one identical to an earlier step under the root")
    args = parser.parse_args(argv)
    result = launch(args.spec, args.root, args.run_id, enable_cache=not args.no_cache)
    fail_on_step_error(result)
    print(f"Ran {len(result.steps)} tasks of {args.spec} under {result.root} as run {args.run_id}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
