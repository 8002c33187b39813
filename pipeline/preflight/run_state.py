"""Checks what earlier runs left in the output dir before a run starts.

ML Metadata (``metadata.sqlite``) is read with Python's sqlite3 only (no TFX):
a damaged file, or one written by a pipeline of another name, fails in a
second with one line naming the file, what is wrong and the fix, before any
component runs and before anything under ``serving/`` can change. Without
this, ML Metadata's own error blames the first component of the pipeline.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.errors import RunStateError

# ML Metadata keeps each pipeline's name as a context of this type.
PIPELINE_CONTEXT_QUERY = ("SELECT c.name FROM Context c JOIN Type t ON c.type_id = t.id "
                          "WHERE t.name = 'pipeline'")


class RunStateMismatch(RunStateError):
    """The output dir holds state this run cannot use."""


def _fresh_start(metadata_path: Path) -> str:
    return (f"move {metadata_path} aside to start the output dir's metadata afresh (every component "
            "reruns; serving/ is kept), or choose another --output-dir")


def pipeline_names(metadata_path: Path) -> list[str]:
    """The pipeline names recorded in an ML Metadata sqlite file; raises RunStateMismatch if it is damaged."""
    try:
        connection = sqlite3.connect(f"file:{metadata_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RunStateMismatch(f"{metadata_path} cannot be opened ({exc}); {_fresh_start(metadata_path)}") from None
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise RunStateMismatch(f"{metadata_path} is damaged (sqlite: {problems[0]}); "
                                   f"{_fresh_start(metadata_path)}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return []  # an empty file: ML Metadata sets it up
        if not {"Context", "Type"} <= tables:
            raise RunStateMismatch(f"{metadata_path} is not an ML Metadata store; {_fresh_start(metadata_path)}")
        return sorted(row[0] for row in connection.execute(PIPELINE_CONTEXT_QUERY))
    except sqlite3.Error as exc:  # e.g. "file is not a database", "database disk image is malformed"
        raise RunStateMismatch(f"{metadata_path} is damaged (sqlite: {exc}); {_fresh_start(metadata_path)}") from None
    finally:
        connection.close()


def check_run_state(output_dir: Path, pipeline_name: str) -> None:
    """Raises RunStateMismatch if ``output_dir``'s metadata is damaged or belongs to another pipeline."""
    metadata_path = Path(output_dir) / "metadata.sqlite"
    if not metadata_path.exists():
        return
    others = [name for name in pipeline_names(metadata_path) if name != pipeline_name]
    if others:
        raise RunStateMismatch(
            f"{output_dir} holds the runs of pipeline {others[0]!r} ({metadata_path}), not of "
            f"{pipeline_name!r}; choose another --output-dir, or set pipeline_name: {others[0]} "
            "in the configuration to continue that pipeline")
