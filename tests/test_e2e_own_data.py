"""End-to-end runs of the real pipeline on the shipped sample CSV and on synthetic binary labels."""

from __future__ import annotations

import pytest
import tensorflow as tf

from conftest import REPO, run_pipeline_cli, serving_versions

pytestmark = pytest.mark.e2e


def _raw_example(**values) -> bytes:
    example = tf.train.Example()
    for key, value in values.items():
        feature = example.features.feature[key]
        if isinstance(value, str):
            feature.bytes_list.value.append(value.encode())
        elif isinstance(value, int):
            feature.int64_list.value.append(value)
        else:
            feature.float_list.value.extend(value if isinstance(value, list) else [value])
    return example.SerializeToString()


def _summary_line(stdout: str, task: str) -> str:
    return next(line for line in stdout.splitlines() if line.strip().startswith(f"{task} ("))


@pytest.mark.slow  # the longest run of `make test`; the penguins test covers mixed task types there
def test_sample_csv_three_mixed_tasks(tmp_path):
    run = run_pipeline_cli(tmp_path / "out", "--config", str(REPO / "data" / "sample.yaml"))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    assert {"CsvExampleGen", "AnomaliesGate", "Transform", "Evaluator", "Pusher"} <= set(run.component_lines())
    assert "Blessed and pushed" in run.stdout
    assert "AUC" in _summary_line(run.stdout, "churned") and "log loss" in _summary_line(run.stdout, "churned")
    assert "R²" in _summary_line(run.stdout, "spend")

    (pushed,) = serving_versions(run.output_dir)
    serve = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    examples = tf.constant([
        # Numeric columns are floats, whatever the CSV held ("?" cells in tenure_months, whole ages).
        _raw_example(age=30.0, visits=9.0, tenure_months=12.0, region="west", device="desktop", plan="pro",
                     balance=120.0),
        # Missing age, tenure and region, a "?" token, and a value never seen in training.
        _raw_example(visits=1.0, device="?", plan="platinum", balance=0.0),
    ])
    outputs = {name: value.numpy() for name, value in serve(examples=examples).items()}
    assert sorted(outputs) == ["churned", "purchased", "spend"]
    assert all(value.shape == (2, 1) for value in outputs.values())
    for task in ("churned", "purchased"):
        assert ((outputs[task] > 0) & (outputs[task] < 1)).all()
    # A frequent, long-tenure buyer on the top plan spends more than a rare visitor.
    assert outputs["spend"][0, 0] > outputs["spend"][1, 0]


@pytest.mark.slow
def test_synthetic_with_a_binary_label(tmp_path):
    run = run_pipeline_cli(tmp_path / "out", "--config", str(REPO / "data" / "synthetic_binary.yaml"),
                           "--train-steps", "2000")
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    assert "y2 (binary): AUC" in run.stdout and "y1 (regression): R²" in run.stdout
    assert "Blessed and pushed" in run.stdout

    (pushed,) = serving_versions(run.output_dir)
    serve = tf.saved_model.load(str(pushed)).signatures["serving_default"]
    outputs = serve(examples=tf.constant([_raw_example(x=[0.1] * 100)]))
    assert sorted(outputs) == ["y1", "y2"]
    assert 0 < float(outputs["y2"][0, 0]) < 1
