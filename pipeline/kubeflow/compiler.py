"""Compiles the pipeline for Kubeflow Pipelines 2.x and Vertex AI Pipelines.

    mtl-kubeflow --output pipeline.json --image IMAGE \
        [--pipeline-root gs://bucket/mtl] [--config my.yaml] [--beam-args '...']

The same configuration file and flags as the local runner choose tasks, data
and model. KubeflowV2DagRunner turns the pipeline into a KFP v2 pipeline spec;
nothing runs or is submitted here. The output's suffix picks the format:

- ``.json``: a PipelineJob (spec plus pipeline root), the template Vertex AI
  Pipelines runs (``aiplatform.PipelineJob(template_path=...)``);
- ``.yaml``: the bare PipelineSpec with the pipeline root as its default,
  what the KFP 2.x client uploads and runs.

Every step runs in the image, which has this project installed: module code is
named by dotted paths into that package, never by a path on this machine.
"""

from __future__ import annotations

import argparse
import sys
import json
import os
import time
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a script (`python pipeline/kubeflow/compiler.py`): start from the project root, not this
    # folder, whose modules would shadow top-level ones (see pipeline/local_runner.py).
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.atomic_write import write_atomically  # noqa: E402
from pipeline.cli.command import command  # noqa: E402
from pipeline.cli.flags import add_config_flags, config_from_args  # noqa: E402
from config import PipelineConfig  # noqa: E402
from pipeline.preflight.deploy_args import (DeployArgError, check_cloud_uri, check_image,  # noqa: E402
                                            check_reachable_inputs, with_project_package)

DEFAULT_IMAGE = "mtl-pipeline:latest"  # what `make image` builds
# Where the Dockerfile puts the project inside the image (its setup.py ships it to Beam workers).
IMAGE_PROJECT_ROOT = "/pipeline"
OUTPUT_FORMATS = (".json", ".yaml", ".yml")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compile the multi-task TFX pipeline into a KFP v2 pipeline spec "
                    "(Kubeflow Pipelines 2.x, Vertex AI Pipelines).")
    add_config_flags(parser)
    parser.add_argument("--output", type=Path, required=True,
                        help="file to write: .json (PipelineJob, Vertex AI) or .yaml (PipelineSpec, KFP)")
    parser.add_argument("--image", default=DEFAULT_IMAGE,
                        help=f"container image every step runs in [{DEFAULT_IMAGE}]")
    parser.add_argument("--pipeline-root",
                        help="gs:// location for the pipeline's artifacts [gs://<pipeline_name>/root]")
    parser.add_argument("--serving-dir",
                        help="gs:// location the Pusher writes blessed models to [<pipeline-root>/serving]")
    return parser.parse_args(argv)


class Target:
    """Where the compiled pipeline runs and writes, checked before compiling."""

    def __init__(self, args: argparse.Namespace, config: PipelineConfig):
        self.image = check_image(args.image)
        self.pipeline_root = check_cloud_uri(
            args.pipeline_root if args.pipeline_root is not None
            else f"gs://{config.pipeline_name}/root", "--pipeline-root")
        self.serving_dir = check_cloud_uri(
            args.serving_dir if args.serving_dir is not None
            else f"{self.pipeline_root}/serving", "--serving-dir")
        check_reachable_inputs(config.data, self.pipeline_root)
        check_window(config)
        self.output = check_output_file(args.output)


def check_window(config: PipelineConfig) -> None:
    """KubeflowV2DagRunner (tfx 1.16) compiles no resolver function ("Only single Channel is supported")."""
    window_spans = getattr(config.data, "window_spans", 1)
    if window_spans > 1:
        raise DeployArgError(
            f"data.window_spans: {window_spans} cannot be compiled for Kubeflow (tfx 1.16's KubeflowV2DagRunner "
            "compiles no span-window resolver); set window_spans: 1 (each run reads the newest {SPAN}, "
            "found when it runs) or run the window locally with mtl-run")


def check_output_file(output: Path) -> Path:
    if output.suffix not in OUTPUT_FORMATS:
        raise DeployArgError(f"--output {output} must end in .json (Vertex AI) or .yaml (KFP)")
    if output.is_dir():
        raise DeployArgError(f"--output {output} is a directory; give a file name")
    if not output.parent.is_dir():
        raise DeployArgError(f"--output {output}: folder {output.parent} does not exist")
    if not os.access(output.parent, os.W_OK):
        raise DeployArgError(f"--output {output}: folder {output.parent} is not writable")
    return output


def compile_pipeline(config: PipelineConfig, target: Target) -> dict:
    """The PipelineJob (as a JSON-ready dict) KubeflowV2DagRunner compiles."""
    from tfx import v1 as tfx

    from pipeline.baseline import kubeflow_baseline_resolver, kubeflow_served_model_resolver
    from pipeline.definition import create_pipeline

    pipeline = create_pipeline(
        config,
        pipeline_root=target.pipeline_root,
        serving_dir=target.serving_dir,
        beam_pipeline_args=with_project_package(config.beam_args, f"{IMAGE_PROJECT_ROOT}/setup.py"),
        baseline_resolver=kubeflow_baseline_resolver,
        served_model_resolver=kubeflow_served_model_resolver,
    )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=target.image))
    return name_parameter_producers(runner.run(pipeline, write_out=False))


def name_parameter_producers(pipeline_job: dict) -> dict:
    """Points each run-time parameter at the task that outputs it, which the task then waits for.

    KubeflowV2DagRunner (tfx 1.16) names the producer of a task output
    parameter ``<component id>_task``, a task no DAG has: the task is the
    component id. Kubeflow would refuse the spec.
    """
    tasks = pipeline_job["pipelineSpec"]["root"]["dag"]["tasks"]
    for task in tasks.values():
        for parameter in task.get("inputs", {}).get("parameters", {}).values():
            output = parameter.get("taskOutputParameter")
            if output is None:
                continue
            producer = output["producerTask"]
            if producer not in tasks and producer.removesuffix("_task") in tasks:
                producer = output["producerTask"] = producer.removesuffix("_task")
            if producer not in task.setdefault("dependentTasks", []):
                task["dependentTasks"] = sorted([*task["dependentTasks"], producer])
    return pipeline_job


def render(pipeline_job: dict, output: Path) -> str:
    if output.suffix == ".json":
        return json.dumps(pipeline_job, indent=2, sort_keys=True)
    import yaml

    spec = dict(pipeline_job["pipelineSpec"])
    spec["defaultPipelineRoot"] = pipeline_job["runtimeConfig"]["gcsOutputDirectory"]
    return yaml.safe_dump(spec, sort_keys=True)


@command()
def main(argv: list[str] | None = None) -> int:
    """``mtl-kubeflow``: 0 when the spec is written; 2 for a bad flag or configuration."""
    args = parse_args(argv)
    config = config_from_args(args)
    target = Target(args, config)
    started = time.monotonic()
    pipeline_job = compile_pipeline(config, target)
    write_atomically(target.output, render(pipeline_job, target.output))
    tasks = len(pipeline_job["pipelineSpec"]["root"]["dag"]["tasks"])
    print(f"Wrote {target.output} ({tasks} tasks, image {target.image}, "
          f"pipeline root {target.pipeline_root}) in {time.monotonic() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
