"""A real ML Metadata store in memory, and executions recorded in it as TFX records them."""

from __future__ import annotations

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

Event = metadata_store_pb2.Event


def in_memory_store() -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.fake_database.SetInParent()
    return metadata_store.MetadataStore(config)


def record_execution(store: metadata_store.MetadataStore, type_id: int,
                     inputs: dict[str, list[int]], outputs: dict[str, list[int]]) -> None:
    """A complete execution of ``type_id``: artifact ids in and out by key (each event's path: key, index)."""
    pairs = []
    for kind, artifacts in ((Event.INPUT, inputs), (Event.OUTPUT, outputs)):
        for key, ids in artifacts.items():
            for index, artifact_id in enumerate(ids):
                event = Event(type=kind, artifact_id=artifact_id)
                event.path.steps.add().key = key
                event.path.steps.add().index = index
                (artifact,) = store.get_artifacts_by_id([artifact_id])
                pairs.append((artifact, event))
    execution = metadata_store_pb2.Execution(type_id=type_id, last_known_state=metadata_store_pb2.Execution.COMPLETE)
    store.put_execution(execution, pairs, [])
