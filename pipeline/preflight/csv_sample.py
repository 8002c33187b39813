"""One read of the CSV inputs, shared by every check and choice made before the run.

The data checks look at each file's header and first ``CHECKED_ROWS`` rows;
the ``auto`` transforms at the numeric values of the first ``TRANSFORM_ROWS``
rows of the training files; a multiclass task without listed classes at every
value of its label column. Each file is read once, row by row, only as far as
one of them still needs.
"""

from __future__ import annotations

import csv
import glob
from dataclasses import dataclass, field

from components.csv_example_gen.header import parse_header, read_rows
from pipeline.config import ConfigError, PipelineConfig

CHECKED_ROWS = 1000  # rows per file read to check values
TRANSFORM_ROWS = 100_000  # rows of the training files read to choose the auto transforms


@dataclass
class CsvFile:
    """A file's header (as ExampleGen reads it) and its first rows as (line number, column -> cell)."""

    path: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class CsvSample:
    """What the checks before the run read from the CSV inputs."""

    files: dict[str, CsvFile]  # path -> its header and first rows
    # Label column of a class-output task without classes -> its distinct present values in every row.
    label_values: dict[str, set[str]]
    # Numeric feature with an auto transform -> its present values in the first rows of the training files.
    numeric_values: dict[str, list[float]]


def input_files(config: PipelineConfig) -> dict[str, list[str]]:
    """Split name (``all`` for a hash split) -> the files its pattern matches, sorted."""
    return {split: sorted(glob.glob(pattern)) for split, pattern in config.data.split_patterns().items()}


def read_header(path: str) -> list[str]:
    """The column names as ExampleGen reads them (no byte-order mark, no spaces around names)."""
    with open(path, newline="", encoding="utf-8") as f:
        header = parse_header(f.readline())
    if not header or not any(header):
        raise ConfigError(f"{path} is empty: a CSV input needs a header row with the column names, "
                          "then one row per example")
    return header


def read_sample(config: PipelineConfig) -> CsvSample:
    """Reads every input file once, as far as the checks and choices need; ConfigError for an unreadable file."""
    data = config.data
    missing = set(data.missing_tokens)
    splits = input_files(config)
    training = set(splits.get("train") or splits.get("all") or [])
    class_labels = [t.label for t in config.tasks if t.task_type.class_outputs and not t.classes]
    auto = [f.name for f in config.features if f.type == "numeric" and f.transform == "auto"]
    sample = CsvSample({}, {c: set() for c in class_labels}, {c: [] for c in auto})
    transform_rows = 0
    for path in dict.fromkeys(p for files in splits.values() for p in files):
        counted = bool(auto) and path in training
        try:
            sample.files[path] = CsvFile(path, read_header(path))
            with open(path, newline="", encoding="utf-8") as f:
                for line, row in read_rows(f):
                    rows = sample.files[path].rows
                    # Up to and including the first row past line CHECKED_ROWS.
                    checking = not rows or rows[-1][0] <= CHECKED_ROWS
                    counted = counted and transform_rows < TRANSFORM_ROWS
                    if not (checking or counted or class_labels):
                        break
                    if checking:
                        rows.append((line, row))
                    for column in class_labels:
                        if row.get(column) and row[column] not in missing:
                            sample.label_values[column].add(row[column])
                    if counted:
                        _add_numbers(sample.numeric_values, row, missing)
                        transform_rows += 1
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                              "save it as UTF-8 CSV") from None
        except csv.Error as exc:  # e.g. a NUL byte
            raise ConfigError(f"{path} cannot be read as CSV ({exc}); save it as plain UTF-8 CSV text") from None
    return sample


def _add_numbers(values: dict[str, list[float]], row: dict[str, str], missing: set[str]) -> None:
    for column, present in values.items():
        text = (row.get(column) or "").strip()
        if text and text not in missing:
            try:
                present.append(float(text))
            except ValueError:
                pass  # the data check reports non-numbers
