"""The evaluation report of a real pipeline run: slice counts against the data, files, and the rendered page."""

import collections
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from conftest import REPO, SMALL_RUN, command
from pipeline.report import writer as report
from pipeline.results import eval_results, mlmd as run_records
from config import build_config
from pipeline.report.tables import build_task_tables, significantly_below
from pipeline.results.history import evaluated_models, with_key_metrics
from pipeline.results.training_logs import read_training_curves

pytestmark = pytest.mark.e2e
CONFIG = build_config()
TASKS = CONFIG.task_names


def _latest(output_dir, node_id):
    store = run_records.open_store(output_dir / "metadata.sqlite")
    return run_records.latest_node_run(store, CONFIG.pipeline_name, node_id)


@pytest.fixture(scope="module")
def eval_slices(own_default_run):
    """Each evaluated example's slice values, read from the test split's TFRecords.

    The segment is the raw feature; the x_norm bucket comes from the trained
    model's transform_features signature (the Transform graph itself).
    """
    examples_uri = _latest(own_default_run.output_dir, "SyntheticExampleGen").output("examples").uri
    files = tf.io.gfile.glob(f"{examples_uri}/Split-test/*.gz")
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    model_uri = _latest(own_default_run.output_dir, "Trainer").output("model").uri
    transform = tf.saved_model.load(f"{model_uri}/Format-Serving").signatures["transform_features"]
    buckets = transform(examples=tf.constant(records))["x_norm_bucket"].numpy().reshape(-1)
    segments = [tf.train.Example.FromString(r).features.feature["segment"].bytes_list.value[0].decode()
                for r in records]
    return [{"segment": s, "x_norm_bucket": str(int(b))} for s, b in zip(segments, buckets)]


def _expected_counts(eval_slices):
    counts = collections.Counter({"Overall": len(eval_slices)})
    for columns in CONFIG.evaluation.slices:
        for example in eval_slices:
            key = ", ".join(f"{c}:{example[c]}" for c in CONFIG.evaluation.slice_columns(columns))
            counts[key] += 1
    return counts


@pytest.fixture(scope="module")
def tables(own_default_run):
    uri = _latest(own_default_run.output_dir, "Evaluator").output("evaluation").uri
    _, failures = eval_results.load_gate_failures(uri)
    records = eval_results.load_metric_records(uri)
    return build_task_tables(records, eval_results.load_gates(uri), failures,
                             task_types={task: "regression" for task in {r.task for r in records}})  # synthetic


def test_example_count_per_task_and_slice_matches_the_eval_data(tables, eval_slices):
    expected = _expected_counts(eval_slices)
    assert len(expected) == 1 + 3 + 4 + 3 * 4  # overall, segments, buckets, their cross
    for table in tables:
        assert {row.slice: row.count for row in table.rows} == dict(expected), table.task


def test_tables_hold_every_metric_and_gate_of_each_task(tables):
    assert [t.task for t in tables] == TASKS
    for table in tables:
        assert table.key_metric == "r2"
        assert {"r2", "mean_squared_error", "mean_absolute_error"} <= set(table.metrics)
        assert all(set(table.metrics) <= set(row.values) for row in table.rows)
        overall_gate = next(g for g in table.gates if not g.is_diff)
        assert overall_gate.condition == "R² ≥ 0.5" and overall_gate.slice == "Overall"
        assert overall_gate.passed == (table.overall.values["r2"] >= 0.5)
        if table.weakest is not None:  # only a slice significantly below overall
            assert table.weakest.interval("r2")[1] < table.overall.values["r2"]


def test_local_runner_names_the_report_it_wrote(default_run):
    line = default_run.stdout.strip().splitlines()[-1]
    assert line.startswith("Report: ") and line.endswith("index.html")
    index = Path(line.removeprefix("Report: "))
    assert index.is_file() and index.parent.parent == (default_run.output_dir / "reports").resolve()


@pytest.fixture(scope="module")
def report_dir(own_default_run):
    proc = subprocess.run([*command("mtl-report"),
                           "--output-dir", str(own_default_run.output_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    index = proc.stdout.strip().removeprefix("Report written: ")
    return Path(index).parent


def test_metrics_json_has_an_interval_around_every_value(report_dir):
    numbers = json.loads((report_dir / "metrics.json").read_text())
    assert numbers["confidence_intervals"] == "jackknife"
    assert numbers["metrics"]
    for record in numbers["metrics"]:
        assert record["lower"] <= record["value"] <= record["upper"], record
        assert record["lower"] < record["upper"], record


def test_no_random_segment_is_named_the_weakest(tables):
    for table in tables:
        assert table.has_intervals
        overall = table.overall.values["r2"]
        segments = [r for r in table.rows if r.slice.startswith("segment:") and "," not in r.slice]
        assert len(segments) == 3
        compared = [r for r in table.rows if r.slice != "Overall" and r.interval("r2") is not None]
        assert not any(significantly_below(r, "r2", overall, comparisons=len(compared)) for r in segments), table.task
        assert table.weakest is None or not table.weakest.slice.startswith("segment:")


def test_training_curves_are_the_trainers_own_logs(own_default_run):
    model_run = _latest(own_default_run.output_dir, "Trainer").output("model_run").uri
    curves = read_training_curves(model_run, {task: "r2" for task in TASKS})
    steps = int(SMALL_RUN[SMALL_RUN.index("--train-steps") + 1])
    for task in TASKS:
        task_curves = curves.tasks[task]
        # A training point every 50 steps, a validation point at every early-stopping check
        # (evenly spaced, the last at the last step run).
        val_steps = [s for s, _ in task_curves.val_loss]
        assert len({b - a for a, b in zip([0] + val_steps, val_steps)}) == 1 and val_steps[-1] <= steps
        assert [s for s, _ in task_curves.train_loss] == list(range(50, val_steps[-1] + 1, 50))
        assert task_curves.train_loss[-1][1] < task_curves.train_loss[0][1]  # it learned
        assert -1 < task_curves.val_metric[-1][1] <= 1


def test_history_holds_each_evaluated_models_own_metrics(default_run):
    store = run_records.open_store(default_run.output_dir / "metadata.sqlite")
    models = with_key_metrics(evaluated_models(store, CONFIG.pipeline_name, limit=10), {t: "r2" for t in TASKS})
    assert models and models[-1].execution_id == _latest(default_run.output_dir, "Evaluator").execution.id
    for model in models:
        overall = {}
        for metrics_for_slice in tfma.load_metrics(model.evaluation_uri):
            if not metrics_for_slice.slice_key.single_slice_keys:
                for kv in metrics_for_slice.metric_keys_and_values:
                    if kv.key.name == "r2" and not kv.key.is_diff and kv.key.model_name in ("", "candidate"):
                        overall[kv.key.output_name] = kv.value.double_value.value
        assert model.key_metrics == overall
    first = models[0]
    assert first.blessed and first.pushed  # the default run's first model passes its gates and is pushed


def test_report_cli_writes_the_three_files(report_dir, eval_slices):
    assert sorted(p.name for p in report_dir.iterdir()) == ["index.html", "metrics.json", "report.md"]
    numbers = json.loads((report_dir / "metrics.json").read_text())
    counts = _expected_counts(eval_slices)
    by_key = {(m["task"], m["slice"], m["metric"]): m for m in numbers["metrics"]}
    for task in TASKS:
        for slice_name, count in counts.items():
            assert by_key[(task, slice_name, "r2")]["example_count"] == count
    markdown = (report_dir / "report.md").read_text()
    assert all(f"## {task}" in markdown for task in TASKS)
    assert all(f"| {s} " in markdown for s in counts)
    html = (report_dir / "index.html").read_text()
    assert "http://" not in html and "https://" not in html  # self-contained: no network


def test_page_renders_in_chromium_with_every_task_and_slice(report_dir, eval_slices):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (make chromium)"
    index = report_dir / "index.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
    screenshot = report_dir.parent / "report-screenshot.png"
    with tempfile.TemporaryDirectory() as profile:
        shot = subprocess.run([chromium, *flags, f"--user-data-dir={profile}/a", f"--screenshot={screenshot}",
                               "--window-size=1280,2000", index.as_uri()],
                              capture_output=True, text=True, timeout=120)
        dom = subprocess.run([chromium, *flags, f"--user-data-dir={profile}/b", "--dump-dom", index.as_uri()],
                             capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr
    assert dom.returncode == 0, dom.stderr
    page = dom.stdout
    for task in TASKS:
        assert f"Task {task}" in page
    for slice_name in _expected_counts(eval_slices):
        assert f"<td>{slice_name}" in page, slice_name
    # Per task: key metric by slice, fit, training curves, history.
    assert page.count('src="data:image/png;base64,') == 4 * len(TASKS)
    for task in TASKS:
        assert f'alt="{task}: training curves"' in page and f'alt="{task}: R² history"' in page
    assert "95% confidence interval" in page and page.count('class="ci">[') >= len(TASKS) * 20
    assert "(this report)" in page
