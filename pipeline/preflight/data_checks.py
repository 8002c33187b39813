"""Checks the configuration against the data before any component runs.

Reads each CSV file's header and its first rows with the csv module (no TFX;
``csv_sample``, the one read every check before the run shares), so a wrong
column name or an undeclared string label fails in a second with a message
naming the file, the column and the fix, instead of minutes later inside
Transform. Inputs whose rows are not read before the run (TFRecord) are
checked for existence only; their columns are checked by ExampleValidator
against the schema.
"""

from __future__ import annotations

import glob
import math
import os
from typing import Optional

from pipeline.config import ConfigError, PipelineConfig, Task
from pipeline.config.names import colliding_columns, describe_collision
from pipeline.config.task_types import LABEL_CLASS_INDEX, LABEL_NUMBER
from pipeline.preflight.csv_sample import CsvFile, CsvSample, read_sample

BINARY_VALUES = {"0", "1", "0.0", "1.0"}


def check_data(config: PipelineConfig) -> Optional[CsvSample]:
    """Raises ConfigError on the first mismatch between config and data.

    Returns: the CSV inputs as it read them (``csv_sample.read_sample``), for the
    other checks before the run; None for inputs whose rows are not read.
    """
    data = config.data
    if data.schema_file and not os.path.isfile(data.schema_file):
        raise ConfigError(f"data.schema_file {data.schema_file} does not exist; "
                          "fix the path or remove it to infer a schema")
    for split, pattern in data.split_patterns().items():
        if not glob.glob(pattern):
            where = "data.path" if split == "all" else f"data.split.{split}"
            raise ConfigError(f"{where}: no file matches {pattern}; fix the path or glob")
        if not data.rows_readable:
            for group in colliding_columns(config.columns):
                raise ConfigError(f"{pattern}: {describe_collision(group)}")
    if not data.rows_readable:
        return None
    sample = read_sample(config)
    for csv_file in sample.files.values():
        check_csv_file(csv_file, config)
    return sample


def check_csv_file(csv_file: CsvFile, config: PipelineConfig) -> None:
    path, header, data = csv_file.path, csv_file.header, config.data
    columns = set(header)
    shown = ", ".join(header)
    read = [c for c in header if c in set(config.columns)]
    for group in colliding_columns(read):
        raise ConfigError(f"{path}: {describe_collision(group)}")
    for feature in data.features:
        if feature.name not in columns:
            raise ConfigError(f"{path}: feature column {feature.name!r} is not in the header "
                              f"({shown}); fix data.features or the file")
    for task in config.tasks:
        if task.label not in columns:
            raise ConfigError(f"{path}: task {task.name!r} has no label column {task.label!r} in the "
                              f"header ({shown}); set the task's label to the column holding it")
    for feature in config.evaluation.slice_features:
        if feature.name not in columns:
            raise ConfigError(f"{path}: slice feature {feature.name!r} is not in the header "
                              f"({shown}); fix evaluation.slice_features or the file")
    if data.example_weight is not None and data.example_weight not in columns:
        raise ConfigError(f"{path}: data.example_weight {data.example_weight!r} is not in the header "
                          f"({shown}); fix data.example_weight or the file")
    rows = csv_file.rows
    if not rows:
        raise ConfigError(f"{path} has a header but no rows; give it at least one example per line")
    missing = set(data.missing_values)
    for feature in data.features:
        if feature.type == "numeric":
            _check_numeric(path, feature.name, rows, missing, feature.transform)
    for feature in config.evaluation.numeric_slice_features:
        _check_numeric(path, feature.name, rows, missing)
    for task in config.tasks:
        _check_label(path, task, rows, missing)
    if data.example_weight is not None:
        _check_weights(path, data.example_weight, rows, missing)
def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _check_numeric(path: str, column: str, rows, missing: set[str], transform: str = "auto") -> None:
    for line, row in rows:
        value = (row[column] or "").strip()
        if value and value not in missing and not _is_number(value):
            what = f"numeric column {column!r}" if transform in ("auto", "z_score") else \
                f"column {column!r} (transform: {transform}, which needs numbers)"
            raise ConfigError(f"{path} line {line}: {what} holds {value!r}; declare it "
                              f"in data.missing_values if it means missing, or make {column!r} categorical")


def _check_label(path: str, task: Task, rows, missing: set[str]) -> None:
    column = task.label
    values = set()
    for line, row in rows:
        value = (row[column] or "").strip()
        if value and value not in missing:  # a missing label: the task's weight is 0 there
            values.add(value)
    if not values:
        raise ConfigError(f"{path}: label column {column!r} of task {task.name!r} is empty in its first "
                          f"{len(rows)} rows; fill in the labels or remove the task")
    encoding = task.task_type.label_encoding
    if encoding == LABEL_CLASS_INDEX:
        _check_classes(path, task, values)
    elif encoding == LABEL_NUMBER:
        bad = sorted(v for v in values if not _is_number(v))
        if bad:
            raise ConfigError(f"{path}: label column {column!r} of {task.type} task {task.name!r} holds "
                              f"non-numbers ({', '.join(map(repr, bad[:3]))}); use a numeric column "
                              "or make the task binary with its positive value(s)")
    elif task.positive:
        if not values & set(task.positive):
            raise ConfigError(f"{path}: label column {column!r} of task {task.name!r} never holds the "
                              f"declared positive value(s) {task.positive} in its first rows "
                              f"(it holds {', '.join(map(repr, sorted(values)[:5]))}); fix 'positive'")
    elif not values <= BINARY_VALUES:
        others = sorted(values - BINARY_VALUES)
        raise ConfigError(f"{path}: label column {column!r} of {task.type} task {task.name!r} holds values "
                          f"other than 0/1 ({', '.join(map(repr, others[:5]))}); declare the value(s) "
                          f"meaning 1, e.g. positive: {others[0]!r}")


def _check_classes(path: str, task: Task, values: set[str]) -> None:
    if task.classes:
        unknown = sorted(values - set(task.classes))
        if unknown:
            raise ConfigError(f"{path}: label column {task.label!r} of {task.type} task {task.name!r} holds "
                              f"{', '.join(map(repr, unknown[:5]))}, not among its classes {task.classes}; "
                              "add them to the task's classes (or remove classes to take them from the data)")
    elif len(values) < 2:
        raise ConfigError(f"{path}: label column {task.label!r} of {task.type} task {task.name!r} holds one "
                          f"class only ({next(iter(values))!r}); a {task.type} task needs at least two "
                          "classes: use a column with several, or drop the task")


def _check_weights(path: str, column: str, rows, missing: set[str]) -> None:
    for line, row in rows:
        value = (row[column] or "").strip()
        if not value or value in missing:
            continue  # a missing weight counts as 1
        if not _is_number(value) or float(value) < 0 or math.isnan(float(value)):
            raise ConfigError(f"{path} line {line}: example weight column {column!r} holds {value!r}; "
                              "weights must be numbers >= 0 (0 leaves the row out): fix the file or "
                              "remove data.example_weight")
