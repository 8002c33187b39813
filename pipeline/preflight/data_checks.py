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

from models.tasks import task_type
from models.tasks.base import is_number
from pipeline import spans
from config import ConfigError, PipelineConfig, Task
from config.names import colliding_columns, describe_collision
from pipeline.preflight.csv_sample import CsvFile, CsvSample, read_sample


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
        where = "data.path" if split == "all" else f"data.split.{split}"
        check_span_folders(where, pattern)
        if not glob.glob(spans.span_glob(pattern)):
            raise ConfigError(f"{where}: no file matches {pattern}; fix the path or glob")
        if not data.rows_readable:
            for group in colliding_columns(config.columns):
                raise ConfigError(f"{pattern}: {describe_collision(group)}")
    if not data.rows_readable:
        return None
    sample = read_sample(config)
    for csv_file in sample.files.values():
        try:
            check_csv_file(csv_file, config)
        except ConfigError as exc:  # name the span: the files of one day are what to fix
            raise ConfigError(f"{_span_of(csv_file.path, data)}{exc}") from None
    return sample


def check_span_folders(where: str, pattern: str) -> None:
    """A span folder (``{SPAN}`` in a folder name) with no file: its data did not arrive."""
    for span, folder in spans.empty_span_folders(pattern).items():
        raise ConfigError(f"{where}: span {span}: folder {folder} holds no file matching "
                          f"{os.path.basename(pattern)}; add the span's file or remove the folder")


def _span_of(path: str, data) -> str:
    """'span N: ' when ``path`` is a span's file, else ''."""
    for pattern in data.split_patterns().values():
        for span, files in spans.spans_on_disk(pattern).items() if spans.has_span(pattern) else ():
            if path in files:
                return f"span {span}: "
    return ""


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


def _check_numeric(path: str, column: str, rows, missing: set[str], transform: str = "auto") -> None:
    for line, row in rows:
        value = (row[column] or "").strip()
        if value and value not in missing and not is_number(value):
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
    problem = task_type(task.type).label_problem(values, task.positive, task.classes)
    if problem:
        raise ConfigError(f"{path}: label column {column!r} of {task.type} task {task.name!r} {problem}")


def _check_weights(path: str, column: str, rows, missing: set[str]) -> None:
    for line, row in rows:
        value = (row[column] or "").strip()
        if not value or value in missing:
            continue  # a missing weight counts as 1
        if not is_number(value) or float(value) < 0 or math.isnan(float(value)):
            raise ConfigError(f"{path} line {line}: example weight column {column!r} holds {value!r}; "
                              "weights must be numbers >= 0 (0 leaves the row out): fix the file or "
                              "remove data.example_weight")
