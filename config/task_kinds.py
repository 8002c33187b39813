"""What the configuration knows of each task type: the facts a task is validated and completed with.

A task type has two sides. The declarative one lives here: its name, its
output activations, whether it predicts classes, what its labels are, its key
metric and the gate fields it allows, with their defaults. The configuration
validates a task's ``type`` against ``TASK_KINDS`` and fills in its defaults
from it, without TensorFlow and without ``models``. The other side (Keras
losses and metrics, label encoding, TFMA metrics, scoring, reporting) is
``models.tasks``: each of its types subclasses the kind here, so every fact is
declared once, and its ``register`` adds the type to both registries.
"""

from __future__ import annotations

from typing import ClassVar

# The absolute gate fields of GateConfig, in its order; each type allows some.
GATE_FIELDS = ("min_r2", "max_mse", "min_auc", "max_log_loss", "min_accuracy")


class TaskKind:
    """The declarative facts of one task type; subclasses set the class attributes."""

    name: ClassVar[str]
    output_activation: ClassVar[str]  # the default
    output_activations: ClassVar[tuple[str, ...]]  # the allowed ones
    class_outputs: ClassVar[bool] = False  # one output per class (softmax); the label is a class index
    standardized_label: ClassVar[bool] = False  # Transform writes a standardized copy the Trainer fits
    label_values: ClassVar[str]  # what the model learns, in words: "numbers", "0/1", "class indices"
    accepts_positive: ClassVar[bool] = False  # whether ``positive`` label values may be declared
    key_metric: ClassVar[str]  # its name in TFMA's results; higher is better
    key_gate: ClassVar[str]  # GateConfig field bounding the key metric from below; carries the change gate
    other_gates: ClassVar[tuple[str, ...]] = ()  # the other GateConfig fields the type allows
    default_gate: ClassVar[dict[str, float]]  # set when none of the type's absolute gates is

    @property
    def gate_fields(self) -> tuple[str, ...]:
        """The absolute gate fields this type allows."""
        return (self.key_gate, *self.other_gates)


class RegressionKind(TaskKind):
    name = "regression"
    output_activation = "linear"
    output_activations = ("linear", "sigmoid")
    standardized_label = True
    label_values = "numbers"
    key_metric = "r2"
    key_gate = "min_r2"
    other_gates = ("max_mse",)
    default_gate = {"min_r2": 0.5}


class BinaryKind(TaskKind):
    name = "binary"
    output_activation = "sigmoid"  # its loss is log loss on a probability
    output_activations = ("sigmoid",)
    label_values = "0/1"
    accepts_positive = True
    key_metric = "auc"
    key_gate = "min_auc"
    other_gates = ("max_log_loss",)
    default_gate = {"min_auc": 0.7}


class MulticlassKind(TaskKind):
    name = "multiclass"
    output_activation = "softmax"
    output_activations = ("softmax",)
    class_outputs = True
    label_values = "class indices"
    key_metric = "sparse_categorical_accuracy"
    key_gate = "min_accuracy"
    other_gates = ("min_auc",)
    default_gate = {"min_accuracy": 0.5}


TASK_KINDS: dict[str, TaskKind] = {kind.name: kind() for kind in (RegressionKind, BinaryKind, MulticlassKind)}


def register_kind(kind: TaskKind) -> None:
    """Adds a type's facts under its name (``models.tasks.register`` does, with the type itself).

    A name already known may only be taken by a subclass of its kind (the full type of those facts).
    """
    known = TASK_KINDS.get(kind.name)
    if known is not None and not isinstance(kind, type(known)):
        raise ValueError(f"task type {kind.name!r} is registered twice")
    TASK_KINDS[kind.name] = kind


def task_kind(name: str) -> TaskKind:
    """The facts of the type of that name; KeyError for an unknown one (the config rejects those)."""
    return TASK_KINDS[name]
