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

from typing import ClassVar, Sequence


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
        """The absolute gate fields (of ``config.tasks.GateConfig``) this type allows."""
        return (self.key_gate, *self.other_gates)

    def output_size(self, classes: Sequence[str]) -> int:
        """The model's outputs for a task of this type: one per class, or one number."""
        return len(classes) if self.class_outputs else 1

    def needs_classes(self, classes: Sequence[str]) -> bool:
        """Whether a task of this type listing ``classes`` still needs them listed (from the data)."""
        return self.class_outputs and not classes


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


class CountKind(RegressionKind):
    """Counts of events: non-negative integers, fitted on their own scale by Poisson log likelihood."""

    name = "count"
    output_activation = "exponential"  # a positive rate
    output_activations = ("exponential",)
    standardized_label = False  # the Poisson loss needs the counts as they are
    label_values = "counts"
    # Poisson noise alone leaves part of a count's variance unexplained, even for the true rate.
    default_gate = {"min_r2": 0.3}


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


TASK_KINDS: dict[str, TaskKind] = {kind.name: kind() for kind in (RegressionKind, BinaryKind, MulticlassKind,
                                                                       CountKind)}


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
