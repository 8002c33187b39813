"""The AnomaliesGate stops a real run whose data violates its curated schema."""

from __future__ import annotations

import shutil

import pytest

from conftest import REPO, run_pipeline_cli

pytestmark = pytest.mark.e2e

# The sample CSV's columns, with a region vocabulary the data does not keep to.
SCHEMA = """
feature { name: "age" type: INT }
feature { name: "visits" type: INT }
feature { name: "tenure_months" type: BYTES }
feature { name: "region" type: BYTES domain: "region" }
feature { name: "device" type: BYTES }
feature { name: "plan" type: BYTES }
feature { name: "spend" type: FLOAT }
feature { name: "purchased" type: INT }
feature { name: "churned" type: BYTES }
string_domain { name: "region" value: "north" value: "south" }
"""


def test_data_violating_the_schema_stops_the_run_before_transform(tmp_path):
    shutil.copy(REPO / "data" / "sample.csv", tmp_path / "sample.csv")
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    config = (REPO / "data" / "sample.yaml").read_text().replace(
        "  path: sample.csv", "  path: sample.csv\n  schema_file: schema.pbtxt")
    (tmp_path / "config.yaml").write_text(config)
    run = run_pipeline_cli(tmp_path / "out", "--config", str(tmp_path / "config.yaml"))
    assert run.returncode == 1, f"{run.stdout}\n{run.stderr}"
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stdout
    assert errors[0].startswith("error: AnomaliesGate: DataAnomaliesError: the data does not match its schema: ")
    assert "train split: region: " in errors[0] and "eval split: region: " in errors[0]
    assert "update the curated schema if the change is expected" in errors[0]
    statuses = run.component_lines()
    assert statuses.get("ExampleValidator") == "ran"
    assert "AnomaliesGate" not in statuses and "Transform" not in statuses and "Trainer" not in statuses
    assert not (tmp_path / "out" / "pipeline_root" / "Transform").exists()
    assert not (tmp_path / "out" / "serving").exists()
