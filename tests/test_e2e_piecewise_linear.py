"""Piecewise-linear encoding through the real pipeline: Transform writes positions among the training
split's quantile edges, the Trainer expands them, and the pushed model serves raw rows (both
signatures) exactly as the Keras model answers on Transform's output.

The Palmer penguins: numeric columns with missing cells (the encoding's sparse path and its
median for a missing value), a categorical column beside them, three task types.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from conftest import REPO, run_config_cli, serving_versions
from config import build_config, load_config_file
from config.names import internal_name
from models import features, signatures
from models.numeric_embeddings import PiecewiseLinearEncoding
from pipeline.results import mlmd
from pipeline.results.decided_config import decided

pytestmark = pytest.mark.e2e

BINS = 16
NUMERIC = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = load_config_file(REPO / "data" / "penguins.yaml")
    raw["data"]["path"] = str(REPO / "data" / "penguins.csv")
    raw["model"] = {"numeric_embedding": "piecewise_linear", "piecewise_linear_bins": BINS}
    raw["training"] = {"train_steps": 400}
    raw["evaluation"]["confidence_intervals"] = "none"
    folder = tmp_path_factory.mktemp("piecewise_linear")
    result = run_config_cli(folder, raw, "penguins")
    assert "Blessed and pushed:" in result.stdout, result.stdout
    assert f"  then piecewise-linear encoded over {BINS} quantile bins" in result.stdout
    store = mlmd.open_store(result.output_dir / "metadata.sqlite")
    config = decided(result.output_dir / "metadata.sqlite", "penguins")[0]
    uris = {node: mlmd.latest_node_run(store, "penguins", node) for node in ("CsvExampleGen", "Transform")}
    return result, config, uris


def _records(uri: str, split: str) -> list[bytes]:
    files = tf.io.gfile.glob(f"{uri}/Split-{split}/*")
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def test_transform_writes_positions_among_the_training_splits_edges(run):
    _, _, nodes = run
    transform_output = tft.TFTransformOutput(nodes["Transform"].output("transform_graph").uri)
    raw = tf.io.parse_example(_records(nodes["CsvExampleGen"].output("examples").uri, "train"),
                              transform_output.raw_feature_spec())
    transformed = transform_output.transform_raw_features(raw)  # what the Trainer reads
    for column in NUMERIC:
        p = np.reshape(transformed[f"{column}_xf"].numpy(), [-1])
        # The training split's minimum is at 0 and its maximum at BINS; nothing outside.
        assert p.min() == 0.0 and p.max() == pytest.approx(BINS, abs=1e-5), column
        assert len(np.unique(p.round(4))) > 40, column  # positions, not bucket indices


def test_served_outputs_equal_the_keras_models_on_transforms_output(run):
    result, config, nodes = run
    (model_dir,) = serving_versions(result.output_dir)
    loaded = tf.saved_model.load(str(model_dir))
    keras_model = tf_keras.models.load_model(
        str(model_dir), compile=False, custom_objects={"PiecewiseLinearEncoding": PiecewiseLinearEncoding})
    assert {f"{internal_name(c)}_xf_piecewise_linear" for c in NUMERIC} <= {layer.name for layer in keras_model.layers}

    serialized = _records(nodes["CsvExampleGen"].output("examples").uri, "test")
    transform_output = tft.TFTransformOutput(nodes["Transform"].output("transform_graph").uri)
    raw_spec = transform_output.raw_feature_spec()
    parsed = tf.io.parse_example(serialized, {f.name: raw_spec[f.name] for f in config.features})
    transformed = transform_output.transform_raw_features(parsed)
    expected = keras_model({features.transformed_name(f.name): transformed[features.transformed_name(f.name)]
                            for f in config.features}, training=False)
    scales = signatures.label_scales(transform_output, config)
    for task, (mean, std) in scales.items():
        expected[task] = expected[task] * std + mean
    expected["sex"] = tf.clip_by_value(expected["sex"], 1e-7, 1 - 1e-7)

    served = loaded.signatures["serving_default"](examples=tf.constant(serialized))
    # The same rows as JSON instances: NaN for a missing number.
    examples = [tf.train.Example.FromString(r) for r in serialized]
    instances = {}
    for feature in config.features:
        values = [e.features.feature[feature.name] for e in examples]
        if feature.type == "numeric":
            instances[internal_name(feature.name)] = tf.constant(
                [v.float_list.value[0] if v.float_list.value else
                 (float(v.int64_list.value[0]) if v.int64_list.value else np.nan) for v in values], tf.float32)
        else:
            instances[internal_name(feature.name)] = tf.constant(
                [(v.bytes_list.value[0] if v.bytes_list.value else str(v.int64_list.value[0]).encode())
                 if (v.bytes_list.value or v.int64_list.value) else b"" for v in values])
    served_instances = loaded.signatures["predict_instances"](**instances)
    for task in config.task_names:
        np.testing.assert_allclose(served[task].numpy(), expected[task].numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(served_instances[task].numpy(), served[task].numpy(), rtol=1e-6, atol=1e-6)
