"""End to end on a table with a heavy-tailed column and a label in the hundreds.

The plain configuration (features and tasks only) must: choose ``log`` for the
heavy-tailed column and say why; train on the standardized label and serve
the original scale; stop by itself and say how many steps ran; and report
every metric the Evaluator computed, with a finite log loss.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow as tf
import yaml

from conftest import run_pipeline_cli, serving_versions
from pipeline.results import eval_results, mlmd

pytestmark = pytest.mark.e2e

REGRESSION_METRICS = {"example_count", "mean_label", "mean_prediction", "mean_squared_error",
                      "mean_absolute_error", "root_mean_squared_error", "r2"}
BINARY_METRICS = {"example_count", "mean_label", "mean_prediction", "auc", "binary_crossentropy", "calibration"}


def _table(n: int, seed: int) -> list[dict]:
    rng = np.random.RandomState(seed)
    age = rng.normal(40, 10, n)
    signal = rng.normal(size=n)
    gain = np.where(rng.rand(n) < 0.9, 0.0, np.exp(8 + 2 * signal))  # 90% zeros, values up to ~1e6
    region = rng.choice(["north", "south", "east"], n)
    price = 300 + 4 * (age - 40) + 25 * np.log1p(gain) / 8 + 20 * (region == "north") + rng.normal(0, 10, n)
    logit = 0.2 * (age - 40) + np.log1p(gain) / 4 - 1.0
    clicked = (rng.rand(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return [{"age": f"{a:.2f}", "gain": f"{g:.2f}", "region": r, "price": f"{p:.2f}", "clicked": str(c)}
            for a, g, r, p, c in zip(age, gain, region, price, clicked)]


def _write(path, rows):
    path.write_text(",".join(rows[0]) + "\n" + "".join(",".join(row.values()) + "\n" for row in rows))


def _example(row: dict) -> bytes:
    example = tf.train.Example()
    example.features.feature["age"].float_list.value.append(float(row["age"]))
    example.features.feature["gain"].float_list.value.append(float(row["gain"]))
    example.features.feature["region"].bytes_list.value.append(row["region"].encode())
    return example.SerializeToString()


@pytest.fixture(scope="module")
def quality_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    train, evaluation = _table(600, 1), _table(200, 2)
    _write(root / "train.csv", train)
    _write(root / "eval.csv", evaluation)
    (root / "config.yaml").write_text(yaml.safe_dump({
        "pipeline_name": "quality",
        "data": {"source": "csv", "split": {"train": "train.csv", "eval": "eval.csv"},
                 "features": [{"name": "age"}, {"name": "gain"}, {"name": "region", "type": "categorical"}]},
        "tasks": [{"name": "price", "type": "regression"}, {"name": "clicked", "type": "binary"}],
        # Only the cap is set, to bound the test's time; early stopping still decides below it.
        "training": {"max_steps": 3000}}))
    run = run_pipeline_cli(root / "out", "--config", str(root / "config.yaml"))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    return run, evaluation


def test_the_heavy_tailed_column_gets_log_and_the_choice_is_recorded(quality_run):
    run, _ = quality_run
    lines = run.stdout.splitlines()
    assert any(line.startswith("  gain: log (non-negative, ") and "% zeros" in line for line in lines)
    assert any(line.startswith("  age: z_score (") for line in lines)
    (resolved,) = (run.output_dir / "logs").glob("*.config.yaml")
    features = yaml.safe_load(resolved.read_text())["data"]["features"]
    assert {f["name"]: f["transform"] for f in features} == {"age": "z_score", "gain": "log", "region": "auto"}


def test_training_stops_by_itself_and_says_so(quality_run):
    run, _ = quality_run
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("Training: ")]
    steps = int(line.split()[1].replace(",", ""))
    assert 100 <= steps <= 3000 and ("stopped early" in line or "ran its whole budget" in line)


def test_serving_returns_the_original_scale_and_matches_the_evaluator(quality_run):
    run, evaluation = quality_run
    (pushed,) = serving_versions(run.output_dir)
    serve = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    outputs = serve(examples=tf.constant([_example(row) for row in evaluation]))
    predicted = outputs["price"].numpy().ravel()
    labels = np.array([float(row["price"]) for row in evaluation])
    served_r2 = 1 - np.sum((labels - predicted) ** 2) / np.sum((labels - labels.mean()) ** 2)
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    evaluation_uri = mlmd.latest_node_run(store, "quality", "Evaluator").output("evaluation").uri
    metrics = eval_results.overall_metrics(eval_results.load_metric_records(evaluation_uri))
    assert served_r2 == pytest.approx(metrics["price"]["r2"], abs=1e-4)
    assert served_r2 > 0.8 and abs(predicted.mean() - labels.mean()) < 10  # hundreds, not standard units
    probabilities = outputs["clicked"].numpy()
    assert ((probabilities >= 1e-7) & (probabilities <= 1 - 1e-7)).all()


def test_the_report_holds_every_metric_the_evaluator_computed(quality_run):
    run, _ = quality_run
    (metrics_file,) = (run.output_dir / "reports").glob("*/metrics.json")
    rows = json.loads(metrics_file.read_text())["metrics"]
    # The example count is each row's example_count field; every other metric is a record.
    reported = {task: {r["metric"] for r in rows if r["task"] == task and r["slice"] == "Overall"}
                | {"example_count" for r in rows if r["task"] == task and r["example_count"]}
                for task in ("price", "clicked")}
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    evaluation_uri = mlmd.latest_node_run(store, "quality", "Evaluator").output("evaluation").uri
    computed = {task: set(values) for task, values in
                eval_results.overall_metrics(eval_results.load_metric_records(evaluation_uri)).items()}
    assert reported == computed
    assert reported == {"price": REGRESSION_METRICS, "clicked": BINARY_METRICS}
    log_loss = next(r["value"] for r in rows if r["task"] == "clicked" and r["slice"] == "Overall"
                    and r["metric"] == "binary_crossentropy")
    assert isinstance(log_loss, float) and math.isfinite(log_loss) and log_loss < 0.7
