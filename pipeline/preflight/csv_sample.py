"""One read of the CSV inputs for the checks made before the run.

The data checks look at each file's header and first ``CHECKED_ROWS`` rows;
each file is read once, only that far. (What the data decides, the ``auto``
transforms and the classes, is decided inside the pipeline: DataChoices.)
"""

from __future__ import annotations

import csv
import glob
from dataclasses import dataclass, field

from components.csv_example_gen.header import parse_header, read_rows
from pipeline import spans
from config import ConfigError, PipelineConfig

CHECKED_ROWS = 1000  # rows per file read to check values


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


def input_files(config: PipelineConfig) -> dict[str, list[str]]:
    """Split name (``all`` for a hash split) -> the files its pattern matches, sorted.

    A ``{SPAN}`` pattern: the files of the spans the run reads (the newest ``window_spans``).
    """
    window_spans = getattr(config.data, "window_spans", 1)
    files = {}
    for split, pattern in config.data.split_patterns().items():
        if spans.has_span(pattern):
            found = spans.spans_on_disk(pattern)
            files[split] = sorted(f for span in spans.window(found, window_spans) for f in found[span])
        else:
            files[split] = sorted(glob.glob(pattern))
    return files


def read_header(path: str) -> list[str]:
    """The column names as ExampleGen reads them (no byte-order mark, no spaces around names)."""
    with open(path, newline="", encoding="utf-8") as f:
        header = parse_header(f.readline())
    if not header or not any(header):
        raise ConfigError(f"{path} is empty: a CSV input needs a header row with the column names, "
                          "then one row per example")
    return header


def read_sample(config: PipelineConfig) -> CsvSample:
    """Reads every input file once, as far as the checks need; ConfigError for an unreadable file."""
    splits = input_files(config)
    sample = CsvSample({})
    for path in dict.fromkeys(p for files in splits.values() for p in files):
        try:
            sample.files[path] = CsvFile(path, read_header(path))
            with open(path, newline="", encoding="utf-8") as f:
                rows = sample.files[path].rows
                for line, row in read_rows(f):
                    rows.append((line, row))
                    if line > CHECKED_ROWS:  # up to and including the first row past line CHECKED_ROWS
                        break
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                              "save it as UTF-8 CSV") from None
        except csv.Error as exc:  # e.g. a NUL byte
            raise ConfigError(f"{path} cannot be read as CSV ({exc}); save it as plain UTF-8 CSV text") from None
    return sample
