"""Uncertainty weighting: learned per-task log variances (no TFX)."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.builder import build_model, compile_model
from models.task_weighting import LogTaskWeights, learned_weights, save_learned_weights
from pipeline.results import task_weights
from config import build_config


def _data(n=2000):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    clean = x[:, 0] + 0.05 * rng.normal(size=n)  # learnable, little noise
    noisy = 3.0 * rng.normal(size=n)  # pure noise of variance 9: nothing to learn
    return x, {"y1": clean.astype(np.float32), "y2": noisy.astype(np.float32)}


def test_a_noisy_task_is_weighted_down_to_its_error_variance(tmp_path):
    config = build_config({"training": {"task_weighting": "uncertainty", "learning_rate": 0.02}})
    x, y = _data()
    model = compile_model(build_model(config, {"x_xf": 4}), config)
    model.fit({"x_xf": x}, y, batch_size=200, epochs=40, verbose=0,
              callbacks=[LogTaskWeights(config, str(tmp_path), every=5)])
    learned = learned_weights(model, config)
    assert learned["y2"]["weight"] < 0.2 * learned["y1"]["weight"]
    # The optimum of 0.5 exp(-s) MSE + 0.5 s is s = log MSE: the learned variance is the task's error.
    predicted = model.predict({"x_xf": x}, verbose=0)
    mse = {t: float(np.mean((predicted[t].ravel() - y[t]) ** 2)) for t in ("y1", "y2")}
    assert learned["y2"]["log_variance"] == pytest.approx(math.log(mse["y2"]), abs=0.15)
    assert learned["y2"]["weight"] == pytest.approx(0.5 * math.exp(-learned["y2"]["log_variance"]))
    assert list((tmp_path / "task_weights").glob("events.out.tfevents.*"))  # TensorBoard scalars


def test_static_weighting_learns_nothing_and_export_compile_is_plain():
    config = build_config({"training": {"task_weighting": "uncertainty"}})
    model = compile_model(build_model(config, {"x_xf": 4}), config)
    assert any(w is model.task_log_variances.log_variance for w in model.trainable_weights)
    compile_model(model, config, project_metrics=False)
    assert model.loss == {"y1": "mse", "y2": "mse"}
    static = build_config()
    plain = compile_model(build_model(static, {"x_xf": 4}), static)
    assert getattr(plain, "task_log_variances", None) is None


def test_saved_weights_reach_the_run_summary(tmp_path):
    config = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}],
                           "training": {"task_weighting": "uncertainty"}})
    model = compile_model(build_model(config, {"x_xf": 4}), config)
    model.task_log_variances.log_variance.assign([math.log(4.0), 0.0])
    saved = save_learned_weights(model, config, str(tmp_path))
    assert task_weights.load(tmp_path) == saved
    assert saved["y1"]["weight"] == pytest.approx(0.125) and saved["y2"]["weight"] == pytest.approx(1.0)
    assert task_weights.summary_line(saved) == (
        "Learned task weights (uncertainty): y1 0.125 (log variance +1.39), y2 1 (log variance +0.00)")
    assert task_weights.load(tmp_path / "none") is None


def test_unknown_weighting_is_refused():
    from config import ConfigError
    with pytest.raises(ConfigError, match="training.task_weighting"):
        build_config({"training": {"task_weighting": "gradnorm"}})
