"""One pipeline on every orchestrator: the local run and the compiled Kubeflow spec decide and transform alike.

An own-data configuration whose ``auto`` transform is ``log`` for one column
(``balance`` in data/sample.csv) runs through the local runner, then its
compiled KFP spec runs through the launcher, each step in its own process,
with the same serving folder. Both must make the same decisions, write the same
examples, example for example, whose transform graphs transform them alike, and
run the drift check (the
launcher's, against the statistics the local run stored with its pushed model).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import yaml

from conftest import REPO, run_pipeline_cli
from config import build_config, load_config_file
from pipeline.kubeflow.dry_run import LocalTarget
from pipeline.kubeflow.launcher import Launcher, fail_on_step_error, load_spec
from pipeline.results import mlmd

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _small_sample(tmp_path: Path) -> Path:
    """data/sample.yaml on a short budget whose gates any model passes (the parity, not the model, is tested)."""
    raw = load_config_file(REPO / "data" / "sample.yaml")
    raw["data"]["path"] = str(REPO / "data" / "sample.csv")
    raw["training"] = {"train_steps": 20, "eval_steps": 5, "batch_size": 64}
    raw["evaluation"]["confidence_intervals"] = "none"
    for task in raw["tasks"]:
        task["gate"] = {"min_r2": -1000} if task.get("type", "regression") == "regression" else {"min_auc": 0.0}
    path = tmp_path / "sample-small.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _examples(uri: str) -> dict[str, list[bytes]]:
    """Split -> its examples, each serialized deterministically, in file order."""
    found = {}
    for split_dir in sorted(Path(uri).glob("Split-*")):
        records = []
        for f in sorted(split_dir.iterdir()):
            for record in tf.data.TFRecordDataset(str(f), compression_type="GZIP"):
                records.append(tf.train.Example.FromString(record.numpy()).SerializeToString(deterministic=True))
        found[split_dir.name] = records
    return found


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity")
    config_path = _small_sample(tmp)
    local = run_pipeline_cli(tmp / "local", "--config", str(config_path), timeout=1800)
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
    config = build_config(load_config_file(config_path), base_dir=str(tmp))

    from pipeline.kubeflow.compiler import compile_pipeline

    root = tmp / "kfp"
    root.mkdir()
    # The same serving folder: the launcher's drift check compares with the local run's pushed model.
    job = compile_pipeline(config, LocalTarget(pipeline_root=str(root), serving_dir=str(tmp / "local" / "serving")))
    spec = root / "spec.json"
    spec.write_text(json.dumps(job))
    kfp = Launcher(load_spec(spec), root, "run-1").run()
    fail_on_step_error(kfp)
    return local, kfp, config


def test_both_decide_log_for_the_heavy_tailed_column(both):
    local, kfp, _ = both
    assert "  balance: log (non-negative, 59% zeros" in local.stdout  # of the train split, which DataChoices reads
    local_choices = json.loads(Path(_local_output(local, "DataChoices", "choices")).read_text())
    kfp_choices = json.loads(Path(kfp.output("DataChoices", "choices").uri).read_text())
    assert kfp_choices["transforms"] == local_choices["transforms"]
    assert ["balance", "log"] == kfp_choices["transforms"][3][:2]
    recorded = next((local.output_dir / "logs").glob("run-*.config.yaml")).read_text()
    assert "name: balance" in recorded and "transform: log" in recorded


def _transformed(graph_uri: str, examples_uri: str) -> dict[str, dict[str, np.ndarray]]:
    """Split -> each transformed feature of what training reads: the split's raw examples through the graph."""
    output = tft.TFTransformOutput(graph_uri)
    found = {}
    for split in ("train", "eval"):
        files = sorted(tf.io.gfile.glob(f"{examples_uri}/Split-{split}/*"))
        records = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(1_000_000).get_single_element()
        transformed = output.transform_raw_features(tf.io.parse_example(records, output.raw_feature_spec()))
        found[split] = {name: (tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value).numpy()
                        for name, value in transformed.items()}
    return found


def test_the_examples_and_their_transformed_values_are_identical(both):
    local, kfp, _ = both
    local_examples = _local_output(local, "CsvExampleGen", "examples")
    written = _examples(local_examples)
    assert set(written) == {"Split-train", "Split-eval", "Split-test"}
    assert _examples(kfp.output("CsvExampleGen", "examples").uri) == written
    local_values = _transformed(_local_output(local, "Transform", "transform_graph"), local_examples)
    kfp_values = _transformed(kfp.output("Transform", "transform_graph").uri, local_examples)
    for split, values in local_values.items():
        assert len(values["balance_xf"]) == len(written[f"Split-{split}"])
        assert kfp_values[split].keys() == values.keys()
        for name, column in values.items():
            np.testing.assert_array_equal(kfp_values[split][name], column, err_msg=f"{split} {name}")


def test_the_drift_check_runs_in_both(both):
    local, kfp, _ = both
    assert "DriftCheck" in local.stdout
    step = kfp.steps["DriftCheck"]
    assert step.kind == "container" and step.returncode == 0
    log = step.log.read_text()
    # The local run pushed a model with its statistics; the launcher's check compared with them.
    assert "DriftCheck: train split, balance: jensen_shannon_divergence 0.0000" in log
    assert "assets.extra/statistics" in log


def _local_output(run, node: str, key: str) -> str:
    store = mlmd.open_store(run.output_dir / "metadata.sqlite")
    return mlmd.latest_node_run(store, "sample-three-tasks", node).output(key).uri
