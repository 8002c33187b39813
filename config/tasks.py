"""The tasks section: one prediction per task, each with its head, loss and gate.

A task's ``type`` is validated against the task kinds (``config.task_kinds``),
which also give its defaults: output activation and gate.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from config.strict import COLUMN_NAME
from config.strict import Strict as _Strict
from config.task_kinds import TASK_KINDS, TaskKind, task_kind

MISSING_LABEL = Literal["drop_row", "mask"]


def _types_where(fact: str) -> str:
    """The registered task types with that fact set, e.g. 'binary' for ``accepts_positive``."""
    return "/".join(name for name, kind in TASK_KINDS.items() if getattr(kind, fact))


class GateConfig(_Strict):
    """When a task's model is good enough to push (TFMA thresholds).

    Absolute gates stop a bad model even on the first run, when there is no
    baseline yet. R² and AUC are scale-free, so one default works whatever the
    label scale; ``max_mse``/``max_log_loss`` are optional absolute bounds.
    ``max_drop`` is the change gate: the candidate's R² (or AUC) may be at most
    this much below the last blessed model's.
    """

    min_r2: Optional[float] = None
    max_mse: Optional[float] = Field(default=None, gt=0)
    min_auc: Optional[float] = Field(default=None, ge=0, le=1)
    max_log_loss: Optional[float] = Field(default=None, gt=0)
    min_accuracy: Optional[float] = Field(default=None, ge=0, le=1)
    max_drop: float = Field(default=0.05, ge=0)

    @field_validator("min_r2")
    @classmethod
    def _r2_at_most_one(cls, v):
        if v is not None and v > 1:
            raise ValueError(f"min_r2 must be at most 1, got {v}")
        return v


# The absolute gate fields, in GateConfig's order; each task type allows some (its kind's gate_fields).
GATE_FIELDS = tuple(name for name in GateConfig.model_fields if name != "max_drop")


class Task(_Strict):
    """One prediction the model makes: one head, one loss, one gate."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: str = "regression"
    label: Optional[str] = Field(default=None, pattern=COLUMN_NAME)  # label column; defaults to the task name
    # A row without this task's label: ``mask`` trains the other tasks on it (this
    # task's weight 0, and its metrics leave the row out); ``drop_row`` leaves the
    # row out of training and evaluation for every task.
    missing_label: MISSING_LABEL = "mask"
    # Multiclass tasks: the class names in index order; empty = Transform's
    # vocabulary of the label column (most frequent first).
    classes: list[str] = Field(default_factory=list)
    # Binary tasks: the label value(s) meaning 1 when the column is not 0/1 (e.g. ">50K").
    positive: list[str] = Field(default_factory=list)
    loss_weight: float = Field(default=1.0, gt=0)
    output_activation: Optional[str] = None  # one of the task type's output_activations
    gate: GateConfig = Field(default_factory=GateConfig)

    @field_validator("positive", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, (str, int, float)) else v

    @field_validator("positive", "classes", mode="before")
    @classmethod
    def _as_text(cls, v):
        return [str(p).strip() for p in v] if isinstance(v, list) else v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v):
        if v not in TASK_KINDS:
            raise ValueError(f"task type must be {' or '.join(map(repr, TASK_KINDS))}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _defaults_by_type(self):
        kind = self.kind
        if self.label is None:
            self.label = self.name
        if self.positive and not kind.accepts_positive:
            raise ValueError(f"task {self.name!r}: positive is for {_types_where('accepts_positive')} tasks, "
                             f"not {self.type}")
        if self.classes and not kind.class_outputs:
            raise ValueError(f"task {self.name!r}: classes are for {_types_where('class_outputs')} tasks, "
                             f"not {self.type}")
        if self.classes and (len(self.classes) < 2 or len(set(self.classes)) != len(self.classes)):
            raise ValueError(f"task {self.name!r}: classes must list at least two distinct class names, "
                             f"got {self.classes}; a task with one class has nothing to predict")
        if self.output_activation is None:
            self.output_activation = kind.output_activation
        elif self.output_activation not in kind.output_activations:
            raise ValueError(
                f"task {self.name!r}: a {self.type} task needs output_activation "
                f"{' or '.join(map(repr, kind.output_activations))} "
                f"(its loss is log loss on a probability), got {self.output_activation!r}")
        gate = self.gate
        allowed = kind.gate_fields
        others = [f for f in GATE_FIELDS if f not in allowed]
        if any(getattr(gate, f) is not None for f in others):
            raise ValueError(f"task {self.name!r} is {self.type}: use {'/'.join(allowed)} gates, "
                             f"not {'/'.join(others)}")
        if all(getattr(gate, f) is None for f in allowed):
            for name, value in kind.default_gate.items():
                setattr(gate, name, value)
        return self

    @property
    def kind(self) -> TaskKind:
        """The facts of this task's type (``config.task_kinds``); its Keras and TFMA side is
        ``models.tasks.task_type(task.type)``."""
        return task_kind(self.type)

    @property
    def output_size(self) -> int:
        """The model's outputs for this task: one per class, or one number."""
        return self.kind.output_size(self.classes)

    @property
    def key_metric(self) -> str:
        """The metric the change gate compares with the baseline."""
        return self.kind.key_metric
