"""The daily loop's data side, for real: spans of data/sample.csv, a window of 3, two runs into one output dir."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from ml_metadata.proto import metadata_store_pb2

from conftest import REPO, run_pipeline_cli, serving_versions
from pipeline.results import mlmd
from pipeline.results.span_data import artifact_span

pytestmark = pytest.mark.e2e
ROWS_PER_SPAN = 500


def write_span(root: Path, span: int) -> None:
    """Span N: rows (N-1)*500 .. N*500 of the sample table, as daily/span-N/rows.csv."""
    with open(REPO / "data" / "sample.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    folder = root / "daily" / f"span-{span}"
    folder.mkdir(parents=True)
    with open(folder / "rows.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *rows[(span - 1) * ROWS_PER_SPAN:span * ROWS_PER_SPAN]])


def write_config(root: Path) -> Path:
    config = yaml.safe_load((REPO / "data" / "sample.yaml").read_text())
    config["data"].update(path="daily/span-{SPAN}/rows.csv", window_spans=3)
    config["evaluation"] = {"confidence_intervals": "none"}
    config["training"] = {"train_steps": 100, "batch_size": 64}
    # 500-row spans of the sample differ by chance up to ~0.3 (balance); a column x1000 is near 1.
    config["drift"] = {"jensen_shannon_divergence": 0.6, "infinity_norm": 0.6}
    for task in config["tasks"]:  # the loop, not the model, is under test
        task["gate"] = {"min_r2": -10.0} if task["type"] == "regression" else {"min_auc": 0.0}
    path = root / "daily.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def transform_spans(output_dir: Path) -> list[int]:
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    transform = mlmd.latest_node_run(store, "sample-three-tasks", "Transform")
    return sorted(artifact_span(a) for a in transform.inputs["examples"])


def ingested_spans(output_dir: Path) -> list[int]:
    """The span of each CsvExampleGen execution that read files (not cached), in order."""
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    return [artifact_span(run.output("examples"))
            for run in mlmd.finished_node_runs(store, "sample-three-tasks", "CsvExampleGen")
            if run.execution.last_known_state == metadata_store_pb2.Execution.COMPLETE]


def test_a_window_of_three_spans_over_two_daily_runs(tmp_path):
    for span in (1, 2, 3):
        write_span(tmp_path, span)
    config, output_dir = write_config(tmp_path), tmp_path / "out"

    first = run_pipeline_cli(output_dir, "--config", str(config))
    assert first.returncode == 0, f"pipeline failed:\n{first.stdout}\n{first.stderr}"
    assert transform_spans(output_dir) == [1, 2, 3]
    assert ingested_spans(output_dir) == [1, 2, 3]
    assert "Data: span 3 (500 rows, new); window spans 1-3 (1,500 rows)" in first.stdout
    assert len(serving_versions(output_dir)) == 1

    write_span(tmp_path, 4)
    second = run_pipeline_cli(output_dir, "--config", str(config))
    assert second.returncode == 0, f"pipeline failed:\n{second.stdout}\n{second.stderr}"
    assert transform_spans(output_dir) == [2, 3, 4]
    assert ingested_spans(output_dir) == [1, 2, 3, 4]  # spans 2 and 3 were not read again
    assert "Window: span" not in second.stdout
    assert "Data: span 4 (500 rows, new); window spans 2-4 (1,500 rows)" in second.stdout

    # --- Drift and warm start (other branches) -------------------------------------------------
    # Next steps of this loop, once the drift check stops such data on main:
    #   span 5 with one numeric column x1000: the DriftCheck stops the run, nothing is pushed;
    #   span 5 replaced by real rows: the run goes on, Transform reads [3, 4, 5], a model is pushed.
