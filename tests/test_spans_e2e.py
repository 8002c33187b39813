"""The daily loop for real: data/sample.csv cut into five spans, a window of 3, warm start, the drift
check, each step one ``local_runner.py --config`` into one output dir."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from ml_metadata.proto import metadata_store_pb2

from conftest import REPO, CliRun, run_pipeline_cli, serving_versions
from pipeline.results import history, mlmd
from pipeline.results.span_data import artifact_span

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # eight pipeline runs
ROWS_PER_SPAN = 400
PIPELINE = "sample-three-tasks"


def write_span(root: Path, span: int, scale: dict[str, float] | None = None) -> None:
    """Span N: rows (N-1)*400 .. N*400 of the sample table, as daily/span-N/rows.csv; ``scale``
    multiplies a numeric column (the same rows in other units)."""
    with open(REPO / "data" / "sample.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    rows = rows[(span - 1) * ROWS_PER_SPAN:span * ROWS_PER_SPAN]
    for column, factor in (scale or {}).items():
        i = header.index(column)
        rows = [[*row[:i], _scaled(row[i], factor), *row[i + 1:]] for row in rows]
    folder = root / "daily" / f"span-{span}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "rows.csv", "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def _scaled(cell: str, factor: float) -> str:
    """A numeric cell times ``factor``; a missing one ("" or "?") stays as it is."""
    return cell if cell.strip() in ("", "?") else str(float(cell) * factor)


def write_config(root: Path) -> Path:
    config = yaml.safe_load((REPO / "data" / "sample.yaml").read_text())
    config["data"].update(path="daily/span-{SPAN}/rows.csv", window_spans=3)
    config["evaluation"] = {"confidence_intervals": "none"}
    config["training"] = {"train_steps": 100, "batch_size": 64, "warm_start": True}
    # 400-row spans of the sample differ by chance up to ~0.3 (balance); a column x1000 is near 1.
    config["drift"] = {"jensen_shannon_divergence": 0.6, "infinity_norm": 0.6}
    for task in config["tasks"]:  # the loop, not the model, is under test
        task["gate"] = {"min_r2": -10.0} if task["type"] == "regression" else {"min_auc": 0.0}
    path = root / "daily.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def transform_spans(output_dir: Path) -> list[int]:
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    transform = mlmd.latest_node_run(store, PIPELINE, "Transform")
    return sorted(artifact_span(a) for a in transform.inputs["examples"])


def ingested_spans(output_dir: Path) -> list[int]:
    """The span of each CsvExampleGen execution that read files (not cached), in order."""
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    return [artifact_span(run.output("examples"))
            for run in mlmd.finished_node_runs(store, PIPELINE, "CsvExampleGen")
            if run.execution.last_known_state == metadata_store_pb2.Execution.COMPLETE]


def trainer_base_models(output_dir: Path) -> list[list[int]]:
    """For each finished Trainer run in order: the ids of its base_model input (none on the first)."""
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    return [[a.id for a in run.inputs.get("base_model", [])]
            for run in mlmd.finished_node_runs(store, PIPELINE, "Trainer")]


def trainer_models(output_dir: Path) -> list[int]:
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    return [run.output("model").id for run in mlmd.finished_node_runs(store, PIPELINE, "Trainer")]


def run_ok(output_dir: Path, config: Path):
    run = run_pipeline_cli(output_dir, "--config", str(config))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr[-3000:]}"
    return run


def test_the_daily_loop_over_five_spans(tmp_path):
    for span in (1, 2, 3):
        write_span(tmp_path, span)
    config, output_dir = write_config(tmp_path), tmp_path / "out"

    # 1. Spans 1-3 present: the older two are ingested first, Transform reads [1, 2, 3], a model is pushed.
    first = run_ok(output_dir, config)
    assert transform_spans(output_dir) == [1, 2, 3]
    assert ingested_spans(output_dir) == [1, 2, 3]
    assert "Data: span 3 (400 rows, new); window spans 1-3 (1,200 rows)" in first.stdout
    assert "Warm start: from scratch (no blessed model yet)" in first.stdout
    assert len(serving_versions(output_dir)) == 1

    # 2. Span 4 arrives: only it is read; Transform reads [2, 3, 4]; the Trainer starts from the served model.
    write_span(tmp_path, 4)
    second = run_ok(output_dir, config)
    assert transform_spans(output_dir) == [2, 3, 4]
    assert ingested_spans(output_dir) == [1, 2, 3, 4]  # spans 2 and 3 were not read again
    assert "Window: span" not in second.stdout
    assert "Data: span 4 (400 rows, new); window spans 2-4 (1,200 rows)" in second.stdout
    assert trainer_base_models(output_dir)[-1] == [trainer_models(output_dir)[0]]
    assert len(serving_versions(output_dir)) == 2
    served = sorted(p.name for p in serving_versions(output_dir))

    # 3. Span 5 arrives with one numeric input in other units (x1000): the drift check stops the run.
    write_span(tmp_path, 5, scale={"tenure_months": 1000.0})
    third = run_pipeline_cli(output_dir, "--config", str(config))
    assert third.returncode == 1, f"{third.stdout}\n{third.stderr[-3000:]}"
    (error,) = [line for line in (third.stdout + third.stderr).splitlines() if line.startswith("error:")]
    assert error.startswith("error: DriftCheck: DataDriftError:") and "tenure_months" in error, error
    assert sorted(p.name for p in serving_versions(output_dir)) == served  # the served model is unchanged

    # 4. Span 5 is replaced by its real rows: read again as a new artifact of span 5; the run goes on.
    write_span(tmp_path, 5)
    fourth = run_ok(output_dir, config)
    assert transform_spans(output_dir) == [3, 4, 5]
    assert ingested_spans(output_dir) == [1, 2, 3, 4, 5, 5]
    assert trainer_base_models(output_dir)[-1] == [trainer_models(output_dir)[1]]
    assert len(serving_versions(output_dir)) == 3

    # The report's history: each evaluated model with the spans it was trained on, through lineage.
    evaluated = history.evaluated_models(mlmd.open_store(output_dir / "metadata.sqlite"), PIPELINE, 10)
    assert [(m.spans, m.pushed) for m in evaluated] == [("spans 1-3", True), ("spans 2-4", True),
                                                        ("spans 3-5", True)]

    # 5. An older span of the window (4) is rewritten in other units: it is read again, and its drift
    # check stops the run before Transform, naming the span; the served model is unchanged.
    served = sorted(p.name for p in serving_versions(output_dir))
    write_span(tmp_path, 4, scale={"tenure_months": 1000.0})
    for attempt in (1, 2):  # a failed check is never cached: the next run checks the span again
        stopped = run_pipeline_cli(output_dir, "--config", str(config))
        assert stopped.returncode == 1, f"{stopped.stdout}\n{stopped.stderr[-3000:]}"
        assert ("Window: span 4 first" if attempt == 1 else "Window: span 4 checked first") in stopped.stdout
        (error,) = [line for line in stopped.stdout.splitlines() if line.startswith("error:")]
        assert error.startswith("error: DriftCheck: SpanCheckError: span 4 of the window: DataDriftError:"), error
        assert "tenure_months" in error, error
        assert "Transform" not in CliRun(1, stopped.stdout, "", output_dir).component_lines(), stopped.stdout
        assert sorted(p.name for p in serving_versions(output_dir)) == served
    assert ingested_spans(output_dir) == [1, 2, 3, 4, 5, 5, 4]

    # 6. Span 4's real rows again: read as a newer artifact, checked, and the run goes on with it.
    write_span(tmp_path, 4)
    sixth = run_ok(output_dir, config)
    assert "Window: span 4 first" in sixth.stdout
    assert ingested_spans(output_dir) == [1, 2, 3, 4, 5, 5, 4, 4]
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    trained = mlmd.latest_node_run(store, PIPELINE, "Transform").inputs["examples"]
    newest_of_span_4 = [run.output("examples") for run in mlmd.finished_node_runs(store, PIPELINE, "CsvExampleGen")
                        if artifact_span(run.output("examples")) == 4][-1]
    assert sorted(artifact_span(a) for a in trained) == [3, 4, 5]
    assert newest_of_span_4.id in {a.id for a in trained}
