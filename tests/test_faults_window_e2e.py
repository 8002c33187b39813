"""A run with a window of spans, SIGKILLed for real part way, then run again with the same command.

Spans 1-3 of data/sample.csv are present and ``window_spans: 3``: the runner first ingests and checks
spans 1 and 2 (``pipeline/span_ingest.py``), then runs the pipeline, whose ExampleGen reads span 3. The run is
killed while it ingests span 2, or while the Trainer trains; the rerun must complete, push exactly
one model, and train on spans [1, 2, 3].
"""

from __future__ import annotations

import signal
import time

import pytest
import yaml

from conftest import CliRun, run_pipeline_cli, serving_versions, start_pipeline_cli
from pipeline.results import mlmd
from test_spans_e2e import PIPELINE, ingested_spans, transform_spans, write_config, write_span

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def _window_config(root):
    """test_spans_e2e's daily configuration, training long enough to be killed during it."""
    path = write_config(root)
    raw = yaml.safe_load(path.read_text())
    raw["training"]["train_steps"] = 1500
    path.write_text(yaml.safe_dump(raw))
    return path


def _example_gen_outputs(output_dir):
    """The CsvExampleGen output folders so far, one per execution that started writing."""
    folder = output_dir / "pipeline_root" / "CsvExampleGen" / "examples"
    return list(folder.iterdir()) if folder.is_dir() else []


def _kill_during_span_2s_ingest(run, output_dir):
    # Span 1's ingestion finished; kill as soon as span 2's ExampleGen has started writing.
    run.wait_for(lambda: "Window: span 2 first" in run.stdout and len(_example_gen_outputs(output_dir)) == 2,
                 "span 2's ingestion")


def _kill_during_training(run, output_dir):
    run.wait_for((output_dir / "pipeline_root" / "Trainer" / "model_run").exists, "the Trainer")
    time.sleep(2)


def _pushes(output_dir) -> list[str]:
    """Where each Pusher execution that pushed put its model (ML Metadata)."""
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    pushed = [run.output("pushed_model") for run in mlmd.finished_node_runs(store, PIPELINE, "Pusher")
              if not run.cached]
    return [mlmd.string_property(a, "pushed_destination") for a in pushed if mlmd.int_property(a, "pushed")]


@pytest.mark.parametrize("kill_at", [_kill_during_span_2s_ingest, _kill_during_training],
                         ids=["during-window-ingest", "during-training"])
def test_a_window_run_killed_part_way_completes_on_rerun_and_pushes_one_model(tmp_path, kill_at):
    for span in (1, 2, 3):
        write_span(tmp_path, span)
    config, output_dir = _window_config(tmp_path), tmp_path / "out"

    run = start_pipeline_cli(output_dir, "--config", str(config))
    kill_at(run, output_dir)
    assert run.kill() == -signal.SIGKILL
    assert serving_versions(output_dir) == []
    killed_while_ingesting = kill_at is _kill_during_span_2s_ingest
    # What the kill interrupted: span 2's ingestion (only span 1 finished), or the Trainer (the window read).
    assert ingested_spans(output_dir) == ([1] if killed_while_ingesting else [1, 2, 3]), run.stdout
    finished = CliRun(run.proc.returncode, run.stdout, "", output_dir).component_lines()
    assert ("Transform" if killed_while_ingesting else "Trainer") not in finished, run.stdout

    rerun = run_pipeline_cli(output_dir, "--config", str(config))
    assert rerun.returncode == 0, f"{rerun.stdout}\n{rerun.stderr[-3000:]}"
    window_lines = [line for line in rerun.stdout.splitlines() if line.startswith("Window:")]
    # Only what the kill left unread is read again: span 2 (then span 3 by the pipeline), or nothing.
    assert [line.split()[2] for line in window_lines] == (["2"] if killed_while_ingesting else [])
    assert ingested_spans(output_dir) == [1, 2, 3]
    assert transform_spans(output_dir) == [1, 2, 3]
    (version,) = serving_versions(output_dir)
    assert [p.rstrip("/").rsplit("/", 1)[-1] for p in _pushes(output_dir)] == [version.name]
    (pushed_line,) = [line for line in rerun.stdout.splitlines() if line.startswith("Blessed and pushed:")]
    assert pushed_line.endswith(f"/serving/{version.name}"), pushed_line
