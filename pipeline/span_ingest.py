"""Before a local run with a window of spans: ingest the window's older spans that are missing or changed.

The pipeline's ExampleGen reads the newest span (TFX's driver finds it from
``{SPAN}``); Transform's rolling range reads every span the ExampleGen ever
wrote. So on a first run with spans 1-3 and a window of 3, spans 1 and 2 are
ingested here first: the same ExampleGen node (same pipeline, same id, so the
same ML Metadata contexts) fixed to one span, one LocalDagRunner run each.

A span is read again only when its files changed: TFX's input fingerprint of
the span's files (what the driver records on each Examples artifact) is
compared with that of the span's newest artifact; a changed span gets a new
artifact of that span, which the rolling range prefers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipeline import spans as span_files
from config import PipelineConfig
from pipeline.results import mlmd
from pipeline.results.span_data import artifact_span


@dataclass(frozen=True)
class IngestPlan:
    window: list[int]  # the newest window_spans spans on disk, ascending
    to_ingest: list[int]  # older spans of the window with no artifact of their current files


def uses_window(config: PipelineConfig) -> bool:
    return getattr(config.data, "window_spans", 1) > 1


def spans_present(config: PipelineConfig) -> dict[int, list[str]]:
    """Span -> files, for spans every split pattern has."""
    found = [span_files.spans_on_disk(p) for p in config.data.split_patterns().values()]
    common = set.intersection(*(set(f) for f in found)) if found else set()
    return {span: [path for f in found for path in f[span]] for span in sorted(common)}


def ingested_fingerprints(metadata_path: Path, pipeline_name: str, node_id: str) -> dict[int, str]:
    """Span -> the input fingerprint of its newest Examples artifact, for spans already ingested."""
    if not metadata_path.exists():
        return {}
    store = mlmd.open_store(metadata_path)
    newest: dict[int, tuple[int, str]] = {}
    for run in mlmd.finished_node_runs(store, pipeline_name, node_id):
        for artifact in run.outputs.get("examples", []):
            span = artifact_span(artifact)
            if artifact.id > newest.get(span, (-1, ""))[0]:
                newest[span] = (artifact.id, mlmd.string_property(artifact, "input_fingerprint"))
    return {span: fingerprint for span, (_, fingerprint) in newest.items()}


def current_fingerprint(example_gen, span: int) -> str:
    """TFX's fingerprint of ``span``'s files, as the ExampleGen driver computes it."""
    from tfx.components.example_gen import utils
    from tfx.proto import example_gen_pb2, range_config_pb2
    from tfx.utils import proto_utils

    props = example_gen.exec_properties
    input_config = proto_utils.json_to_proto(props["input_config"], example_gen_pb2.Input())
    range_config = range_config_pb2.RangeConfig(static_range=range_config_pb2.StaticRange(
        start_span_number=span, end_span_number=span))
    fingerprint, _, _ = utils.calculate_splits_fingerprint_span_and_version(
        props["input_base"], input_config.splits, range_config)
    return fingerprint


def plan(config: PipelineConfig, metadata_path: Path) -> Optional[IngestPlan]:
    """What to ingest before the run; None without a window (one span, or no ``{SPAN}``)."""
    if not uses_window(config):
        return None
    from pipeline.definition import create_example_gen

    window = span_files.window(spans_present(config), config.data.window_spans)
    if not window:
        return IngestPlan([], [])
    example_gen = create_example_gen(config)
    done = ingested_fingerprints(metadata_path, config.pipeline_name, example_gen.id)
    # The newest span is the pipeline's own ExampleGen's to read (cached when unchanged).
    stale = [span for span in window[:-1] if done.get(span) != current_fingerprint(example_gen, span)]
    return IngestPlan(window, stale)


def ingest(config: PipelineConfig, spans: list[int], pipeline_root: str, metadata_connection_config,
           beam_pipeline_args: list[str], out) -> None:
    """Runs the pipeline's ExampleGen fixed to each of ``spans``, into the pipeline's ML Metadata."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.pipeline import Pipeline

    from pipeline.definition import create_example_gen

    for span in spans:
        example_gen = create_example_gen(config, span=span)
        print(f"Window: span {span} first (not ingested yet, or its files changed)", file=out)
        LocalDagRunner().run(Pipeline(
            pipeline_name=config.pipeline_name, pipeline_root=pipeline_root, components=[example_gen],
            enable_cache=True, metadata_connection_config=metadata_connection_config,
            beam_pipeline_args=beam_pipeline_args or config.beam_args))
