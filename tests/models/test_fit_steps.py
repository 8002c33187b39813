"""Callbacks that act every so many steps, with several training steps per call (steps_per_execution)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.fit_steps import StepCallback, crossed
from models.callbacks import ProgressLog, ScalarLog
from models.trainer_outputs import TRAINER_PROGRESS


class _Steps(StepCallback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_steps(self, previous, step, logs):
        self.seen.append((previous, step))


def _fit(steps_per_execution, callbacks, steps_per_epoch=10, epochs=3, validation=False):
    tf_keras.utils.set_random_seed(3)
    model = tf_keras.Sequential([tf_keras.Input(shape=(3,)), tf_keras.layers.Dense(4, activation="relu"),
                                 tf_keras.layers.Dense(1)])
    model.compile(tf_keras.optimizers.Adam(0.01), "mse", steps_per_execution=steps_per_execution)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).batch(8)
    model.fit(data.repeat(), steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=0, callbacks=callbacks,
              validation_data=data if validation else None)
    return model


def test_crossed_means_a_multiple_was_reached():
    assert crossed(0, 10, 10) and crossed(7, 14, 10) and crossed(9, 10, 10)
    assert not crossed(10, 19, 10) and not crossed(0, 9, 10)


@pytest.mark.parametrize("spe, calls", [
    (1, list(range(1, 31))),
    # The last call of each 10-step epoch runs the 2 steps left.
    (4, [4, 8, 10, 14, 18, 20, 24, 28, 30]),
    (50, [10, 20, 30]),  # at most an epoch a call
])
def test_steps_count_over_epochs_whatever_the_steps_a_call(spe, calls):
    steps = _Steps()
    _fit(spe, [steps])
    assert steps.seen == list(zip([0, *calls[:-1]], calls))


def _scalars(folder: Path) -> dict[str, dict[int, float]]:
    """tag -> step -> value, from the event files in ``folder``."""
    values: dict = {}
    for path in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                values.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return values


def test_scalar_log_writes_when_a_multiple_of_every_is_reached_at_the_step_the_values_are_from(tmp_path):
    one, seven = tmp_path / "one", tmp_path / "seven"
    model_one = _fit(1, [ScalarLog(str(one), every=10)], steps_per_epoch=25, epochs=2, validation=True)
    model_seven = _fit(7, [ScalarLog(str(seven), every=10)], steps_per_epoch=25, epochs=2, validation=True)
    train_one, train_seven = _scalars(one / "train"), _scalars(seven / "train")
    assert sorted(train_one["batch_loss"]) == [10, 20, 30, 40, 50]
    # Calls end at steps 7, 14, 21, 25, 32, 39, 46, 50.
    assert sorted(train_seven["batch_loss"]) == [14, 21, 32, 46, 50]
    for validation in (_scalars(one / "validation"), _scalars(seven / "validation")):
        assert sorted(validation["evaluation_loss_vs_iterations"]) == [25, 50]
    # Several steps a call train the same model: the same weights and the same logged loss.
    for a, b in zip(model_one.get_weights(), model_seven.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert train_seven["batch_loss"][50] == pytest.approx(train_one["batch_loss"][50], rel=1e-6)


def test_progress_log_counts_every_step_of_a_call(caplog):
    caplog.set_level(logging.INFO, logger="absl")
    _fit(4, [ProgressLog(total_steps=30, every_seconds=0.0)])
    prefix = TRAINER_PROGRESS.split("%d")[0]
    steps = [int(r.getMessage()[len(prefix):].split()[0]) for r in caplog.records
             if r.getMessage().startswith(prefix)]
    assert steps == [4, 8, 10, 14, 18, 20, 24, 28, 30]
    assert "step 30 of 30" in caplog.records[-1].getMessage()
