"""Warm start's weight transfer, Keras in and Keras out (no TFX)."""

import json

import numpy as np
import pytest
import tf_keras

from models import warm_start
from models.builder import build_model
from models.features import ModelInput
from config import build_config

CONFIG = build_config({"model": {"bottom_units": [16, 8], "task_units": [4]}})


def _inputs(vocabulary, embedding_dim=3, oov=1):
    return {"x_xf": ModelInput(size=4),
            "c_xf": ModelInput(num_indices=1 + len(vocabulary) + oov, embedding_dim=embedding_dim)}


def _model(vocabulary, seed, config=CONFIG, embedding_dim=3):
    tf_keras.utils.set_random_seed(seed)
    return build_model(config, _inputs(vocabulary, embedding_dim))


def _batch(num_indices, rows=64, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_xf": rng.normal(size=(rows, 4)).astype("float32"),
            "c_xf": rng.integers(0, num_indices, size=(rows, 1))}


def _saved(tmp_path, model, vocabulary, architecture="shared_bottom"):
    path = str(tmp_path / warm_start.WEIGHTS_FILE)
    warm_start.save(model, path, architecture, {"c_xf": (vocabulary, 1)})
    return path


def test_same_architecture_matches_every_layer_and_predicts_the_same(tmp_path):
    vocabulary = [b"a", b"b", b"c"]
    old = _model(vocabulary, seed=1)
    path = _saved(tmp_path, old, vocabulary)
    new = _model(vocabulary, seed=2)
    batch = _batch(5)
    assert not np.allclose(old(batch)["y1"], new(batch)["y1"])  # different initialisation

    decision = warm_start.start_from(new, path, "shared_bottom", {"c_xf": (vocabulary, 1)}, "models/1")

    assert (decision.warm_start, decision.reason, decision.base_model) == ("from", "every layer matched", "models/1")
    assert decision.matched == decision.total == len([l for l in new.layers if l.weights])
    for task in ("y1", "y2"):
        np.testing.assert_allclose(old(batch)[task], new(batch)[task], rtol=1e-6)
    assert json.loads(decision.to_json())["warm_start"] == "from"


@pytest.mark.parametrize("embedding_dim", [3, None])  # an embedding, and one-hot into the first Dense layer
def test_a_grown_vocabulary_keeps_each_tokens_rows_and_the_new_token_its_fresh_ones(tmp_path, embedding_dim):
    old_vocab = [b"a", b"b", b"c"]
    new_vocab = [b"c", b"d", b"a", b"b"]  # by frequency: c moved up, d is new
    old = _model(old_vocab, seed=1, embedding_dim=embedding_dim)
    path = _saved(tmp_path, old, old_vocab)
    new = _model(new_vocab, seed=2, embedding_dim=embedding_dim)
    layer = "c_xf_embedding" if embedding_dim else "bottom_dense_0"
    fresh = new.get_layer(layer).weights[0].numpy()
    # Rows of the kernel: with one-hot, the input block of c_xf comes first (inputs sorted by name).
    old_rows = old.get_layer(layer).weights[0].numpy()

    decision = warm_start.start_from(new, path, "shared_bottom", {"c_xf": (new_vocab, 1)})

    assert decision.reason == "every layer matched"
    rows = new.get_layer(layer).weights[0].numpy()
    # index: 0 missing, 1.. vocabulary, then the OOV bucket
    for new_index, old_index in {0: 0, 1: 3, 3: 1, 4: 2, 5: 4}.items():
        np.testing.assert_array_equal(rows[new_index], old_rows[old_index])
    np.testing.assert_array_equal(rows[2], fresh[2])  # d: never seen, fresh
    if embedding_dim is None:  # the numeric block after it moved by one row
        np.testing.assert_array_equal(rows[6:], old_rows[5:])
    # Same token, same prediction: an example of token b gives what it gave before.
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(old({"x_xf": x, "c_xf": np.array([[2]])})["y1"],
                               new({"x_xf": x, "c_xf": np.array([[4]])})["y1"], rtol=1e-6)


def test_another_architecture_trains_from_scratch(tmp_path):
    vocabulary = [b"a"]
    path = _saved(tmp_path, _model(vocabulary, seed=1), vocabulary)
    mmoe = build_config({"model": {"architecture": "mmoe"}})
    tf_keras.utils.set_random_seed(2)
    new = build_model(mmoe, _inputs(vocabulary))
    before = [w.numpy() for w in new.weights]

    decision = warm_start.start_from(new, path, "mmoe", {"c_xf": (vocabulary, 1)})

    assert (decision.warm_start, decision.matched) == ("scratch", 0)
    assert decision.reason == "the architecture changed (shared_bottom -> mmoe)"
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, new.weights))


def test_other_inputs_or_other_sizes(tmp_path):
    vocabulary = [b"a"]
    path = _saved(tmp_path, _model(vocabulary, seed=1), vocabulary)
    tf_keras.utils.set_random_seed(2)
    other_inputs = build_model(CONFIG, {"x_xf": ModelInput(size=4)})
    decision = warm_start.start_from(other_inputs, path, "shared_bottom", {})
    assert decision.warm_start == "scratch" and decision.reason.startswith("the inputs changed")

    wider = build_model(build_config({"model": {"bottom_units": [16, 8], "task_units": [6]}}),
                        _inputs(vocabulary))
    decision = warm_start.start_from(wider, path, "shared_bottom", {"c_xf": (vocabulary, 1)})
    # The bottom fits; each task's tower (4 -> 6 units) and its head do not.
    assert decision.warm_start == "from"
    assert decision.reason == f"{decision.total - 4} of {decision.total} layers matched"


def test_a_base_model_without_weights_file(tmp_path):
    decision = warm_start.start_from(_model([b"a"], seed=1), str(tmp_path / "none.npz"), "shared_bottom", {})
    assert decision.warm_start == "scratch" and "has no keras_weights.npz" in decision.reason


def test_an_ensembles_input_scales_and_first_kernel_follow_each_token(tmp_path):
    # One-hot into the ensemble's copies: the scales' rows and the first Dense kernel's move by token.
    ensemble = build_config({"model": {"bottom_units": [16, 8], "task_units": [4], "ensemble_size": 3}})
    old_vocab, new_vocab = [b"a", b"b", b"c"], [b"c", b"d", b"a", b"b"]
    old = _model(old_vocab, seed=1, config=ensemble, embedding_dim=None)
    path = _saved(tmp_path, old, old_vocab)
    new = _model(new_vocab, seed=2, config=ensemble, embedding_dim=None)

    decision = warm_start.start_from(new, path, "shared_bottom", {"c_xf": (new_vocab, 1)})

    assert decision.reason == "every layer matched"
    for layer in ("ensemble_copies", "bottom_dense_0"):
        rows, old_rows = new.get_layer(layer).weights[0].numpy(), old.get_layer(layer).weights[0].numpy()
        for new_index, old_index in {0: 0, 1: 3, 3: 1, 4: 2, 5: 4}.items():
            np.testing.assert_array_equal(rows[new_index], old_rows[old_index])
        np.testing.assert_array_equal(rows[6:], old_rows[5:])
    x = np.ones((1, 4), "float32")
    np.testing.assert_allclose(old({"x_xf": x, "c_xf": np.array([[2]])})["y1"],
                               new({"x_xf": x, "c_xf": np.array([[4]])})["y1"], rtol=1e-6)


def test_a_single_model_warm_starts_an_ensembles_shared_layers(tmp_path):
    vocabulary = [b"a", b"b"]
    old = _model(vocabulary, seed=1)
    path = _saved(tmp_path, old, vocabulary)
    ensemble = build_config({"model": {"bottom_units": [16, 8], "task_units": [4], "ensemble_size": 4}})
    new = _model(vocabulary, seed=2, config=ensemble)

    decision = warm_start.start_from(new, path, "shared_bottom", {"c_xf": (vocabulary, 1)})

    # Everything but the input scales and the two tasks' member heads, which the single model has not.
    assert decision.reason == f"{decision.total - 3} of {decision.total} layers matched"
    np.testing.assert_array_equal(new.get_layer("bottom_out").get_weights()[0],
                                  old.get_layer("bottom_out").get_weights()[0])
