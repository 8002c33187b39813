"""``mtl-predict`` on real pushed models: its numbers are serving_default's, a bad row is one line.

The scores are compared with ``serving_default`` called here on tf.Examples
built independently from the same rows (floats for numeric columns, text for
categorical ones, nothing for an empty cell or a missing-value token).
"""

from __future__ import annotations

import csv
import gzip
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, command, serving_versions

pytestmark = pytest.mark.e2e

SAMPLE_INPUTS = {"age": True, "visits": True, "tenure_months": True,
                 "region": False, "device": False, "plan": False, "balance": True}  # column -> numeric
SAMPLE_LABELS = ("spend", "purchased", "churned")


def mtl_predict(output_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([*command("mtl-predict"), "--output-dir", str(output_dir), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one line of stderr, an ``error:`` line."""
    (line,) = proc.stderr.strip().splitlines()
    return line


def _example(row: dict, inputs: dict, missing=("?",)) -> bytes:
    example = tf.train.Example()
    for column, numeric in inputs.items():
        text = row.get(column, "").strip()
        if text == "" or text in missing:
            continue
        feature = example.features.feature[column]
        if numeric:
            feature.float_list.value.append(float(text))
        else:
            feature.bytes_list.value.append(text.encode())
    return example.SerializeToString()


def _served(model_dir, examples: list[bytes]) -> dict:
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return {k: v.numpy() for k, v in serve(examples=tf.constant(examples)).items()}


def _csv_without(path, columns, target):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kept = [c for c in rows[0] if c not in columns]
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_sample_csv_scores_equal_serving_default(sample_run, tmp_path):
    rows = _csv_without(REPO / "data" / "sample.csv", SAMPLE_LABELS, tmp_path / "new.csv")
    proc = mtl_predict(sample_run.output_dir, "--input", tmp_path / "new.csv", "--output", tmp_path / "p.csv",
                       "--keep", "region")
    assert proc.returncode == 0, proc.stderr
    assert "Scored 2,000 rows" in proc.stdout
    predicted = _read_csv(tmp_path / "p.csv")
    assert list(predicted[0]) == ["region", "spend", "purchased", "churned"]
    assert [p["region"] for p in predicted] == [r["region"] for r in rows]  # one row per row, in order
    (model_dir,) = serving_versions(sample_run.output_dir)
    served = _served(model_dir, [_example(r, SAMPLE_INPUTS) for r in rows])
    for task in SAMPLE_LABELS:
        np.testing.assert_allclose([float(p[task]) for p in predicted], served[task][:, 0], rtol=0, atol=1e-6)


def test_a_bad_row_is_one_line_and_no_output(sample_run, tmp_path):
    lines = (REPO / "data" / "sample.csv").read_text().splitlines()
    for cell, reason in (("many", "is not a number"), ("nan", "NaN or an infinity"), ("-inf", "NaN or an infinity")):
        bad = lines[:]
        cells = bad[1500].split(",")
        cells[1] = cell  # visits, line 1501
        bad[1500] = ",".join(cells)
        source = tmp_path / "bad.csv"
        source.write_text("\n".join(bad) + "\n")
        target = tmp_path / "out" / "p.csv"
        proc = mtl_predict(sample_run.output_dir, "--input", source, "--output", target)
        assert proc.returncode == 2
        line = error_line(proc)
        assert line.startswith(f"error: {source} line 1501 column 'visits': {cell!r} ") and reason in line, line
        assert not target.exists() and list(target.parent.iterdir()) == []  # nothing, not even a part


def test_synthetic_tfrecord_input_and_both_outputs(default_run, tmp_path):
    """Synthetic model, TFRecord input (the eval split ExampleGen wrote, gzipped), both output kinds."""
    (model_dir,) = serving_versions(default_run.output_dir)[:1]
    examples_dir = next(default_run.output_dir.glob("pipeline_root/SyntheticExampleGen/examples/*/Split-eval"))
    source = sorted(examples_dir.glob("*.gz"))[0]
    records = [r.numpy() for r in tf.data.TFRecordDataset(str(source), compression_type="GZIP")]
    served = _served(model_dir, records)
    proc = mtl_predict(default_run.output_dir, "--input", source, "--output", tmp_path / "p.csv",
                       "--model", model_dir.name)
    assert proc.returncode == 0, proc.stderr
    predicted = _read_csv(tmp_path / "p.csv")
    assert len(predicted) == len(records)
    for task in ("y1", "y2"):
        np.testing.assert_allclose([float(p[task]) for p in predicted], served[task][:, 0], rtol=0, atol=1e-6)
    proc = mtl_predict(default_run.output_dir, "--input", source, "--output", tmp_path / "p.tfrecord",
                       "--model", model_dir.name)
    assert proc.returncode == 0, proc.stderr
    out = [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(tmp_path / "p.tfrecord"))]
    assert [e.features.feature["y1"].float_list.value[0] for e in out] == pytest.approx(
        served["y1"][:, 0].tolist(), abs=1e-6)


def test_a_nan_in_a_tfrecord_names_the_record_and_feature(default_run, tmp_path):
    example = tf.train.Example()
    example.features.feature["x"].float_list.value.extend([0.1] * 100)
    good = example.SerializeToString()
    example.features.feature["x"].float_list.value[7] = np.nan
    source = tmp_path / "rows.tfrecord"
    with tf.io.TFRecordWriter(str(source)) as writer:
        for record in [good, good, example.SerializeToString(), good]:
            writer.write(record)
    proc = mtl_predict(default_run.output_dir, "--input", source, "--output", tmp_path / "p.csv")
    assert proc.returncode == 2
    line = error_line(proc)
    assert line.startswith(f"error: {source} record 3: column 'x' holds a NaN or an infinity"), line
    assert not (tmp_path / "p.csv").exists()


def test_missing_input_column_and_unknown_model_are_usage_errors(default_run, sample_run, tmp_path):
    source = tmp_path / "rows.csv"
    source.write_text("age,visits\n30,2\n")
    proc = mtl_predict(sample_run.output_dir, "--input", source, "--output", tmp_path / "p.csv")
    assert proc.returncode == 2 and "no column 'tenure_months', 'balance', 'region', 'device', 'plan'" in proc.stderr
    proc = mtl_predict(default_run.output_dir, "--input", source, "--output", tmp_path / "p.csv", "--model", "7")
    assert proc.returncode == 2 and "--model 7: no such version" in proc.stderr


def test_gzipped_csv_with_bom_reads_as_the_pipeline_reads(sample_run, tmp_path):
    text = ("\ufeffage, visits,tenure_months,region,device,plan,balance\n25,5,?,west,tablet,basic,0.00\n"
            ",3,7.6,north,,pro,35.60\n")
    with gzip.open(tmp_path / "rows.csv.gz", "wt", encoding="utf-8") as f:
        f.write(text)
    proc = mtl_predict(sample_run.output_dir, "--input", tmp_path / "rows.csv.gz", "--output", tmp_path / "p.csv")
    assert proc.returncode == 0, proc.stderr
    predicted = _read_csv(tmp_path / "p.csv")
    (model_dir,) = serving_versions(sample_run.output_dir)
    rows = [dict(zip(SAMPLE_INPUTS, line.split(","))) for line in text.splitlines()[1:]]
    served = _served(model_dir, [_example(r, SAMPLE_INPUTS) for r in rows])
    np.testing.assert_allclose([float(p["spend"]) for p in predicted], served["spend"][:, 0], atol=1e-6)


def test_serving_check_finds_the_sample_pipeline_without_its_config(sample_run):
    # The output dir holds "sample-three-tasks", not the default pipeline: found from ML Metadata.
    proc = subprocess.run([*command("mtl-serving-check"), "--output-dir", str(sample_run.output_dir)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == list(SAMPLE_LABELS)
