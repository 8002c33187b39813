"""Which spans trained a model (pipeline.results.span_data.trained_spans), on a real ML Metadata store in memory.

The Trainer reads the window's Examples artifacts; output dirs from before it did hold
models trained on Transform's transformed examples, whose spans are those Transform took.
"""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2

from metadata_in_memory import in_memory_store, record_execution
from pipeline.results.span_data import trained_spans


class Store:
    """ExampleGen's spans, and Transform and Trainer executions as TFX records them."""

    def __init__(self):
        self.store = in_memory_store()
        examples = metadata_store_pb2.ArtifactType(name="Examples")
        examples.properties["span"] = metadata_store_pb2.INT
        self.examples = self.store.put_artifact_type(examples)
        self.model = self.store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Model"))
        self.kinds = {name: self.store.put_execution_type(metadata_store_pb2.ExecutionType(name=name))
                      for name in ("Transform", "Trainer")}

    def artifact(self, type_id: int, span: int | None = None) -> int:
        artifact = metadata_store_pb2.Artifact(type_id=type_id)
        if span is not None:
            artifact.properties["span"].int_value = span
        (artifact_id,) = self.store.put_artifacts([artifact])
        return artifact_id

    def execution(self, kind: str, inputs: list[int], output_key: str, output: int) -> None:
        record_execution(self.store, self.kinds[kind], {"examples": inputs}, {output_key: [output]})


def test_a_model_trained_on_the_windows_examples_and_one_trained_on_transformed_examples():
    store = Store()
    s1, s2, s3, s4, s6 = (store.artifact(store.examples, span) for span in (1, 2, 3, 4, 6))
    transformed = store.artifact(store.examples)  # Transform's output carried no span
    old = store.artifact(store.model)
    store.execution("Transform", [s1, s2, s3], "transformed_examples", transformed)
    store.execution("Trainer", [transformed], "model", old)
    new, gap = store.artifact(store.model), store.artifact(store.model)
    store.execution("Trainer", [s2, s3, s4], "model", new)
    store.execution("Trainer", [s3, s4, s6], "model", gap)
    unspanned = store.artifact(store.model)
    store.execution("Trainer", [store.artifact(store.examples, 0)], "model", unspanned)  # a file without {SPAN}
    assert trained_spans(store.store, [old, new, gap, unspanned]) == {
        old: "spans 1-3", new: "spans 2-4", gap: "spans 3, 4, 6 (span 5 absent)"}
