"""The errors every command reports as one ``error:`` line, and their exit codes.

A ``UsageError`` is something the person running the command can fix in what
they passed (a flag, the configuration, the data it points at): exit 2. A
``RunStateError`` is about what earlier runs left (no pushed model, no
Evaluator run, a failed execution): exit 1. ``pipeline.cli.command.main``
turns both into the ``error:`` line and the exit code.
"""


class PipelineError(Exception):
    """An error a command reports in one line; ``exit_code`` is what the command returns."""

    exit_code = 1


class UsageError(PipelineError, ValueError):
    """A flag, configuration value or input that cannot work; the message names it and the fix."""

    exit_code = 2


class RunStateError(PipelineError, RuntimeError):
    """What earlier runs left does not allow the command (e.g. nothing pushed yet)."""

    exit_code = 1
