"""Fills in the classes of multiclass tasks from the data, before the run.

The model's softmax width and the Evaluator's per-class and macro-averaged
metrics need the classes before any component runs. A task that lists its
``classes`` keeps them; otherwise they are the label column's distinct
present values in every input CSV file, sorted, written into the run's
configuration (like the ``auto`` feature transforms) so the run is
reproducible. Inputs whose rows are not read before the run (TFRecord) must
list the classes.
"""

from __future__ import annotations

from typing import Optional

from pipeline.config import ConfigError, PipelineConfig
from pipeline.preflight.csv_sample import CsvSample, read_sample


def resolve_classes(config: PipelineConfig, sample: Optional[CsvSample] = None) -> PipelineConfig:
    """The configuration with every class-output task's ``classes`` listed.

    ``sample``: the CSV inputs as ``read_sample`` read them (read here when not given).
    """
    pending = [t for t in config.tasks if t.task_type.class_outputs and not t.classes]
    if not pending:
        return config
    if not config.data.rows_readable:
        raise ConfigError(f"task {pending[0].name!r}: list the classes of a {pending[0].type} task "
                          f"(classes: [...]); they are read from the data for CSV input only")
    sample = sample or read_sample(config)
    tasks = []
    for task in config.tasks:
        if task in pending:
            classes = sorted(sample.label_values[task.label])
            if len(classes) < 2:
                raise ConfigError(f"{', '.join(sorted(sample.files))}: label column {task.label!r} of "
                                  f"{task.type} task {task.name!r} holds {len(classes)} class(es) {classes}; "
                                  f"a {task.type} task needs at least two: use a column with several, "
                                  "or drop the task")
            task = task.model_copy(update={"classes": classes})
        tasks.append(task)
    return config.model_copy(update={"tasks": tasks})
