"""The nodes that check an older span of the window are the pipeline's own (no run: see test_spans_e2e)."""

from __future__ import annotations

import json

import pytest
from tfx.proto import range_config_pb2
from tfx.utils import proto_utils

from config import build_config
from pipeline.baseline import local_baseline_resolver
from pipeline.definition import create_pipeline, span_check_nodes

SERVING = "/tmp/serving"


def _config(tmp_path, **data):
    return build_config({
        "data": {"source": "csv", "path": str(tmp_path / "span-{SPAN}/rows.csv"), "window_spans": 3,
                 "features": [{"name": "age"}, {"name": "city", "type": "categorical"}], **data},
        "tasks": [{"name": "spend"}],
        "drift": {"thresholds": {"age": 0.3}},
    })


def _pipeline_nodes(config) -> dict:
    pipeline = create_pipeline(config, pipeline_root="/tmp/root", serving_dir=SERVING,
                               baseline_resolver=local_baseline_resolver)
    return {node.id: node for node in pipeline.components}


def _fixed_span(example_gen) -> tuple[int, int]:
    static = proto_utils.json_to_proto(example_gen.exec_properties["range_config"],
                                       range_config_pb2.RangeConfig()).static_range
    return static.start_span_number, static.end_span_number


@pytest.mark.parametrize("data, checks", [
    ({}, ["CsvExampleGen", "StatisticsGen", "served_model_resolver", "DriftCheck"]),
    ({"schema_file": "schema.pbtxt"}, ["CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
                                       "AnomaliesGate", "served_model_resolver", "DriftCheck"]),
])
def test_an_older_span_gets_the_pipelines_own_checks_with_the_same_parameters(tmp_path, data, checks):
    config = _config(tmp_path, **data)
    nodes = span_check_nodes(config, span=2, serving_dir=SERVING)
    assert [node.id for node in nodes] == checks
    pipeline = _pipeline_nodes(config)
    for node in nodes[1:]:  # same ids and parameters: the same ML Metadata contexts and cache keys
        assert node.exec_properties == pipeline[node.id].exec_properties, node.id
    example_gen = nodes[0]
    assert _fixed_span(example_gen) == (2, 2)
    assert {k: v for k, v in example_gen.exec_properties.items() if k != "range_config"} == \
        {k: v for k, v in pipeline["CsvExampleGen"].exec_properties.items() if k != "range_config"}
    by_id = {node.id: node for node in nodes}
    assert json.loads(by_id["DriftCheck"].exec_properties["thresholds"])["columns"]["age"] == 0.3
    # Each check reads this span's statistics, and the drift check waits for the schema's gate.
    assert by_id["StatisticsGen"].inputs["examples"].producer_component_id == "CsvExampleGen"
    if "AnomaliesGate" in by_id:
        assert by_id["AnomaliesGate"] in by_id["DriftCheck"].upstream_nodes


def test_with_drift_off_and_an_inferred_schema_an_older_span_gets_its_statistics_only(tmp_path):
    config = build_config({
        "data": {"source": "csv", "path": str(tmp_path / "span-{SPAN}/rows.csv"), "window_spans": 3,
                 "features": [{"name": "age"}]},
        "tasks": [{"name": "spend"}], "drift": {"enabled": False}})
    assert [node.id for node in span_check_nodes(config, span=1, serving_dir=SERVING)] == \
        ["CsvExampleGen", "StatisticsGen"]
