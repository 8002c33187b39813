"""What the data decides for a run: each numeric feature's ``auto`` transform, and the classes of multiclass tasks.

Decided inside the pipeline, from the examples ExampleGen wrote
(``components.data_choices_component``), so a local run and a Kubeflow run of one
configuration decide the same way from the same data; nothing is read on the
machine that compiles or starts the pipeline.

- ``auto`` transform: ``log`` for a heavy-tailed non-negative column (mostly
  zeros, or a maximum or 99th percentile far above the bulk of the values),
  ``z_score`` otherwise, from the first SAMPLE_ROWS training examples.
- classes of a multiclass task without ``classes``: the label column's
  distinct present values in the training split (what Transform analyzes), sorted.

The decisions are written into the run's configuration (the transform is
then ``log`` or ``z_score``, not ``auto``), which Transform, the Trainer and
the Evaluator receive, and which the run's summary and recorded configuration
show. The rules here are pure: values in, decisions and reasons out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from config import ConfigError, EvaluationConfig, PipelineConfig, SyntheticData

SAMPLE_ROWS = 100_000  # training examples read to decide the transforms
MOSTLY_ZEROS = 0.5  # a non-negative column with at least this share of zeros is heavy-tailed
MAX_OVER_P99 = 10.0
P99_OVER_MEDIAN = 20.0


@dataclass(frozen=True)
class TransformChoice:
    column: str
    transform: str
    reason: str

    def line(self) -> str:
        return f"  {self.column}: {self.transform} ({self.reason})"


def data_view(config: PipelineConfig) -> PipelineConfig:
    """The part of ``config`` the data's decisions and Transform read, the rest at its defaults.

    DataChoices gets only this, so that a change of the model, the training or
    the gates leaves it, and with it Transform, cached.
    """
    return PipelineConfig.model_validate({
        "pipeline_name": config.pipeline_name,
        "data": config.data.model_dump(mode="json"),
        "tasks": [t.model_dump(mode="json") for t in config.tasks],
        "evaluation": EvaluationConfig(slice_features=config.evaluation.slice_features).model_dump(mode="json"),
    })


def apply_decisions(config: PipelineConfig, decided_view: PipelineConfig) -> PipelineConfig:
    """``config`` with the decisions of its decided ``data_view`` (feature transforms, classes) made."""
    return config.model_copy(update={"data": decided_view.data, "tasks": decided_view.tasks})


def choose_transform(values: Sequence[float]) -> tuple[str, str]:
    """(transform, why) for a column's present values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "z_score", "no values to inspect"
    if x.min() < 0:
        return "z_score", "has negative values"
    if np.unique(x[:10_000]).size <= 2:
        return "z_score", "two values"
    zeros = float(np.mean(x == 0))
    p50, p99, top = np.percentile(x, 50), np.percentile(x, 99), x.max()
    if zeros >= MOSTLY_ZEROS:
        return "log", f"non-negative, {zeros:.0%} zeros, max {top:.4g}"
    if p99 > 0 and top / p99 > MAX_OVER_P99:
        return "log", f"non-negative, max/p99 = {top / p99:.3g} > {MAX_OVER_P99:g}"
    if p50 > 0 and p99 / p50 > P99_OVER_MEDIAN:
        return "log", f"non-negative, p99/median = {p99 / p50:.3g} > {P99_OVER_MEDIAN:g}"
    ratio = f"max/p99 = {top / p99:.3g}" if p99 > 0 else f"max {top:.4g}"
    return "z_score", f"no heavy tail: {ratio}"


def auto_columns(config: PipelineConfig) -> list[str]:
    """The numeric features whose transform the data decides."""
    if isinstance(config.data, SyntheticData):
        return []
    return [f.name for f in config.features if f.type == "numeric" and f.transform == "auto"]


def class_label_columns(config: PipelineConfig) -> list[str]:
    """The label columns of class-output tasks that list no classes."""
    return list(dict.fromkeys(t.label for t in config.tasks if t.kind.needs_classes(t.classes)))


def decide_transforms(config: PipelineConfig, train_values: dict[str, Sequence[float]]
                      ) -> tuple[PipelineConfig, list[TransformChoice]]:
    """The configuration with every ``auto`` transform decided, and one choice per numeric feature.

    ``train_values``: the present values of each ``auto_columns`` column in the training sample.
    """
    synthetic = isinstance(config.data, SyntheticData)
    choices, features = [], []
    for feature in config.features:
        if feature.type != "numeric":
            features.append(feature)
            continue
        if feature.transform != "auto":
            transform, reason = feature.transform, "set in the config"
        elif synthetic:
            transform, reason = feature.resolved_transform, "synthetic inputs are standard normal"
        else:
            transform, reason = choose_transform(train_values.get(feature.name, []))
        choices.append(TransformChoice(feature.name, transform, reason))
        if not synthetic:
            features.append(feature.model_copy(update={"transform": transform}))
    if synthetic:
        return config, choices
    resolved = config.model_copy(update={"data": config.data.model_copy(update={"features": features})})
    return resolved, choices


def decide_classes(config: PipelineConfig, label_values: dict[str, Iterable[str]]) -> PipelineConfig:
    """The configuration with every class-output task's ``classes`` listed.

    ``label_values``: the present values of each ``class_label_columns`` column, in the training split.
    """
    tasks = []
    for task in config.tasks:
        if task.kind.needs_classes(task.classes):
            classes = sorted(set(label_values.get(task.label, ())))
            if len(classes) < 2:
                raise ConfigError(f"label column {task.label!r} of {task.type} task {task.name!r} holds "
                                  f"{len(classes)} class(es) {classes} in the examples; a {task.type} task "
                                  "needs at least two: use a column with several, or drop the task")
            task = task.model_copy(update={"classes": classes})
        tasks.append(task)
    return config.model_copy(update={"tasks": tasks})
