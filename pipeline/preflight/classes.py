"""Fills in the classes of multiclass tasks from the data, before the run.

The model's softmax width and the Evaluator's per-class and macro-averaged
metrics need the classes before any component runs. A task that lists its
``classes`` keeps them; otherwise they are the label column's distinct
present values in every input CSV file, sorted, written into the run's
configuration (like the ``auto`` feature transforms) so the run is
reproducible. TFRecord inputs are not read here: list the classes.
"""

from __future__ import annotations

import glob

from components.csv_example_gen.header import read_rows
from pipeline.config import ConfigError, CsvData, PipelineConfig


def label_values(files: list[str], column: str, missing: set[str]) -> set[str]:
    """The distinct present values of ``column`` in ``files``."""
    values = set()
    for path in files:
        with open(path, newline="", encoding="utf-8") as f:
            values.update(row[column] for _, row in read_rows(f) if row.get(column) and row[column] not in missing)
    return values


def resolve_classes(config: PipelineConfig) -> PipelineConfig:
    """The configuration with every class-output task's ``classes`` listed."""
    pending = [t for t in config.tasks if t.task_type.class_outputs and not t.classes]
    if not pending:
        return config
    data = config.data
    if not isinstance(data, CsvData):
        raise ConfigError(f"task {pending[0].name!r}: list the classes of a {pending[0].type} task "
                          f"(classes: [...]); they are read from the data for CSV input only")
    files = sorted(f for pattern in data.split_patterns().values() for f in glob.glob(pattern))
    tasks = []
    for task in config.tasks:
        if task in pending:
            classes = sorted(label_values(files, task.label, set(data.missing_values)))
            if len(classes) < 2:
                raise ConfigError(f"{', '.join(files)}: label column {task.label!r} of {task.type} task "
                                  f"{task.name!r} holds {len(classes)} class(es) {classes}; a {task.type} "
                                  "task needs at least two: use a column with several, or drop the task")
            task = task.model_copy(update={"classes": classes})
        tasks.append(task)
    return config.model_copy(update={"tasks": tasks})
