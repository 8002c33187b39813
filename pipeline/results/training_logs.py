"""The Trainer's TensorBoard event files, read into per-task training curves.

The Trainer's own callback (``models.trainer.ScalarLog``) writes them under
its ``model_run`` folder, with the tags Keras's TensorBoard callback uses:

- ``train/``: ``batch_<name>`` every 50 steps (step = training step; the
  running mean since the epoch began);
- ``validation/``: ``evaluation_<name>_vs_iterations`` after each epoch (step =
  training steps so far).

``<name>`` is ``loss`` (the total), ``<task>_loss`` and ``<task>_<metric>``.
Per-epoch ``epoch_<name>`` points (Keras's callback writes them, step = epoch
index) are read too, placed at the step each epoch ended. The Trainer also
writes ``training.json`` next to them (``models.trainer_outputs.TRAINING_RECORD``);
``stopped_early`` and ``best_step`` (the step whose weights were kept) are read
from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import tensorflow as tf

from models.trainer_outputs import TRAINING_RECORD

Series = list[tuple[int, float]]  # (training step, value), by step


@dataclass
class TaskCurves:
    task: str
    metric: str  # the key metric's Keras name, e.g. r2 or auc
    train_loss: Series = field(default_factory=list)
    val_loss: Series = field(default_factory=list)
    train_metric: Series = field(default_factory=list)
    val_metric: Series = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.train_loss or self.val_loss or self.train_metric or self.val_metric)


@dataclass
class TrainingCurves:
    tasks: dict[str, TaskCurves]
    stopped_early: bool = False
    best_step: Optional[int] = None  # the step whose weights were kept, when stopped early


def read_scalars(folder: Path) -> dict[str, Series]:
    """tag -> (step, value) of every scalar summary in a folder's event files."""
    scalars: dict[str, dict[int, float]] = {}
    for path in sorted(tf.io.gfile.glob(str(folder / "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.HasField("tensor"):
                    number = tf.make_ndarray(value.tensor)
                    if number.shape != () or number.dtype.kind not in "fiu":
                        continue  # graphs and text, not scalars
                    number = float(number)
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                scalars.setdefault(value.tag, {})[int(event.step)] = number
    return {tag: sorted(points.items()) for tag, points in scalars.items()}


def _train_series(train: dict[str, Series], name: str, epoch_steps: list[int]) -> Series:
    """Per-step points if written, else per-epoch points placed at the step each epoch ended."""
    if train.get(f"batch_{name}"):
        return train[f"batch_{name}"]
    return [(epoch_steps[epoch], value) for epoch, value in train.get(f"epoch_{name}", [])
            if epoch < len(epoch_steps)]


def read_training_curves(model_run_uri: str, key_metrics: dict[str, str]) -> TrainingCurves:
    """Each task's loss and key metric (``key_metrics``: task -> Keras metric name) against steps."""
    root = Path(model_run_uri)
    train, validation = read_scalars(root / "train"), read_scalars(root / "validation")
    epoch_steps = [step for step, _ in validation.get("evaluation_loss_vs_iterations", [])]
    curves = {}
    for task, metric in key_metrics.items():
        curves[task] = TaskCurves(
            task, metric,
            train_loss=_train_series(train, f"{task}_loss", epoch_steps),
            val_loss=validation.get(f"evaluation_{task}_loss_vs_iterations", []),
            train_metric=_train_series(train, f"{task}_{metric}", epoch_steps),
            val_metric=validation.get(f"evaluation_{task}_{metric}_vs_iterations", []))
    result = TrainingCurves(curves)
    record = root / TRAINING_RECORD
    if tf.io.gfile.exists(str(record)):
        with tf.io.gfile.GFile(str(record)) as f:
            account = json.load(f)
        result.stopped_early = bool(account.get("stopped_early"))
        result.best_step = account.get("best_step")
    return result
