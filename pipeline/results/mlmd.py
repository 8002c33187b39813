"""What a pipeline run produced, found through ML Metadata (not by folder names)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

_DONE = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)
_INPUT = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)
_OUTPUT = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
DONE = _DONE  # an execution's finished states: run, or served from the cache


def open_store(metadata_path: str | Path) -> metadata_store.MetadataStore:
    config = metadata.sqlite_metadata_connection_config(str(metadata_path))
    return metadata_store.MetadataStore(config)


@dataclass(frozen=True)
class NodeRun:
    """The latest finished execution of one pipeline node, its inputs and outputs by key."""

    node_id: str
    execution: metadata_store_pb2.Execution
    inputs: dict[str, list[metadata_store_pb2.Artifact]]
    outputs: dict[str, list[metadata_store_pb2.Artifact]]

    @property
    def cached(self) -> bool:
        return self.execution.last_known_state == metadata_store_pb2.Execution.CACHED

    def output(self, key: str) -> metadata_store_pb2.Artifact:
        return self.outputs[key][0]


def _finished_executions(store: metadata_store.MetadataStore, pipeline_name: str,
                         node_id: str) -> list[metadata_store_pb2.Execution]:
    """The node's finished (run or cached) executions, oldest first."""
    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}")
    if context is None:
        return []
    return sorted((e for e in store.get_executions_by_context(context.id) if e.last_known_state in _DONE),
                  key=lambda e: e.id)


def finished_node_runs(store: metadata_store.MetadataStore, pipeline_name: str, node_id: str) -> list[NodeRun]:
    """Every finished execution of one pipeline node, oldest first."""
    return [_node_run(store, node_id, e) for e in _finished_executions(store, pipeline_name, node_id)]


def latest_node_run(store: metadata_store.MetadataStore, pipeline_name: str,
                    node_id: str) -> Optional[NodeRun]:
    finished = _finished_executions(store, pipeline_name, node_id)
    return _node_run(store, node_id, finished[-1]) if finished else None


def _node_run(store: metadata_store.MetadataStore, node_id: str,
              execution: metadata_store_pb2.Execution) -> NodeRun:
    events = store.get_events_by_execution_ids([execution.id])
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    inputs: dict[str, list] = {}
    outputs: dict[str, list] = {}
    for event in events:
        if event.type in _INPUT:
            side = inputs
        elif event.type in _OUTPUT:
            side = outputs
        else:
            continue
        side.setdefault(event.path.steps[0].key, []).append(artifacts[event.artifact_id])
    return NodeRun(node_id, execution, inputs, outputs)


def run_name(store: metadata_store.MetadataStore, execution: metadata_store_pb2.Execution) -> str:
    """The pipeline run an execution belongs to, e.g. 20261127-001638.123456."""
    for context in store.get_contexts_by_execution(execution.id):
        if store.get_context_types_by_id([context.type_id])[0].name == "pipeline_run":
            return context.name
    return f"execution-{execution.id}"


def latest_failed_execution(store: metadata_store.MetadataStore, pipeline_name: str,
                            node_id: str) -> Optional[metadata_store_pb2.Execution]:
    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}")
    if context is None:
        return None
    executions = store.get_executions_by_context(context.id)
    latest = max(executions, key=lambda e: e.id, default=None)
    if latest is not None and latest.last_known_state == metadata_store_pb2.Execution.FAILED:
        return latest
    return None


def int_property(artifact: metadata_store_pb2.Artifact, name: str, default: int = 0) -> int:
    if name in artifact.custom_properties:
        return artifact.custom_properties[name].int_value
    return default


def string_property(artifact: metadata_store_pb2.Artifact, name: str) -> str:
    if name in artifact.custom_properties:
        return artifact.custom_properties[name].string_value
    return ""


def _keyed(event: metadata_store_pb2.Event, kinds, key: Optional[str]) -> bool:
    """Whether ``event`` is one of ``kinds`` (``_INPUT``, ``_OUTPUT``) under the input or output
    ``key`` (None: under any)."""
    return event.type in kinds and (key is None or bool(event.path.steps) and event.path.steps[0].key == key)


def reader_ids(store: metadata_store.MetadataStore, artifact_ids, key: Optional[str] = None) -> set[int]:
    """The ids of the executions that read any of ``artifact_ids`` (as their ``key`` input; None: as any)."""
    ids = sorted(artifact_ids)
    return {e.execution_id for e in (store.get_events_by_artifact_ids(ids) if ids else []) if _keyed(e, _INPUT, key)}


def output_ids(store: metadata_store.MetadataStore, execution_ids, key: str) -> set[int]:
    """The ids of the ``key`` outputs of ``execution_ids``."""
    ids = sorted(execution_ids)
    return {e.artifact_id for e in (store.get_events_by_execution_ids(ids) if ids else []) if _keyed(e, _OUTPUT, key)}


def sibling_output(store: metadata_store.MetadataStore, artifact: metadata_store_pb2.Artifact,
                   key: str) -> Optional[metadata_store_pb2.Artifact]:
    """The ``key`` output of the execution that produced ``artifact`` (e.g. a model's model_run)."""
    produced = [e for e in store.get_events_by_artifact_ids([artifact.id]) if e.type in _OUTPUT]
    if not produced:
        return None
    events = store.get_events_by_execution_ids([produced[0].execution_id])
    ids = [e.artifact_id for e in events if _keyed(e, _OUTPUT, key)]
    return store.get_artifacts_by_id(ids[:1])[0] if ids else None


def producer_inputs(store: metadata_store.MetadataStore, artifact_ids: list[int], key: str,
                    output_key: Optional[str] = None) -> dict[int, set[int]]:
    """Artifact id -> the ids of the ``key`` inputs of the executions that produced it.

    ``output_key``: only executions that output the artifact under this key
    count (e.g. ``statistics`` is StatisticsGen's; Transform outputs
    statistics too, as ``pre_transform_stats``). A cached execution produces
    the same artifacts again: the inputs of all of them count.
    """
    produced: dict[int, set[int]] = {}  # execution id -> the artifacts it output
    for event in store.get_events_by_artifact_ids(list(artifact_ids)):
        if _keyed(event, _OUTPUT, output_key):
            produced.setdefault(event.execution_id, set()).add(event.artifact_id)
    found: dict[int, set[int]] = {artifact_id: set() for artifact_id in artifact_ids}
    for event in store.get_events_by_execution_ids(list(produced)) if produced else []:
        if _keyed(event, _INPUT, key):
            for artifact_id in produced[event.execution_id]:
                found[artifact_id].add(event.artifact_id)
    return found


def consumer_outputs(store: metadata_store.MetadataStore, artifact_id: int, key: str,
                     output_key: str) -> list[metadata_store_pb2.Artifact]:
    """The ``output_key`` outputs of the executions that read ``artifact_id`` as their ``key`` input
    (e.g. the statistics StatisticsGen computed from an Examples artifact), oldest first."""
    ids = sorted(output_ids(store, reader_ids(store, [artifact_id], key), output_key))
    return list(store.get_artifacts_by_id(ids)) if ids else []


def evaluated_model_run_uri(store: metadata_store.MetadataStore, evaluator: NodeRun) -> Optional[str]:
    """Where the Trainer run that produced the Evaluator's candidate model keeps its run files."""
    models = evaluator.inputs.get("model")
    run = sibling_output(store, models[0], "model_run") if models else None
    return run.uri if run is not None else None


def evaluated_task_types(store: metadata_store.MetadataStore, evaluator: NodeRun) -> dict[str, str]:
    """Task name -> task type of the Evaluator's candidate model, from the configuration its
    Trainer ran with (the Trainer's ``custom_config``); {} when it cannot be found."""
    import json

    models = evaluator.inputs.get("model")
    produced = [e for e in store.get_events_by_artifact_ids([models[0].id]) if e.type in _OUTPUT] if models else []
    if not produced:
        return {}
    (trainer,) = store.get_executions_by_id([produced[0].execution_id])
    if "custom_config" not in trainer.custom_properties:
        return {}
    custom_config = json.loads(trainer.custom_properties["custom_config"].string_value or "{}")
    tasks = (custom_config.get("pipeline_config") or {}).get("tasks", [])
    return {task["name"]: task["type"] for task in tasks}


def exec_property(execution: metadata_store_pb2.Execution, name: str) -> str:
    """An execution's exec property as recorded (text; JSON for lists and protos), '' when absent."""
    if name not in execution.custom_properties:
        return ""
    value = execution.custom_properties[name]
    return value.string_value if value.HasField("string_value") else str(value.int_value)


def evaluated_split(evaluator: NodeRun) -> str:
    """The split of its examples the Evaluator scored (its ``example_splits``; TFX's default is eval)."""
    import json

    splits = json.loads(exec_property(evaluator.execution, "example_splits") or "null") or ["eval"]
    return splits[0]
