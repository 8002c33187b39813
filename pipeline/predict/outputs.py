"""A block's served outputs as rows of a predictions file: CSV text or TFRecords of tf.Example.

Columns: the ``--keep`` columns as the input held them, then each task's
columns as its type names them (``models.tasks``: a regression value, a
binary probability, a multiclass class and a probability per class).
Floats are written with 9 significant digits, which gives back the served
float32 exactly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from config import PipelineConfig
from models.tasks import task_type


@dataclass(frozen=True)
class OutputTask:
    name: str
    task_type: object  # models.tasks.TaskType
    classes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return self.task_type.prediction_columns(self.name, self.classes)


def output_tasks(config: PipelineConfig) -> list[OutputTask]:
    """The tasks in config order. A multiclass task's classes are those the run resolved and the
    Trainer wrote into the model's ``class_names``: the recorded configuration holds them."""
    return [OutputTask(t.name, task_type(t.type), tuple(t.classes)) for t in config.tasks]


def header(tasks: list[OutputTask], keep: list[str]) -> list[str]:
    return [*keep, *(column for task in tasks for column in task.columns)]


def columns(served: dict[str, np.ndarray], tasks: list[OutputTask], kept: dict[str, list[str]],
            keep: list[str]) -> list[np.ndarray]:
    """The block's columns, in ``header`` order."""
    values = [np.asarray(kept[column], dtype=object) for column in keep]
    for task in tasks:
        values.extend(task.task_type.prediction_values(served[task.name], task.classes))
    return values


def _text(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.9g}"
    return str(value)


def _column_texts(column: np.ndarray) -> list[str]:
    """A column's cells as text: a float column formatted in one pass (the common case and the cost)."""
    if column.dtype.kind == "f":
        return list(map("{:.9g}".format, column.tolist()))
    return [_text(v) for v in column.tolist()]


def csv_text(values: list[np.ndarray], with_header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if with_header is not None:
        writer.writerow(with_header)
    writer.writerows(zip(*(_column_texts(np.asarray(column)) for column in values)))
    return out.getvalue()


def example_records(values: list[np.ndarray], names: list[str]) -> list[bytes]:
    """One serialized tf.Example per row: floats as float_list, text as bytes_list."""
    from tensorflow.core.example import example_pb2

    rows = len(values[0]) if values else 0
    records = []
    for i in range(rows):
        example = example_pb2.Example()
        for name, column in zip(names, values):
            value = column[i]
            feature = example.features.feature[name]
            if isinstance(value, (float, np.floating)):
                feature.float_list.value.append(float(value))
            elif value != "":
                feature.bytes_list.value.append(str(value).encode("utf-8"))
        records.append(example.SerializeToString(deterministic=True))
    return records
