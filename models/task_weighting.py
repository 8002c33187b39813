"""Uncertainty weighting of the task losses (Kendall, Gal and Cipolla, CVPR 2018).

Each task i learns a log variance s_i = log sigma_i^2, and its loss becomes

    MSE (regression):        0.5 * exp(-s_i) * MSE_i + 0.5 * s_i   (Gaussian likelihood)
    other losses (binary):   exp(-s_i) * loss_i + 0.5 * s_i        (the paper's classification form)

so a noisier (or harder) task is weighted down, and the s_i term stops every
weight from going to zero. The effective weight of task i is the factor in
front of its loss. The log variances live in a layer attached to the model
(``model.task_log_variances``), so the optimizer trains them with the rest.
"""

from __future__ import annotations

import json

import tensorflow as tf
import tf_keras

from models.tasks import task_type
from models.fit_steps import StepCallback, crossed
from models.trainer_outputs import TASK_WEIGHTS_FILE
from config import PipelineConfig, Task


class TaskLogVariances(tf_keras.layers.Layer):
    """One trainable log variance per task, starting at 0 (weight 1 for binary, 0.5 for regression)."""

    def __init__(self, num_tasks: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tasks = num_tasks
        self.log_variance = self.add_weight(name="log_variance", shape=(num_tasks,), initializer="zeros")

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks}


def _scale(task: Task) -> float:
    """The factor in front of exp(-s) * loss, by the task's type (``likelihood_scale``)."""
    return task_type(task.type).likelihood_scale


def _base_loss(task: Task):
    return tf_keras.losses.get(task_type(task.type).keras_loss)


def attach(model: tf_keras.Model, config: PipelineConfig) -> TaskLogVariances:
    """The model's log variances, created on first use."""
    if getattr(model, "task_log_variances", None) is None:
        model.task_log_variances = TaskLogVariances(len(config.tasks), name="task_log_variances")
    return model.task_log_variances


def uncertainty_losses(model: tf_keras.Model, config: PipelineConfig) -> dict:
    """Task name -> its loss weighted by the task's learned log variance."""
    layer = attach(model, config)
    losses = {}
    for i, task in enumerate(config.tasks):
        def loss(y_true, y_pred, i=i, task=task):
            s = layer.log_variance[i]
            return _scale(task) * tf.exp(-s) * _base_loss(task)(y_true, y_pred) + 0.5 * s
        loss.__name__ = f"{task.name}_uncertainty_weighted"
        losses[task.name] = loss
    return losses


def learned_weights(model: tf_keras.Model, config: PipelineConfig) -> dict[str, dict[str, float]]:
    """Task -> its effective loss weight and log variance, now."""
    s = attach(model, config).log_variance.numpy()
    return {task.name: {"weight": float(_scale(task) * tf.exp(-s[i])), "log_variance": float(s[i])}
            for i, task in enumerate(config.tasks)}


class LogTaskWeights(StepCallback):
    """Writes each task's learned weight and log variance to TensorBoard every ``every`` steps
    (after the first step, then at the first call of the training function that reaches a
    multiple of ``every``), at the training step."""

    def __init__(self, config: PipelineConfig, log_dir: str, every: int = 50):
        super().__init__()
        self.config, self.every = config, every
        self.writer = tf.summary.create_file_writer(f"{log_dir}/task_weights")

    def on_steps(self, previous, step, logs):
        if previous and not crossed(previous, step, self.every):
            return
        with self.writer.as_default(step=step):
            for task, values in learned_weights(self.model, self.config).items():
                tf.summary.scalar(f"task_weight/{task}", values["weight"])
                tf.summary.scalar(f"log_variance/{task}", values["log_variance"])
        self.writer.flush()


def save_learned_weights(model: tf_keras.Model, config: PipelineConfig, model_run_dir: str) -> dict:
    weights = learned_weights(model, config)
    with tf.io.gfile.GFile(f"{model_run_dir}/{TASK_WEIGHTS_FILE}", "w") as f:
        f.write(json.dumps({"task_weighting": "uncertainty", "tasks": weights}, indent=2) + "\n")
    return weights
