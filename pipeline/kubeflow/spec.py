"""A compiled KFP v2 pipeline spec as the launcher reads it: its tasks, their executors, their order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

from pipeline.errors import UsageError


class LaunchError(UsageError):
    """The spec (or a run id) cannot be executed here; the message says which part and why."""


@dataclass
class CompiledPipeline:
    spec: pb.PipelineSpec
    deployment: pb.PipelineDeploymentConfig
    source: Path

    @property
    def name(self) -> str:
        return self.spec.pipeline_info.name

    def component(self, task_name: str) -> pb.ComponentSpec:
        return self.spec.components[self.spec.root.dag.tasks[task_name].component_ref.name]

    def executor(self, task_name: str) -> pb.PipelineDeploymentConfig.ExecutorSpec:
        return self.deployment.executors[self.component(task_name).executor_label]


def load_spec(path: Path) -> CompiledPipeline:
    """A PipelineJob (.json, Vertex AI) or a bare PipelineSpec (.yaml, KFP), read with KFP's protobufs."""
    if not path.is_file():
        raise LaunchError(f"{path}: no such file; compile one with mtl-kubeflow")
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if "pipelineSpec" in raw:  # a PipelineJob
            raw = raw["pipelineSpec"]
        spec = json_format.ParseDict(raw, pb.PipelineSpec())
        deployment = json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec),
                                           pb.PipelineDeploymentConfig())
    except (ValueError, TypeError, yaml.YAMLError, json_format.ParseError) as exc:
        raise LaunchError(f"{path}: not a KFP pipeline spec ({exc})") from None
    if not spec.root.dag.tasks:
        raise LaunchError(f"{path}: the spec has no tasks")
    return CompiledPipeline(spec, deployment, path)


def task_order(dag: pb.DagSpec) -> list[str]:
    """The tasks in an order that runs every producer before its consumers (ties by name)."""
    needs = {}
    for name, task in dag.tasks.items():
        producers = set(task.dependent_tasks)
        producers |= {a.task_output_artifact.producer_task for a in task.inputs.artifacts.values()
                      if a.HasField("task_output_artifact")}
        unknown = producers - set(dag.tasks)
        if unknown:
            raise LaunchError(f"task {name} depends on unknown task(s) {sorted(unknown)}")
        needs[name] = producers
    order: list[str] = []
    while len(order) < len(needs):
        ready = sorted(n for n, deps in needs.items() if n not in order and deps <= set(order))
        if not ready:
            raise LaunchError(f"the DAG has a cycle among {sorted(set(needs) - set(order))}")
        order.extend(ready)
    return order


def schema_title(artifact_type: pb.ArtifactTypeSchema) -> str:
    if artifact_type.WhichOneof("kind") == "schema_title":
        return artifact_type.schema_title
    return (yaml.safe_load(artifact_type.instance_schema) or {}).get("title", "")
