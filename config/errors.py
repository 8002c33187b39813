"""The errors the configuration raises, and the base of every error a command reports in one line.

A ``UsageError`` is something the person running the command can fix in what
they passed (a flag, the configuration, the data it points at): exit 2.
They live here, at the bottom of the layers, because the configuration raises
them; ``pipeline.errors`` adds the run-state errors and re-exports these.
"""


class PipelineError(Exception):
    """An error a command reports in one line; ``exit_code`` is what the command returns."""

    exit_code = 1


class UsageError(PipelineError, ValueError):
    """A flag, configuration value or input that cannot work; the message names it and the fix."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value that cannot work; the message names field and fix."""
