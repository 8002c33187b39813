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

Nothing trains on a span that has not passed the checks the pipeline runs on
its newest span: each span read here gets its statistics, the curated
schema's check and the drift check against the served model's data
(``pipeline.definition.span_check_nodes``), once per artifact. A span whose
check failed is checked again by the next run (a failed execution is never
cached), and a span whose newest artifact has no passed check (read by a
version of the runner that did not check it) is checked before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ml_metadata.proto import metadata_store_pb2

from pipeline import spans as span_files
from config import PipelineConfig
from pipeline.results import mlmd
from pipeline.results.span_data import artifact_span


@dataclass(frozen=True)
class IngestPlan:
    window: list[int]  # the newest window_spans spans on disk, ascending
    to_ingest: list[int]  # older spans of the window with no artifact of their current files
    to_check: list[int] = field(default_factory=list)  # older spans read already whose checks have not passed

    @property
    def spans(self) -> list[int]:
        """The older spans to run the check nodes for (reading those to ingest), ascending."""
        return sorted({*self.to_ingest, *self.to_check})


def uses_window(config: PipelineConfig) -> bool:
    return getattr(config.data, "window_spans", 1) > 1


def spans_present(config: PipelineConfig) -> dict[int, list[str]]:
    """Span -> files, for spans every split pattern has."""
    found = [span_files.spans_on_disk(p) for p in config.data.split_patterns().values()]
    common = set.intersection(*(set(f) for f in found)) if found else set()
    return {span: [path for f in found for path in f[span]] for span in sorted(common)}


def newest_artifacts(store, pipeline_name: str, node_id: str) -> dict[int, metadata_store_pb2.Artifact]:
    """Span -> its newest Examples artifact, for spans already ingested."""
    newest: dict[int, metadata_store_pb2.Artifact] = {}
    for run in mlmd.finished_node_runs(store, pipeline_name, node_id):
        for artifact in run.outputs.get("examples", []):
            span = artifact_span(artifact)
            if span not in newest or artifact.id > newest[span].id:
                newest[span] = artifact
    return newest


def _finished_readers(store, pipeline_name: str, node_id: str, artifact_ids: set[int]) -> list[int]:
    """The node's finished (run or cached) executions with an input among ``artifact_ids``: found from
    the artifacts' events, so the cost does not grow with the node's history."""
    readers = mlmd.reader_ids(store, artifact_ids)
    if not readers:
        return []
    node = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}")
    of_node = {e.id for e in store.get_executions_by_context(node.id)} if node else set()
    return [e.id for e in store.get_executions_by_id(sorted(readers & of_node)) if e.last_known_state in mlmd.DONE]


def passed_checks(store, config: PipelineConfig, examples_id: int) -> bool:
    """Whether the Examples artifact ``examples_id`` has statistics and passed every check its span gets
    (``pipeline.definition.span_check_nodes``), traced through ML Metadata's lineage."""
    name = config.pipeline_name
    statistics = mlmd.output_ids(store, _finished_readers(store, name, "StatisticsGen", {examples_id}), "statistics")
    if not statistics:
        return False
    if config.data.schema_file:
        anomalies = mlmd.output_ids(store, _finished_readers(store, name, "ExampleValidator", statistics), "anomalies")
        if not _finished_readers(store, name, "AnomaliesGate", anomalies):
            return False
    return not config.drift.enabled or bool(_finished_readers(store, name, "DriftCheck", statistics))


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
    store = mlmd.open_store(metadata_path) if metadata_path.exists() else None
    done = newest_artifacts(store, config.pipeline_name, example_gen.id) if store else {}
    # The newest span is the pipeline's own ExampleGen's to read (cached when unchanged), and its to check.
    older = window[:-1]
    stale = [span for span in older if span not in done
             or mlmd.string_property(done[span], "input_fingerprint") != current_fingerprint(example_gen, span)]
    unchecked = [span for span in older if span not in stale and not passed_checks(store, config, done[span].id)]
    return IngestPlan(window, stale, unchecked)


class SpanCheckError(RuntimeError):
    """An older span of the window failed the checks the pipeline runs on its newest span."""


def ingest(config: PipelineConfig, ingest_plan: IngestPlan, pipeline_root: str, serving_dir: str,
           metadata_connection_config, beam_pipeline_args: list[str], out) -> None:
    """Runs the pipeline's check nodes fixed to each span of ``ingest_plan.spans``, into the pipeline's
    ML Metadata: the ExampleGen reads the span (cached when its files were read already), then its checks."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.pipeline import Pipeline

    from pipeline.definition import span_check_nodes

    for span in ingest_plan.spans:
        why = ("first (not ingested yet, or its files changed)" if span in ingest_plan.to_ingest
               else "checked first (read before, its checks not passed yet)")
        print(f"Window: span {span} {why}", file=out)
        try:
            LocalDagRunner().run(Pipeline(
                pipeline_name=config.pipeline_name, pipeline_root=pipeline_root,
                components=span_check_nodes(config, span, serving_dir),
                enable_cache=True, metadata_connection_config=metadata_connection_config,
                beam_pipeline_args=beam_pipeline_args or config.beam_args))
        except Exception as exc:  # the span, then the check's own first line
            first_line = (str(exc).strip().splitlines() or [""])[0]
            raise SpanCheckError(f"span {span} of the window: {type(exc).__name__}: {first_line} "
                                 "(fix or replace the span's files, then run again)") from exc
