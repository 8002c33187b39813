"""Checks the arguments that point a pipeline at other machines, before any work.

An image name, a pipeline root or a Beam argument that cannot work should fail
here with one clear line, not minutes later inside a cluster. The Beam
arguments' checks are the configuration's (``config.beam_args``,
which also validates ``beam_args``). Pure Python (argparse and re only):
testable without TFX or Beam.
"""

from __future__ import annotations

import re
from typing import Sequence

from config.beam_args import (DEPENDENCY_FLAGS, DeployArgError, beam_flag_parser,  # noqa: F401
                                       check_beam_args, runner_name)

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


def with_project_package(beam_args: Sequence[str], setup_file: str) -> list[str]:
    """Tells Beam to ship this project (``--setup_file``) unless the args already say how.

    Without any such flag TFX builds and stages a throwaway sdist of TFX itself
    for every Beam component; the project's own package is what workers need.
    No arguments stay no arguments: in-process Beam needs nothing shipped.
    """
    beam_args = list(beam_args)
    if not beam_args:
        return beam_args
    known, _ = beam_flag_parser().parse_known_args(beam_args)
    if any(getattr(known, flag) for flag in DEPENDENCY_FLAGS):
        return beam_args
    return [*beam_args, f"--setup_file={setup_file}"]
