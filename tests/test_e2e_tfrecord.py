"""End-to-end run on TFRecords of tf.Example with existing splits (ImportExampleGen)."""

from __future__ import annotations

import shutil

import pytest
import tensorflow as tf
import yaml

from conftest import run_pipeline_cli, serving_versions
from pipeline.results import mlmd as run_records
from config import build_config, load_config_file
from pipeline.results.serving_check import check_serving

pytestmark = pytest.mark.e2e


def test_tfrecord_input_with_existing_splits(default_run, tmp_path):
    # The default run's examples, as a user would bring them: gzipped TFRecords per split.
    store = run_records.open_store(default_run.output_dir / "metadata.sqlite")
    examples_uri = run_records.latest_node_run(store, build_config().pipeline_name,
                                               "SyntheticExampleGen").output("examples").uri
    for split in ("train", "eval"):
        (tmp_path / "records" / split).mkdir(parents=True)
        for path in tf.io.gfile.glob(f"{examples_uri}/Split-{split}/*.gz"):
            shutil.copy(path, tmp_path / "records" / split)
    config_path = tmp_path / "tfrecord.yaml"
    config_path.write_text(yaml.safe_dump({
        "pipeline_name": "tfrecord-input",
        "data": {"source": "tfrecord", "split": {"train": "records/train/*.gz", "eval": "records/eval/*.gz"},
                 "features": [{"name": "x", "size": 100}]},
        "tasks": [{"name": "y1"}, {"name": "y2"}],
        "evaluation": {"slice_features": [{"name": "segment"}], "slices": [["segment"]]},
    }))

    run = run_pipeline_cli(tmp_path / "out", "--config", str(config_path))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    assert run.component_lines()["ImportExampleGen"] == "ran"
    assert "Blessed and pushed" in run.stdout and len(serving_versions(run.output_dir)) == 1
    config = build_config(load_config_file(config_path), base_dir=config_path.parent)
    scores = check_serving(run.output_dir, config)
    assert min(scores.values()) >= 0.5, scores
