"""The drift section of the configuration: defaults, errors, and what it puts in the pipeline."""

from __future__ import annotations

import json

import pytest

from pipeline.baseline import local_baseline_resolver
from config import ConfigError, build_config
from pipeline.definition import create_pipeline


def test_the_check_is_on_by_default_for_every_column_the_pipeline_reads():
    config = build_config()
    assert config.drift.enabled
    assert config.drift_thresholds() == {
        "jensen_shannon_divergence": 0.1, "infinity_norm": 0.1,
        "columns": {"x": None, "y1": None, "y2": None, "segment": None, "x_norm": None}}


@pytest.mark.parametrize("drift, message", [
    ({"thresholds": {"z": 0.2}}, "drift.thresholds: no column 'z' among the columns the pipeline reads "
                                 "(x, y1, y2, segment, x_norm)"),
    ({"skip": ["example_id"]}, "drift.skip: no column 'example_id' among the columns"),
    ({"thresholds": {"y1": 0}}, "drift.thresholds.y1: Input should be greater than 0"),
    ({"jensen_shannon_divergence": 1.5},
     "drift.jensen_shannon_divergence: Input should be less than or equal to 1"),
    ({"infinity_norm": 0.1, "enable": False}, "drift.enable: unknown setting"),
])
def test_a_bad_drift_setting_is_named(drift, message):
    with pytest.raises(ConfigError) as info:
        build_config({"drift": drift})
    assert message in str(info.value)


def _nodes(config) -> dict:
    pipeline = create_pipeline(config, pipeline_root="/tmp/root", serving_dir="/tmp/serving",
                               baseline_resolver=local_baseline_resolver)
    return {node.id: node for node in pipeline.components}


def test_the_drift_check_runs_after_the_anomalies_gate_and_before_transform():
    config = build_config({"drift": {"thresholds": {"y1": 0.3}, "skip": ["segment"]}})
    nodes = _nodes(config)
    check = nodes["DriftCheck"]
    assert nodes["AnomaliesGate"] in check.upstream_nodes and check in nodes["Transform"].upstream_nodes
    assert json.loads(check.exec_properties["thresholds"]) == config.drift_thresholds()
    assert check.exec_properties["serving_dir"] == "/tmp/serving"  # its baseline: the served model's data
    # The served model is an input: a push changes the check's cache key.
    assert nodes["served_model_resolver"] in check.upstream_nodes
    assert check.inputs["served_model"].type.TYPE_NAME == "PushedModel"
    assert config.drift_thresholds()["columns"] == {"x": None, "y1": 0.3, "y2": None, "x_norm": None}


def test_drift_disabled_leaves_the_check_out():
    on = set(_nodes(build_config()))
    off = set(_nodes(build_config({"drift": {"enabled": False}})))
    assert on - off == {"DriftCheck", "served_model_resolver"} and off < on
