"""What a person sees while the pipeline runs: one line per component; everything else to a log file.

While a component runs, a status line (pipeline.cli.status_line) shows its
elapsed time and, for the Trainer, step, loss and ETA.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from models.trainer_outputs import TRAINER_PROGRESS
from pipeline.cli.status_line import StatusLine


# What TFX's launcher logs, and then goes on with the next component, when a node's
# inputs (a resolver, a run-time parameter) cannot be resolved.
RESOLUTION_ERRORS = ("[%s] Input resolution error: %s", "[%s] Dynamic exec property resolution error: %s")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _root_cause(exc) -> str:
    """TFX's message, and the exception it was raised from (e.g. what a resolver strategy raised)."""
    if not isinstance(exc, BaseException):
        return str(exc)
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    if root is exc:
        return _first_line(exc)
    return f"{_first_line(exc)} ({type(root).__name__}: {_first_line(root)})"


class ResolutionFailed(RuntimeError):
    """A component's inputs could not be resolved; the run stops instead of going on without them."""


class ComponentProgress(logging.Handler):
    """Turns TFX's log records into one line per component: name, cached or ran, seconds.

    A failed input resolution raises ResolutionFailed from the logging call,
    inside the runner: LocalDagRunner itself would log it and go on, leaving
    the components after it without their inputs and nothing said.
    """

    def __init__(self, out, is_terminal: bool | None = None):
        super().__init__(level=logging.INFO)
        self.out = out
        self.line = StatusLine(out, is_terminal)
        self.started: dict[str, float] = {}
        self.status = "ran"
        self.current: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message, args = record.msg, record.args or ()
        if message == "Component %s is running.":
            self.current, self.status = args[0], "ran"
            self.started[args[0]] = time.monotonic()
            self.line.start(args[0])
        elif message == "A cached execution %d is used.":
            self.status = "cached"
        elif message == TRAINER_PROGRESS and len(args) == 3:
            self.line.trainer_progress(*args)
        elif message in RESOLUTION_ERRORS and len(args) == 2:
            raise ResolutionFailed(f"{args[0]}: its inputs could not be resolved: {_root_cause(args[1])}")
        elif message == "Component %s is finished.":
            seconds = time.monotonic() - self.started.get(args[0], time.monotonic())
            self.current = None
            self.line.finish(f"  {args[0]:<32} {self.status:<7} {seconds:7.1f} s")


def redirect_noise(log_path: Path):
    """Sends everything written to stdout/stderr (TF, Beam, absl) to the log file.

    Returns a stream to the real terminal for the lines a person reads.
    """
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    log_file = open(log_path, "a", buffering=1)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_file.fileno(), sys.stdout.fileno())
    os.dup2(log_file.fileno(), sys.stderr.fileno())
    return terminal
