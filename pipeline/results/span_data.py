"""What a run read, by span: ``Data: span 5 (4,455 rows, new); window spans 3-5 (13,364 rows)``.

From ML Metadata: the ExampleGen's latest execution (the newest span; ``new``
when it read the files, ``cached`` when an earlier run had) and the Examples
artifacts Transform's latest execution took (the window, one per span). Rows
are the example counts of the statistics StatisticsGen computed from each
artifact (every span of a window has them), else counted in its split files.
"""

from __future__ import annotations

import functools
import glob
import os
from typing import Optional

import tensorflow as tf
from ml_metadata import metadata_store
from tensorflow_metadata.proto.v0 import statistics_pb2

from components.served_statistics import STATISTICS_FILE
from pipeline.results import mlmd
from pipeline.spans import describe_spans

EXAMPLE_GEN_IDS = ("CsvExampleGen", "ImportExampleGen")


def artifact_span(artifact) -> int:
    """An Examples artifact's span (a property of the type; older TFX wrote a custom property)."""
    if "span" in artifact.properties:
        return artifact.properties["span"].int_value
    return mlmd.int_property(artifact, "span", -1)


@functools.lru_cache(maxsize=None)  # an artifact's files never change; the newest span is in the window too
def row_count(examples_uri: str) -> int:
    """Records in every split of an Examples artifact (ExampleGen writes Split-<name>/*.gz)."""
    from models.input_pipeline import count_examples

    files = sorted(glob.glob(os.path.join(examples_uri, "Split-*", "*")))
    by_compression = {"GZIP": [f for f in files if f.endswith(".gz")], "": [f for f in files if not f.endswith(".gz")]}
    return sum(count_examples(chosen, compression_type=compression)
               for compression, chosen in by_compression.items() if chosen)


def artifact_rows(store: metadata_store.MetadataStore, artifact) -> int:
    """Rows in every split of an Examples artifact: the example counts of its statistics (StatisticsGen's
    ``Split-<name>/FeatureStats.pb``), or its records counted when it has none (an older output dir)."""
    for statistics in mlmd.consumer_outputs(store, artifact.id, "examples", "statistics")[:1]:
        files = tf.io.gfile.glob(os.path.join(statistics.uri, "Split-*", STATISTICS_FILE))
        if files:
            return sum(int(statistics_pb2.DatasetFeatureStatisticsList.FromString(
                tf.io.gfile.GFile(f, "rb").read()).datasets[0].num_examples) for f in files)
    return row_count(artifact.uri)


def data_line(store: metadata_store.MetadataStore, pipeline_name: str, window_spans: int) -> Optional[str]:
    """The summary's data line for a ``{SPAN}`` input; None when the ExampleGen's output has no span."""
    runs = [r for r in (mlmd.latest_node_run(store, pipeline_name, i) for i in EXAMPLE_GEN_IDS) if r]
    if not runs or "examples" not in runs[0].outputs:
        return None
    newest = runs[0].output("examples")
    state = "cached" if runs[0].cached else "new"
    line = f"Data: span {artifact_span(newest)} ({artifact_rows(store, newest):,} rows, {state})"
    transform = mlmd.latest_node_run(store, pipeline_name, "Transform")
    if window_spans > 1 and transform is not None:
        window = sorted(transform.inputs.get("examples", []), key=artifact_span)
        spans = [artifact_span(a) for a in window]
        rows = sum(artifact_rows(store, a) for a in window)
        line += f"; window {describe_spans(spans)} ({rows:,} rows)"
        if len(spans) < window_spans:
            line += f", {len(spans)} of window_spans {window_spans} present"
    return line


def trained_spans(store: metadata_store.MetadataStore, model_ids: list[int]) -> dict[int, str]:
    """Model id -> the spans it was trained on (``spans 3-5``), through lineage: the Examples the
    Trainer read. Models trained on no span are left out."""
    trained = mlmd.producer_inputs(store, model_ids, "examples", output_key="model")
    # Output dirs from before the Trainer read raw examples hold models trained on Transform's
    # transformed examples: the spans are those of the Examples Transform took.
    transformed = mlmd.producer_inputs(store, sorted({i for ids in trained.values() for i in ids}), "examples",
                                       output_key="transformed_examples")
    spans: dict[int, str] = {}
    for model_id, example_ids in trained.items():
        ids = sorted({raw for i in example_ids for raw in (transformed.get(i) or {i})})
        found = [artifact_span(a) for a in store.get_artifacts_by_id(ids)] if ids else []
        if found and min(found) >= 0 and any(found):
            spans[model_id] = describe_spans(sorted(set(found)))
    return spans
