"""End to end on a CSV the way spreadsheets and exports write them.

A UTF-8 byte-order mark, CRLF line ends, a space after every delimiter, and
column names with hyphens, spaces and dots, named in the configuration exactly
as the header has them. A binary label missing on a third of the rows, and an
example weight column that is 0 on some rows. The served model takes raw
tf.Examples keyed by the original column names, and the Evaluator's AUC
equals the one computed here from the served predictions on the rows that
have the label and a non-zero weight.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import yaml

from conftest import run_pipeline_cli, serving_versions
from pipeline.results import eval_results, mlmd
from models.tasks.binary import auc_score
from models.tasks.regression import r2_score

pytestmark = pytest.mark.e2e

HEADER = ["capital-gain", "weekly hours", "home.region", "price", "clicked", "w"]


def _rows(n: int, seed: int) -> list[list[str]]:
    rng = np.random.RandomState(seed)
    gain, hours = rng.normal(size=n), rng.normal(40, 8, n)
    region = rng.choice(["north", "south"], n)
    price = 10 * gain + 0.5 * (hours - 40) + 5 * (region == "north") + rng.normal(0, 1, n)
    clicked = (rng.rand(n) < 1 / (1 + np.exp(-(2 * gain + (region == "north"))))).astype(int)
    known = rng.rand(n) > 1 / 3
    weight = np.where(rng.rand(n) < 0.1, 0, 1)
    return [[f"{g:.3f}", f"{h:.2f}", r, f"{p:.3f}", str(c) if k else "", str(w)]
            for g, h, r, p, c, k, w in zip(gain, hours, region, price, clicked, known, weight)]


def _example(row: list[str]) -> bytes:
    example = tf.train.Example()
    example.features.feature["capital-gain"].float_list.value.append(float(row[0]))
    example.features.feature["weekly hours"].float_list.value.append(float(row[1]))
    example.features.feature["home.region"].bytes_list.value.append(row[2].encode())
    return example.SerializeToString()


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("columns")
    train, evaluation = _rows(800, 1), _rows(300, 2)
    for name, rows in (("train.csv", train), ("eval.csv", evaluation)):
        text = "\ufeff" + ", ".join(HEADER) + "\r\n" + "".join(", ".join(r) + "\r\n" for r in rows)
        (root / name).write_bytes(text.encode("utf-8"))
    (root / "config.yaml").write_text(yaml.safe_dump({
        "pipeline_name": "columns",
        "data": {"source": "csv", "split": {"train": "train.csv", "eval": "eval.csv"}, "example_weight": "w",
                 "features": [{"name": "capital-gain"}, {"name": "weekly hours"},
                              {"name": "home.region", "type": "categorical"}]},
        "tasks": [{"name": "price"}, {"name": "clicked", "type": "binary"}]}))
    run = run_pipeline_cli(root / "out", "--config", str(root / "config.yaml"))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    uri = mlmd.latest_node_run(store, "columns", "Evaluator").output("evaluation").uri
    return run, evaluation, eval_results.overall_metrics(eval_results.load_metric_records(uri))


def test_served_model_takes_the_original_column_names(messy_run):
    run, evaluation, metrics = messy_run
    (pushed,) = serving_versions(run.output_dir)
    serve = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    outputs = serve(examples=tf.constant([_example(row) for row in evaluation]))
    weight = np.array([float(r[5]) for r in evaluation])
    price = np.array([float(r[3]) for r in evaluation])
    kept = weight > 0
    served_r2 = r2_score(price[kept], outputs["price"].numpy().ravel()[kept])
    assert served_r2 == pytest.approx(metrics["price"]["r2"], abs=1e-3) and served_r2 > 0.9


def test_rows_without_the_label_or_with_weight_0_are_left_out_of_its_metrics(messy_run):
    run, evaluation, metrics = messy_run
    (pushed,) = serving_versions(run.output_dir)
    serve = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    predicted = serve(examples=tf.constant([_example(row) for row in evaluation]))["clicked"].numpy().ravel()
    kept = np.array([r[4] != "" and r[5] != "0" for r in evaluation])
    labels = np.array([float(r[4]) if r[4] else np.nan for r in evaluation])
    served_auc = auc_score(labels[kept], predicted[kept])
    assert served_auc == pytest.approx(metrics["clicked"]["auc"], abs=0.01)
    # Counting the missing labels as 0 would give a different AUC: the check can fail.
    as_zero = np.nan_to_num(labels)[weight_positive(evaluation)]
    assert abs(auc_score(as_zero, predicted[weight_positive(evaluation)]) - served_auc) > 0.02
    assert metrics["clicked"]["mean_label"] == pytest.approx(labels[kept].mean(), abs=1e-4)


def weight_positive(rows) -> np.ndarray:
    return np.array([r[5] != "0" for r in rows])
