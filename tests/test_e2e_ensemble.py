"""A TabM-style ensemble (``model.ensemble_size: 4``) through the real pipeline: trained, gated,
pushed; the served outputs are the Keras network's (the members' mean), with today's names and shapes."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from conftest import run_config_cli, serving_versions
from models import features, warm_start
from models.builder import build_model
from models.signatures import label_scales
from pipeline.results import gate_weights, mlmd
from pipeline.results.serving_check import check_serving
from config import build_config

pytestmark = [pytest.mark.e2e]

MEMBERS = 4
CONFIG = {
    "model": {"architecture": "mmoe", "ensemble_size": MEMBERS},
    "training": {"train_steps": 800},
    "data": {"num_examples": 2000, "correlation": 0.5, "seed": 7, "binary_labels": ["y2"]},
    "tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}],
    "evaluation": {"confidence_intervals": "none"},
}


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    return run_config_cli(folder, CONFIG, "ensemble")


def _examples(rows=5):
    rng = np.random.default_rng(11)
    serialized = []
    for _ in range(rows):
        example = tf.train.Example()
        example.features.feature["x"].float_list.value.extend(rng.normal(size=100))
        serialized.append(example.SerializeToString())
    return tf.constant(serialized)


def test_the_served_outputs_are_the_keras_ensembles_mean(ensemble_run):
    assert "Blessed and pushed:" in ensemble_run.stdout
    config = build_config(CONFIG)
    store = mlmd.open_store(ensemble_run.output_dir / "metadata.sqlite")
    trainer = mlmd.latest_node_run(store, config.pipeline_name, "Trainer")
    transform = mlmd.latest_node_run(store, config.pipeline_name, "Transform")
    tft_output = tft.TFTransformOutput(transform.output("transform_graph").uri)

    # The Keras network rebuilt from the configuration, with the trained weights (saved beside
    # the SavedModel by name): k members' input scales and heads.
    weights_file = f"{trainer.output('model').uri}/{warm_start.WEIGHTS_FILE}"
    arrays, _ = warm_start.load(weights_file)
    assert arrays["ensemble_copies/scale"].shape == (100, MEMBERS)
    assert arrays["y1_heads/kernel"].shape[0] == arrays["y2_heads/kernel"].shape[0] == MEMBERS
    network = build_model(config, features.model_inputs(config, tft_output.vocabulary_size_by_name))
    decision = warm_start.start_from(network, weights_file, "mmoe", {})
    assert decision.reason == "every layer matched"

    examples = _examples()
    parsed = tf.io.parse_example(examples, {"x": tft_output.raw_feature_spec()["x"]})
    transformed = tft_output.transform_features_layer()(parsed)
    keras = network({"x_xf": transformed["x_xf"]}, training=False)
    mean, std = label_scales(tft_output, config)["y1"]

    (version,) = serving_versions(ensemble_run.output_dir)
    loaded = tf.saved_model.load(str(version))
    served = loaded.signatures["serving_default"](examples=examples)
    instances = loaded.signatures["predict_instances"](x=parsed["x"])
    for outputs in (served, instances):
        assert set(outputs) == {"y1", "y2"} and all(v.shape == (5, 1) for v in outputs.values())
        np.testing.assert_allclose(outputs["y1"].numpy(), keras["y1"].numpy() * std + mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(outputs["y2"].numpy(), keras["y2"].numpy(), rtol=1e-4, atol=1e-6)
    assert np.ptp(served["y1"].numpy()) > 0  # not a constant

    scores = check_serving(ensemble_run.output_dir, config)
    assert scores["y1"] >= 0.5 and scores["y2"] >= 0.7, scores  # R², AUC


def test_an_ensembles_gate_weights_are_recorded(ensemble_run):
    config = build_config(CONFIG)
    store = mlmd.open_store(ensemble_run.output_dir / "metadata.sqlite")
    evaluator = mlmd.latest_node_run(store, config.pipeline_name, "Evaluator")
    (group,) = gate_weights.load(mlmd.evaluated_model_run_uri(store, evaluator)).groups
    for row in group.tasks.values():
        assert sum(row) == pytest.approx(1.0, abs=1e-5) and min(row) >= 0
    assert "Gate weights on the eval split (mmoe" in ensemble_run.stdout
