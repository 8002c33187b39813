"""Checks the arguments that point a pipeline at other machines, before any work.

An image name, a pipeline root or a Beam argument that cannot work should fail
here with one clear line, not minutes later inside a cluster. Pure Python
(argparse and re only): testable without TFX or Beam.
"""

from __future__ import annotations

import argparse
import re
from typing import Optional, Sequence

from pipeline.errors import UsageError


class DeployArgError(UsageError):
    """An argument that cannot work; the message names it and says why."""


# Beam runners by their short names; Beam also accepts the "...Runner" spelling.
KNOWN_RUNNERS = ("direct", "bundlebaseddirect", "switchingdirect", "prism",
                 "dataflow", "flink", "spark", "portable")
DIRECT_RUNNING_MODES = ("in_memory", "multi_threading", "multi_processing")
# Flags that already tell Beam how to ship the project's code to workers.
DEPENDENCY_FLAGS = ("setup_file", "extra_package", "extra_packages", "requirements_file",
                    "sdk_container_image", "worker_harness_container_image")
# Where TFX in the image reads and writes natively; Vertex AI needs gs://.
CLOUD_ROOT_SCHEMES = ("gs://",)

# A container image reference: [registry[:port]/]path[:tag][@digest].
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")


def check_image(image: str) -> str:
    if not image or not image.strip():
        raise DeployArgError("--image is empty: give the container image the pipeline runs in, "
                             "e.g. gcr.io/my-project/mtl-pipeline:1")
    if image.startswith((".", "/", "~")) or "\\" in image:
        raise DeployArgError(f"--image {image!r} looks like a local path; give a container image "
                             "name that the cluster can pull, e.g. gcr.io/my-project/mtl-pipeline:1")
    if not _IMAGE.match(image):
        raise DeployArgError(f"--image {image!r} is not a valid container image name "
                             "(expected [registry/]path[:tag][@sha256:digest], lower-case path)")
    return image


def check_cloud_uri(value: str, flag: str) -> str:
    """A pipeline root or serving dir: every pod must reach it, so no local paths."""
    if not value or not value.strip():
        raise DeployArgError(f"{flag} is empty: give a gs:// location, e.g. gs://my-bucket/mtl")
    if not value.startswith(CLOUD_ROOT_SCHEMES):
        raise DeployArgError(f"{flag} {value!r} is not a cloud location; pods cannot read this "
                             f"machine's disk: give a gs:// URI, e.g. gs://my-bucket/mtl")
    bucket = value.split("://", 1)[1].split("/", 1)[0]
    if not bucket:
        raise DeployArgError(f"{flag} {value!r} has no bucket name, e.g. gs://my-bucket/mtl")
    return value.rstrip("/")


def is_uri(path: str) -> bool:
    """gs://..., s3://...: a location every machine reaches by name, not this machine's disk."""
    return "://" in path


def check_reachable_inputs(data, pipeline_root: str) -> None:
    """For a pipeline root in the cloud, every file the pipeline reads must be there too.

    ``data``: the configuration's ``data`` section. A local path would be the
    compiling machine's, which the pipeline's pods cannot read.
    """
    if not is_uri(pipeline_root):
        return
    fields = {"data.schema_file": getattr(data, "schema_file", None)}
    split = getattr(data, "split", None)
    if getattr(data, "path", None) is not None:
        fields["data.path"] = data.path
    elif split is not None and hasattr(split, "train"):
        fields.update({"data.split.train": split.train, "data.split.eval": split.eval})
    for field, path in fields.items():
        if path is not None and not is_uri(path):
            scheme = pipeline_root.split("://", 1)[0]
            raise DeployArgError(
                f"{field} {path!r} is on this machine, which the pipeline's pods (pipeline root "
                f"{pipeline_root}) cannot read: copy it to the cloud and set {field} to its "
                f"{scheme}:// URI, e.g. {scheme}://my-bucket/data/{path.rstrip('/').rsplit('/', 1)[-1]}")


def _beam_flag_parser() -> argparse.ArgumentParser:
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
    known, _ = _beam_flag_parser().parse_known_args(args)
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


def with_project_package(beam_args: Sequence[str], setup_file: str) -> list[str]:
    """Tells Beam to ship this project (``--setup_file``) unless the args already say how.

    Without any such flag TFX builds and stages a throwaway sdist of TFX itself
    for every Beam component; the project's own package is what workers need.
    No arguments stay no arguments: in-process Beam needs nothing shipped.
    """
    beam_args = list(beam_args)
    if not beam_args:
        return beam_args
    known, _ = _beam_flag_parser().parse_known_args(beam_args)
    if any(getattr(known, flag) for flag in DEPENDENCY_FLAGS):
        return beam_args
    return [*beam_args, f"--setup_file={setup_file}"]
