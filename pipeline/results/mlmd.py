"""What a pipeline run produced, found through ML Metadata (not by folder names)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

_DONE = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)


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


def latest_node_run(store: metadata_store.MetadataStore, pipeline_name: str,
                    node_id: str) -> Optional[NodeRun]:
    context = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}")
    if context is None:
        return None
    finished = [e for e in store.get_executions_by_context(context.id) if e.last_known_state in _DONE]
    if not finished:
        return None
    execution = max(finished, key=lambda e: e.id)
    events = store.get_events_by_execution_ids([execution.id])
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    inputs: dict[str, list] = {}
    outputs: dict[str, list] = {}
    for event in events:
        if event.type in (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT):
            side = inputs
        elif event.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT):
            side = outputs
        else:
            continue
        side.setdefault(event.path.steps[0].key, []).append(artifacts[event.artifact_id])
    return NodeRun(node_id, execution, inputs, outputs)


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
