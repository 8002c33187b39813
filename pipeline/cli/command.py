"""One shape for every command: a quiet start-up and one ``error:`` line on failure.

Each command's ``main(argv=None) -> int`` is wrapped by :func:`command`: a
``PipelineError`` it raises is printed as ``error: <message>`` on stderr and
becomes the exit code of its class (a usage error 2, a run-state error 1).
The console scripts in ``pyproject.toml`` point at these wrapped functions.
Before the command runs, the wrapper sets the Keras environment
(``use_legacy_keras``): no command module imports TensorFlow at import time,
so this comes before TensorFlow is imported.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from typing import Callable, Optional

from pipeline.errors import PipelineError

Main = Callable[[Optional[list]], int]


def use_legacy_keras() -> None:
    """Routes ``tf.keras`` to Keras 2 (``tf_keras``) in this process and the processes it starts.

    TFT's layers and the project's models are tf_keras; TensorFlow 2.16 reads
    ``TF_USE_LEGACY_KERAS`` when it is imported and again on the first use of
    ``tf.keras``. The Beam workers and the executors a run starts inherit the
    variable; the container image sets it itself (Dockerfile). A value the
    user set is kept.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def command(*, quiet: bool = False) -> Callable[[Main], Main]:
    """Wraps a command's ``main``; ``quiet`` keeps TensorFlow's start-up chatter off a terminal a person reads.

    Only the commands whose whole output is for a person (the report, the
    serving check) are quiet, and only when run as a command (``argv`` from
    the command line), not when another program calls ``main(argv)``; the
    runners send TensorFlow's logs to a file instead.
    """

    def wrap(run: Main) -> Main:
        @functools.wraps(run)
        def main(argv: Optional[list] = None) -> int:
            if quiet and argv is None:
                os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
                warnings.simplefilter("ignore")
                logging.getLogger("tensorflow").setLevel(logging.ERROR)
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            use_legacy_keras()
            try:
                return run(argv)
            except PipelineError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return exc.exit_code

        return main

    return wrap
