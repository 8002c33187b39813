"""The compiled model's behaviour, seeded: the weighted loss, and learning held-out synthetic data."""

import numpy as np
import pytest
import tf_keras

from components import synthetic_data
from models.builder import build_model, compile_model
from config import build_config


def _r2(y, predicted):
    return 1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2)


def test_total_loss_is_the_weighted_sum_of_the_task_losses():
    tf_keras.utils.set_random_seed(3)
    config = build_config({"tasks": [{"name": "y1", "loss_weight": 0.3},
                                     {"name": "y2", "type": "binary", "loss_weight": 2.0}]})
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 8)).astype("float32")
    y1 = rng.normal(size=(256, 1)).astype("float32")
    y2 = (rng.random(size=(256, 1)) > 0.5).astype("float32")
    model = compile_model(build_model(config, {"x_xf": 8}), config)
    result = model.evaluate({"x_xf": x}, {"y1": y1, "y2": y2}, batch_size=256, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(0.3 * result["y1_loss"] + 2.0 * result["y2_loss"], rel=1e-5)
    # Each task's loss is its task type's loss, computed here independently.
    predicted = model.predict({"x_xf": x}, batch_size=256, verbose=0)
    assert result["y1_loss"] == pytest.approx(float(np.mean((y1 - predicted["y1"]) ** 2)), rel=1e-4)
    p = np.clip(predicted["y2"], 1e-7, 1 - 1e-7)
    log_loss = float(np.mean(-(y2 * np.log(p) + (1 - y2) * np.log(1 - p))))
    assert result["y2_loss"] == pytest.approx(log_loss, rel=1e-4)


def test_trained_model_fits_held_out_synthetic_data():
    tf_keras.utils.set_random_seed(7)
    config = build_config({"model": {"bottom_units": [32, 16], "task_units": [10, 5]}})
    data = synthetic_data.generate(3000, seed=7, p=0.5)
    train, held_out = slice(0, 2400), slice(2400, 3000)
    mean, std = data.inputs[train].mean(axis=0), data.inputs[train].std(axis=0)
    scaled = (data.inputs - mean) / std
    model = compile_model(build_model(config, {"x_xf": scaled.shape[1]}), config)
    model.fit({"x_xf": scaled[train]}, {"y1": data.y1[train], "y2": data.y2[train]},
              batch_size=64, epochs=40, verbose=0)
    predicted = model.predict({"x_xf": scaled[held_out]}, verbose=0)
    for task, labels in (("y1", data.y1), ("y2", data.y2)):
        r2 = _r2(np.reshape(labels[held_out], -1), np.reshape(predicted[task], -1))
        assert r2 > 0.5, f"{task}: held-out R² {r2:.3f}"


@pytest.mark.parametrize("settings", [
    {"model": {"architecture": "shared_bottom"}},
    {"model": {"architecture": "mmoe"}, "training": {"task_weighting": "uncertainty"}},
    {"model": {"architecture": "ple", "ensemble_size": 2}},
], ids=["shared_bottom", "mmoe-uncertainty", "ple-ensemble"])
def test_training_step_is_traced_once(settings):
    # Every variable of the step (optimizer slots, loss and metric trackers, learned task weights)
    # exists before the first fit call; otherwise tf.function traces the step a second time.
    from models.ensemble import training_view

    config = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"},
                                     {"name": "y3", "type": "multiclass", "classes": ["a", "b", "c"]}],
                           "data": {"source": "csv", "path": "x.csv", "features": [{"name": "x"}]},
                           **settings})
    rng = np.random.default_rng(5)
    x = rng.normal(size=(128, 4)).astype("float32")
    labels = {"y1": x[:, :1], "y2": (x[:, 1:2] > 0).astype("float32"),
              "y3": rng.integers(0, 3, size=(128, 1)).astype("float32")}
    model = compile_model(training_view(build_model(config, {"x_xf": 4})), config, steps_per_execution=2)
    variables_before = len(model.variables) + len(model.optimizer.variables)
    model.fit({"x_xf": x}, labels, batch_size=32, epochs=2, verbose=0, validation_data=({"x_xf": x}, labels))
    assert model.train_function.experimental_get_tracing_count() == 1
    assert model.test_function.experimental_get_tracing_count() == 1
    assert len(model.variables) + len(model.optimizer.variables) == variables_before


def _fit_counting_step_traces(own_loop: bool):
    """(weights, history, traces of the training step, steps counted) of a seeded fit of 10 steps a call."""
    from models.ensemble import training_view

    config = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}],
                           "data": {"source": "csv", "path": "x.csv", "features": [{"name": "x"}]}})
    rng = np.random.default_rng(11)
    x = rng.normal(size=(700, 4)).astype("float32")
    labels = {"y1": x[:, :1] - x[:, 2:3], "y2": (x[:, 1:2] > 0).astype("float32")}
    tf_keras.utils.set_random_seed(3)
    model = compile_model(training_view(build_model(config, {"x_xf": 4})), config, steps_per_execution=10)
    if not own_loop:  # Keras' own training and evaluation functions
        del model.make_train_function, model.make_test_function
    traces = []
    step = model.train_step
    model.train_step = lambda data: traces.append(1) or step(data)
    # 700 rows in batches of 32: 22 steps an epoch, so each epoch ends with a call of 2 steps.
    history = model.fit({"x_xf": x}, labels, batch_size=32, epochs=3, verbose=0,
                        validation_data=({"x_xf": x[:250]}, {k: v[:250] for k, v in labels.items()}))
    return [w.numpy() for w in model.weights], history.history, len(traces), int(model._train_counter.numpy())


def test_steps_loop_traces_the_training_step_once_and_trains_as_keras_own_loop():
    weights, history, traces, steps = _fit_counting_step_traces(own_loop=True)
    keras_weights, keras_history, keras_traces, keras_steps = _fit_counting_step_traces(own_loop=False)
    assert (traces, keras_traces) == (1, 2)  # AutoGraph's loop traced the step again for its outputs
    assert steps == keras_steps == 66
    assert history == keras_history
    assert all(np.array_equal(a, b) for a, b in zip(weights, keras_weights))
