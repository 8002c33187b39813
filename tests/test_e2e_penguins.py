"""End to end on a real table: the Palmer penguins, three task types, partial labels.

``data/penguins.yaml`` as shipped: species (multiclass, classes read from the
data), sex (binary; 11 penguins have none) and body mass (regression), from
the bill and flipper measurements, island and year. The Evaluator must leave
the penguins without a sex out of the sex task only, which the served model's
scores on the same rows (computed here, independently) confirm.
"""

from __future__ import annotations

import csv
import subprocess

import numpy as np
import pytest
import tensorflow as tf
import yaml

from conftest import REPO, command, run_pipeline_cli, serving_versions
from config import build_config, load_config_file
from pipeline.results import eval_results, mlmd
from pipeline.results.serving_check import check_serving

pytestmark = pytest.mark.e2e

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


@pytest.fixture(scope="module")
def penguins_run(tmp_path_factory):
    run = run_pipeline_cli(tmp_path_factory.mktemp("penguins") / "out", "--config",
                           str(REPO / "data" / "penguins.yaml"))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    uri = mlmd.latest_node_run(store, "penguins", "Evaluator").output("evaluation").uri
    return run, eval_results.overall_metrics(eval_results.load_metric_records(uri))


def test_it_is_pushed_and_the_classes_come_from_the_data(penguins_run):
    run, _ = penguins_run
    assert len(serving_versions(run.output_dir)) == 1
    (resolved,) = (run.output_dir / "logs").glob("*.config.yaml")
    tasks = {t["name"]: t for t in yaml.safe_load(resolved.read_text())["tasks"]}
    assert tasks["species"]["classes"] == CLASSES


def test_every_task_type_gets_its_metrics(penguins_run):
    _, metrics = penguins_run
    species = metrics["species"]
    for name in ("sparse_categorical_accuracy", "sparse_categorical_crossentropy", "macro_auc",
                 *(f"{m}_class_{i}" for m in ("precision", "recall", "auc") for i in range(3))):
        assert name in species, name
    assert species["sparse_categorical_accuracy"] >= 0.9 and species["macro_auc"] >= 0.95
    assert metrics["sex"]["auc"] >= 0.8
    assert metrics["body_mass_g"]["r2"] >= 0.6


def test_served_scores_match_the_evaluator_on_the_rows_with_labels(penguins_run):
    run, metrics = penguins_run
    config = build_config(load_config_file(REPO / "data" / "penguins.yaml"), base_dir=str(REPO / "data"))
    served = check_serving(run.output_dir, config)  # leaves out rows without the task's label
    assert served["species"] == pytest.approx(metrics["species"]["sparse_categorical_accuracy"], abs=1e-6)
    assert served["sex"] == pytest.approx(metrics["sex"]["auc"], abs=0.01)
    assert served["body_mass_g"] == pytest.approx(metrics["body_mass_g"]["r2"], abs=1e-3)


def test_served_model_gives_class_probabilities_and_names(penguins_run):
    run, _ = penguins_run
    (pushed,) = serving_versions(run.output_dir)
    model = tf.saved_model.load(str(pushed))
    names = model.signatures["class_names"]()["species"].numpy()
    assert [n.decode() for n in names] == CLASSES
    example = tf.train.Example()
    # Numeric columns are floats and categorical ones text, as configured: the "NA" cells
    # and the whole-number years in the file do not change that.
    for column, value in {"bill_length_mm": 47.5, "bill_depth_mm": 14.8, "flipper_length_mm": 217.0}.items():
        example.features.feature[column].float_list.value.append(value)
    example.features.feature["island"].bytes_list.value.append(b"Biscoe")
    example.features.feature["year"].bytes_list.value.append(b"2008")
    outputs = model.signatures["serving_default"](examples=tf.constant([example.SerializeToString()]))
    probabilities = outputs["species"].numpy()[0]
    assert probabilities.shape == (3,) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert CLASSES[int(np.argmax(probabilities))] == "Gentoo"  # a typical Gentoo on Biscoe
    assert 3000 < float(outputs["body_mass_g"].numpy()[0, 0]) < 7000  # grams, not standard units


def test_serving_check_finds_the_configuration_in_the_output_dir(penguins_run):
    run, _ = penguins_run
    proc = subprocess.run([*command("mtl-serving-check"), "--output-dir", str(run.output_dir)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == ["species", "sex", "body_mass_g"]


def test_predict_scores_the_table_as_serving_default_does(penguins_run, tmp_path):
    run, _ = penguins_run
    with open(REPO / "data" / "penguins.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    source = tmp_path / "penguins.csv"
    with open(source, "w", newline="") as f:  # without the labels
        writer = csv.DictWriter(f, ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "year"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    proc = subprocess.run([*command("mtl-predict"), "--output-dir", str(run.output_dir), "--input", str(source),
                           "--output", str(tmp_path / "p.csv")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "p.csv", newline="") as f:
        predicted = list(csv.DictReader(f))
    assert list(predicted[0]) == ["species", *(f"species_{c}" for c in CLASSES), "sex", "body_mass_g"]
    assert len(predicted) == len(rows) == 344

    examples = []
    for row in rows:
        example = tf.train.Example()
        for column in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm"):
            if row[column] != "NA":
                example.features.feature[column].float_list.value.append(float(row[column]))
        for column in ("island", "year"):
            example.features.feature[column].bytes_list.value.append(row[column].encode())
        examples.append(example.SerializeToString())
    (pushed,) = serving_versions(run.output_dir)
    served = tf.saved_model.load(str(pushed)).signatures["serving_default"](examples=tf.constant(examples))
    probabilities = served["species"].numpy()
    for i, name in enumerate(CLASSES):
        np.testing.assert_allclose([float(p[f"species_{name}"]) for p in predicted], probabilities[:, i], atol=1e-6)
    assert [p["species"] for p in predicted] == [CLASSES[i] for i in np.argmax(probabilities, axis=1)]
    for task in ("sex", "body_mass_g"):
        # 9 significant digits give the served float32 back exactly, grams included.
        np.testing.assert_array_equal(np.float32([float(p[task]) for p in predicted]), served[task].numpy()[:, 0])
