"""Checks the Beam arguments a configuration (``beam_args``) or a command line gives, before any work.

A Beam argument that cannot work should fail with one clear line when the
configuration is read, not minutes later inside a cluster. Pure Python
(argparse only): the configuration and ``pipeline.preflight.deploy_args``
both use it.
"""

from __future__ import annotations

import argparse
from typing import Optional, Sequence

from config.errors import UsageError


class DeployArgError(UsageError):
    """An argument that cannot work; the message names it and says why."""


# Beam runners by their short names; Beam also accepts the "...Runner" spelling.
KNOWN_RUNNERS = ("direct", "bundlebaseddirect", "switchingdirect", "prism",
                 "dataflow", "flink", "spark", "portable")
DIRECT_RUNNING_MODES = ("in_memory", "multi_threading", "multi_processing")
# Flags that already tell Beam how to ship the project's code to workers.
DEPENDENCY_FLAGS = ("setup_file", "extra_package", "extra_packages", "requirements_file",
                    "sdk_container_image", "worker_harness_container_image")


def beam_flag_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name in ("runner", "project", "region", "temp_location", "staging_location",
                 "direct_running_mode", "direct_num_workers", *DEPENDENCY_FLAGS):
        parser.add_argument(f"--{name}")
    return parser


def runner_name(runner: Optional[str]) -> str:
    """'DataflowRunner', 'dataflow' -> 'dataflow'; no runner means Beam's direct runner."""
    if not runner:
        return "direct"
    name = runner.lower()
    return name[: -len("runner")] if name.endswith("runner") else name


def check_beam_args(args: Sequence[str]) -> list[str]:
    """Rejects Beam arguments that cannot work; returns them unchanged."""
    args = list(args)
    for arg in args:
        if not isinstance(arg, str) or not arg.strip():
            raise DeployArgError("Beam arguments contain an empty value")
    for previous, arg in zip([None, *args], args):
        # A value is fine after a "--name" that has none of its own ("--name value").
        takes_value = previous is not None and previous.startswith("--") and "=" not in previous
        if not arg.startswith("--") and not takes_value:
            raise DeployArgError(f"Beam argument {arg!r} is not a --flag (write --name=value)")
    known, _ = beam_flag_parser().parse_known_args(args)
    runner = runner_name(known.runner)
    if runner not in KNOWN_RUNNERS:
        raise DeployArgError(f"unknown Beam runner {known.runner!r}; use one of DirectRunner, "
                             "DataflowRunner, FlinkRunner, SparkRunner, PortableRunner, PrismRunner")
    if known.direct_running_mode is not None and known.direct_running_mode not in DIRECT_RUNNING_MODES:
        raise DeployArgError(f"--direct_running_mode={known.direct_running_mode} is unknown; "
                             f"use one of {', '.join(DIRECT_RUNNING_MODES)}")
    if known.direct_num_workers is not None:
        if not known.direct_num_workers.isdigit() or int(known.direct_num_workers) < 1:
            raise DeployArgError(f"--direct_num_workers={known.direct_num_workers} must be a "
                                 "positive whole number")
    if runner == "dataflow":
        if not known.project:
            raise DeployArgError("DataflowRunner needs --project=<your GCP project>")
        if not known.temp_location or not known.temp_location.startswith("gs://"):
            raise DeployArgError("DataflowRunner needs --temp_location=gs://<bucket>/tmp "
                                 f"(got {known.temp_location!r})")
    return args
