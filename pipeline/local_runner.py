"""Runs the pipeline on this machine with TFX's LocalDagRunner and Beam.

    python pipeline/local_runner.py [--config my.yaml] [--output-dir ./outputs] ...
    mtl-run [--config my.yaml] [--output-dir ./outputs] ...        (the same)

Everything a run writes lives under the output dir: pipeline_root/ (artifacts),
metadata.sqlite (ML Metadata), serving/<version>/ (pushed SavedModels) and
logs/ (TFX's full logs). The terminal shows one line per component and a
closing summary.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import sys
import time
import traceback
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # `python pipeline/local_runner.py`, the command users know, runs this file as a
    # script: Python then puts this folder first on sys.path, where its subpackages
    # (config, report, ...) would shadow top-level modules of the same name. A console
    # script cannot keep that command working, so the script alone starts from the
    # project root; `mtl-run` needs none of this.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from pipeline.cli.command import command  # noqa: E402
from pipeline.cli.console import ComponentProgress, redirect_noise  # noqa: E402
from pipeline.beam_workers import evaluator_beam_args, local_beam_args, without_state_cache  # noqa: E402
from pipeline.cli.status_line import Ticker  # noqa: E402
from pipeline.cli.flags import PROJECT_ROOT, add_config_flags, config_from_args  # noqa: E402
from config import ConfigError, PipelineConfig, write_config_file  # noqa: E402
from pipeline.preflight.data_checks import check_data  # noqa: E402
from pipeline.preflight.deploy_args import with_project_package  # noqa: E402
from pipeline.preflight.run_state import check_run_state  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run the multi-task TFX pipeline locally (LocalDagRunner + Beam).")
    add_config_flags(parser)
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"),
                        help="where everything the run writes goes [./outputs]")
    parser.add_argument("--no-cache", action="store_true", help="rerun every component")
    return parser.parse_args(argv)


def check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(f"--output-dir {output_dir} exists and is not a directory")
    output_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(output_dir, os.W_OK):
        raise ConfigError(f"--output-dir {output_dir} is not writable")


def lock_output_dir(output_dir: Path):
    """Holds an exclusive lock for the run: two runs into one dir would share MLMD and artifacts."""
    lock = open(output_dir / ".run.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(f"another run is writing to {output_dir}; wait for it or choose "
                          "another --output-dir") from None
    return lock


def run(config: PipelineConfig, output_dir: Path, enable_cache: bool, out,
        resolved_path: Path | None = None) -> int:
    from absl import logging as absl_logging
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from pipeline.baseline import local_baseline_resolver
    from pipeline import span_ingest
    from pipeline.definition import create_pipeline
    from pipeline.report.summary import summarize

    output_dir = output_dir.resolve()
    metadata_path = output_dir / "metadata.sqlite"
    serving_dir = output_dir / "serving"
    beam_args = local_beam_args(config)
    evaluator_args = evaluator_beam_args(config)
    without_state_cache()  # every component's Beam pipeline runs in this process or its workers
    if beam_args and not config.beam_args:
        print(f"Large data: Beam runs {beam_args[-1].split('=')[1]} worker processes"
              f"{', the Evaluator in this process' if evaluator_args else ''} (set beam_args to choose)", file=out)
    metadata_config = sqlite_metadata_connection_config(str(metadata_path))
    beam_args = with_project_package(beam_args, str(PROJECT_ROOT / "setup.py"))
    pipeline = create_pipeline(
        config,
        pipeline_root=str(output_dir / "pipeline_root"),
        serving_dir=str(serving_dir),
        metadata_connection_config=metadata_config,
        enable_cache=enable_cache,
        beam_pipeline_args=beam_args,
        evaluator_beam_args=evaluator_args,
        baseline_resolver=local_baseline_resolver,
    )
    absl_logging.set_verbosity(absl_logging.INFO)
    progress = ComponentProgress(out)
    absl_logging.get_absl_logger().addHandler(progress)
    started = time.monotonic()
    try:
        with Ticker(progress.line, interval=0.5 if progress.line.is_terminal else 5.0):
            # The window's older spans not yet ingested (or changed), or not yet checked, first:
            # Transform sees them, and only after their checks passed.
            ingest_plan = span_ingest.plan(config, metadata_path)
            if ingest_plan is not None and ingest_plan.spans:
                span_ingest.ingest(config, ingest_plan, str(output_dir / "pipeline_root"), str(serving_dir),
                                   metadata_config, beam_args, out)
            LocalDagRunner().run(pipeline)
    except KeyboardInterrupt:
        progress.line.end()
        print("interrupted: run the same command again to resume; finished components are cached",
              file=out)
        return 130
    except Exception as exc:  # the cause goes to the terminal, the traceback to the log
        progress.line.end()
        try:
            traceback.print_exc()
        except OSError:  # the log's disk may be the full one
            pass
        where = f"{progress.current}: " if progress.current else ""
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"error: {where}{type(exc).__name__}: {first_line}{disk_full_hint(exc, output_dir)}", file=out)
        return 1
    finally:
        absl_logging.get_absl_logger().removeHandler(progress)
    print(f"Pipeline finished in {time.monotonic() - started:.1f} s.", file=out)
    config = show_decisions(metadata_path, config, resolved_path, out)
    try:
        lines = summarize(metadata_path, config, serving_dir).lines()
    except Exception as exc:  # the run itself succeeded; say why there is no summary
        traceback.print_exc()
        lines = [f"warning: no summary: {type(exc).__name__}: {exc}"]
    for line in lines:
        print(line, file=out)
    print(report_line(output_dir, config.pipeline_name), file=out)
    return 0


def show_decisions(metadata_path: Path, config: PipelineConfig, resolved_path: Path | None,
                   out) -> PipelineConfig:
    """Prints what the data decided (DataChoices) and records the configuration as decided.

    Returns that configuration (the classes of multiclass tasks filled in), for the summary.
    """
    from pipeline.results.decided_config import decided

    found = decided(metadata_path, config.pipeline_name)
    if found is None:
        return config
    config, transforms = found
    if resolved_path is not None:
        # The configuration as run, with every decision made: rerunning it reproduces the run.
        write_config_file(config, resolved_path)
    if transforms:
        where = f" (configuration as run: {resolved_path})" if resolved_path else ""
        print(f"Numeric feature transforms{where}:", file=out)
        for choice in transforms:
            print(choice.line(), file=out)
        if config.model.encoding_bins:  # what the model reads instead of the scaled value
            print(f"  then piecewise-linear encoded over {config.model.encoding_bins} quantile bins "
                  f"(model.numeric_embedding: {config.model.numeric_embedding})", file=out)
    for task in config.tasks:
        if task.classes:  # the types with class outputs
            print(f"Classes of {task.name}: {', '.join(task.classes)}", file=out)
    return config


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` or an exception it was raised from means "no space left on the device"."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if any(text in str(exc) for text in ("No space left on device", "database or disk is full")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_hint(exc: BaseException, output_dir: Path) -> str:
    """What to do when ``exc`` means the output dir's disk is full, or ''."""
    if not disk_full(exc):
        return ""
    return (f"; the disk holding {output_dir.resolve()} is full: free space there or choose another "
            "--output-dir (pushed models are unchanged)")


def report_line(output_dir: Path, pipeline_name: str) -> str:
    """Writes the evaluation report; a report problem is shown but does not fail the run."""
    from pipeline.report.writer import ReportError, write_report

    retry = f"mtl-report --output-dir {output_dir}"
    try:
        return f"Report: {write_report(output_dir, pipeline_name)}"
    except ReportError as exc:
        return f"Report not written: {exc} (retry with: {retry})"
    except Exception as exc:  # the traceback goes to the log; the run itself succeeded
        traceback.print_exc()
        return f"Report not written: {type(exc).__name__}: {exc} (retry with: {retry})"


@command()
def main(argv: list[str] | None = None) -> int:
    """``mtl-run``: 0 when the pipeline ran; 2 for a bad flag, config or data; 1 when a component failed."""
    args = parse_args(argv)
    config = config_from_args(args)
    check_data(config)
    check_output_dir(args.output_dir)
    lock = lock_output_dir(args.output_dir)  # noqa: F841  (held until exit)
    check_run_state(args.output_dir, config.pipeline_name)
    log_dir = args.output_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / time.strftime("run-%Y%m%d-%H%M%S.log")
    terminal = redirect_noise(log_path)
    print(f"Running pipeline {config.pipeline_name!r} into {args.output_dir} (full log: {log_path})",
          file=terminal)
    # The configuration as given; once the data has decided (DataChoices), as decided.
    resolved_path = log_path.with_suffix(".config.yaml")
    try:
        write_config_file(config, resolved_path)
    except OSError as exc:  # before any component: nothing is half-written
        print(f"error: cannot write {resolved_path}: {exc.strerror or exc}"
              f"{disk_full_hint(exc, args.output_dir)}", file=terminal)
        return 1
    return run(config, args.output_dir, enable_cache=not args.no_cache, out=terminal,
               resolved_path=resolved_path)


if __name__ == "__main__":
    sys.exit(main())
