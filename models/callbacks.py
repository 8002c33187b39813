"""The Trainer's callbacks: early stopping with the best weights kept, progress, training curves.

``ProgressLog`` logs the line the local runner's status line shows;
``ScalarLog`` writes the TensorBoard curves. Both act every so many steps
(``models.fit_steps``), whatever ``steps_per_execution`` is.
"""

from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf
import tf_keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from models.fit_steps import StepCallback, crossed
from models.task_weighting import LogTaskWeights
from models.trainer_outputs import TRAINER_PROGRESS
from config import PipelineConfig


class BestWeights(tf_keras.callbacks.Callback):
    """Early stopping on the eval loss; the weights of the best check are restored at the end.

    Without ``patience`` it never stops early, and the last weights are kept.
    """

    def __init__(self, patience):
        super().__init__()
        self.patience = patience
        self.best_loss = np.inf
        self.best_check = None
        self.best_weights = None
        self.checks_run = 0
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        self.checks_run = epoch + 1
        if self.patience is None:
            return
        loss = (logs or {}).get("val_loss", np.nan)
        if np.isfinite(loss) and loss < self.best_loss:
            self.best_loss, self.best_check, self.wait = loss, epoch + 1, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None and self.best_check != self.checks_run:
            self.model.set_weights(self.best_weights)


class ProgressLog(StepCallback):
    """Logs the step and loss about once a second; the local runner's status line shows them."""

    def __init__(self, total_steps: int, every_seconds: float = 1.0):
        super().__init__()
        # Keras then passes the logs as tensors, not converted to Python every
        # step; the loss is read (one device sync) only when it is logged.
        self._supports_tf_logs = True
        self.total_steps = total_steps
        self.every_seconds = every_seconds
        self._last = 0.0

    def on_steps(self, previous, step, logs):
        now = time.monotonic()
        if now - self._last >= self.every_seconds and logs and "loss" in logs:
            self._last = now
            logging.info(TRAINER_PROGRESS, step, self.total_steps, float(logs["loss"]))


class ScalarLog(StepCallback):
    """Training curves for TensorBoard in ``log_dir``, named as Keras' TensorBoard names them:
    ``train/batch_<name>`` every ``every`` steps and ``validation/evaluation_<name>_vs_iterations``
    after each epoch, both at the training step.

    Keras' own TensorBoard callback cost about 2 ms a step here (half the step
    time of this model) however rarely it wrote; this one reads the values
    only when it writes them. With several steps a call (``steps_per_execution``)
    the training values are written at the first call that reaches a multiple
    of ``every``, at the step they are from.
    """

    def __init__(self, log_dir: str, every: int = 50):
        super().__init__()
        self._supports_tf_logs = True
        self.log_dir = log_dir
        self.every = every
        self._writers: dict = {}

    def _write(self, split: str, logs: dict, step: int) -> None:
        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(os.path.join(self.log_dir, split))
        with self._writers[split].as_default():
            for name, value in logs.items():
                tag = f"batch_{name}" if split == "train" else f"evaluation_{name}_vs_iterations"
                tf.summary.scalar(tag, value, step=step)

    def on_steps(self, previous, step, logs):
        if logs and crossed(previous, step, self.every):
            self._write("train", logs, step)

    def on_epoch_end(self, epoch, logs=None):
        validation = {k[len("val_"):]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if validation:
            self._write("validation", validation, self.step)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()


def callbacks(fn_args: FnArgs, config: PipelineConfig, total_steps: int) -> list:
    """Training curves for TensorBoard, the progress the status line shows, and learned task weights."""
    logged = [ScalarLog(fn_args.model_run_dir), ProgressLog(total_steps)]
    if config.training.task_weighting == "uncertainty":
        logged.append(LogTaskWeights(config, fn_args.model_run_dir))
    return logged
