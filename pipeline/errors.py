"""The errors every command reports as one ``error:`` line, and their exit codes.

A ``UsageError`` is something the person running the command can fix in what
they passed (a flag, the configuration, the data it points at): exit 2. A
``RunStateError`` is about what earlier runs left (no pushed model, no
Evaluator run, a failed execution): exit 1. ``pipeline.cli.command.main``
turns both into the ``error:`` line and the exit code.
"""

# The configuration raises usage errors, and it imports nothing of pipeline: they are defined there.
from config.errors import PipelineError, UsageError

__all__ = ["PipelineError", "RunStateError", "UsageError"]


class RunStateError(PipelineError, RuntimeError):
    """What earlier runs left does not allow the command (e.g. nothing pushed yet)."""

    exit_code = 1
