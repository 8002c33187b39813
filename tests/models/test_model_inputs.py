"""The model's input spec from the config and vocabularies, and categorical encodings (Keras only)."""

from __future__ import annotations

import numpy as np

from components import synthetic_data
from models.builder import build_model, compile_model
from models.features import ModelInput, model_inputs
from config import build_config

CONFIG = build_config({
    "data": {"source": "csv", "path": "t.csv",
             "features": [{"name": "age"},
                          {"name": "city", "type": "categorical", "embedding_dim": 3},
                          {"name": "device", "type": "categorical", "num_oov_buckets": 2}]},
    "tasks": [{"name": "spend"}, {"name": "bought", "type": "binary"}],
})


def test_vocabulary_sizes_give_index_ranges():
    sizes = {"vocab_city": 10, "vocab_device": 3}
    assert model_inputs(CONFIG, sizes.__getitem__) == {
        "age_xf": ModelInput(size=1),
        "city_xf": ModelInput(num_indices=1 + 10 + 1, embedding_dim=3),  # missing + vocab + OOV
        "device_xf": ModelInput(num_indices=1 + 3 + 2),
    }


def test_categorical_inputs_are_embedded_or_one_hot_and_every_task_has_an_output():
    model = compile_model(build_model(CONFIG, model_inputs(CONFIG, lambda name: 4)), CONFIG)
    layer_names = {layer.name for layer in model.layers}
    assert {"city_xf_embedding", "device_xf_one_hot"} <= layer_names
    batch = {"age_xf": np.zeros((8, 1), np.float32),
             "city_xf": np.arange(8).reshape(8, 1) % 6,
             "device_xf": np.arange(8).reshape(8, 1) % 7}
    labels = {"spend": np.ones((8, 1), np.float32), "bought": (np.arange(8) % 2).reshape(8, 1).astype(np.float32)}
    loss = model.train_on_batch(batch, labels, return_dict=True)["loss"]
    assert np.isfinite(loss)
    outputs = model(batch, training=False)
    assert sorted(outputs) == ["bought", "spend"]
    assert ((outputs["bought"].numpy() > 0) & (outputs["bought"].numpy() < 1)).all()


def test_synthetic_binary_labels_split_at_the_expected_value():
    weights = synthetic_data.draw_task_weights(7, 100, 0.3, 0.5, 5)
    data = synthetic_data.generate(20_000, 100, 0.3, 0.5, 5, seed=7)
    expected = synthetic_data.expected_labels(weights)
    np.testing.assert_allclose([data.y1.mean(), data.y2.mean()], expected, atol=0.02)
    binary = synthetic_data.binarize(data.y2, expected[1])
    assert set(np.unique(binary)) == {0.0, 1.0} and 0.3 < binary.mean() < 0.7
