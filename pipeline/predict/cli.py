"""Score a file of rows with the newest pushed model: one row of predictions per input row, in order.

    mtl-predict --output-dir outputs --input new.csv --output predictions.csv
                [--model VERSION | --model-dir URI] [--keep id ...]
                [--beam-args='--direct_running_mode=multi_processing ...']

The input is a CSV (named ``.csv``) or TFRecords of tf.Example, a path or a
glob; the output a CSV when named ``.csv``, else TFRecords of tf.Example. Input,
output and model may be local or on any file system Beam has (gs://, s3://,
its options in --beam-args). The pipeline and its configuration are the ones
the output dir holds (``pipeline.results.run_config``). The output file
appears complete or not at all: the workers write parts beside it, which are
joined in input order when every row is scored, and a row the model cannot
take stops the command with one ``error:`` line naming it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Optional

if __name__ == "__main__" and not __package__:
    # Run as a script (`python pipeline/predict/cli.py`): start from the project root, not this
    # folder, whose modules would shadow top-level ones (see pipeline/local_runner.py).
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.cli.command import command  # noqa: E402
from pipeline.errors import RunStateError, UsageError  # noqa: E402
from pipeline.predict import inputs, outputs  # noqa: E402

PROGRESS_SECONDS = 5.0


def pushed_model(output_dir: Path, version: Optional[str]) -> Path:
    """The version asked for, or the newest one under ``output_dir/serving``."""
    from pipeline.report.summary import serving_versions

    serving = output_dir / "serving"
    versions = serving_versions(serving)
    if not versions:
        raise RunStateError(f"no pushed model under {serving}: run the pipeline until it pushes one")
    if version is None:
        return serving / versions[-1]
    if version not in versions:
        raise UsageError(f"--model {version}: no such version under {serving} (there: {', '.join(versions)})")
    return serving / version


def model_inputs(config) -> list[inputs.InputColumn]:
    return [inputs.InputColumn(f.name, f.type == "numeric") for f in config.features]


class Progress:
    """Prints the rows scored so far (counted from the finished parts) every few seconds, on stdout:
    stderr is for the one ``error:`` line."""

    def __init__(self, parts_dir: str, every: float = PROGRESS_SECONDS):
        self.parts_dir, self.every = parts_dir, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._shown = 0

    def _run(self):
        from pipeline.predict.scoring import rows_in_parts

        while not self._stop.wait(self.every):
            rows = rows_in_parts(self.parts_dir)
            if rows != self._shown:
                self._shown = rows
                print(f"scored {rows:,} rows", flush=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def predict(output_dir: Path, source: str, target: str | Path, version: Optional[str] = None,
            keep: tuple[str, ...] = (), beam_args: Optional[list[str]] = None,
            model_dir: Optional[str] = None) -> int:
    """Scores ``source`` (a path or glob) into ``target``; returns the rows written."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.predict import scoring
    from pipeline.results.run_config import recorded_config

    target = str(target)
    FileSystems.set_options(PipelineOptions(beam_args or []))  # e.g. --s3_endpoint_url, here as on the workers
    files = inputs.input_files(source)
    config = recorded_config(output_dir)
    model = model_dir.rstrip("/") if model_dir else str(pushed_model(output_dir, version))
    columns = model_inputs(config)
    keep = list(keep)
    as_csv = inputs.is_csv(target)
    if inputs.is_csv(files[0]):
        if any(f.size > 1 for f in config.features):
            raise UsageError(f"--input {source}: the model takes vector features; score TFRecords of tf.Example")
        for path in files:
            inputs.check_csv_columns(path, columns, keep)
    tasks = outputs.output_tasks(config)
    if "://" not in target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    # Parts and the joined file go beside the target, on its file system: nothing local for a remote run.
    folder, name = FileSystems.split(target)
    stem = FileSystems.join(folder, f".{name}.{uuid.uuid4().hex[:8]}")
    parts_dir, joined = stem + ".parts", stem + ".tmp"
    try:
        with Progress(parts_dir):
            scoring.score_to_parts(source, files, model, parts_dir, columns, list(config.data.missing_tokens),
                                   tasks, keep, as_csv, beam_args)
        try:
            with FileSystems.create(joined, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                header = ",".join(outputs.header(tasks, keep)) + "\n" if as_csv else None
                rows = scoring.write_in_order(parts_dir, f, header)
            if FileSystems.exists(target):
                FileSystems.delete([target])
            FileSystems.rename([joined], [target])
        except BaseException:
            _delete(joined)
            raise
    finally:
        _delete(*scoring.part_files(parts_dir), parts_dir)
    return rows


def _delete(*paths: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    for path in paths:
        try:
            FileSystems.delete([path])
        except Exception:  # already gone (an object store has no folder to delete)
            pass


@command(quiet=True)
def main(argv: Optional[list[str]] = None) -> int:
    """``mtl-predict``: 0 with the predictions written; 2 for a bad flag or row; 1 when nothing was pushed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"), help="the pipeline's output dir")
    parser.add_argument("--input", required=True, help="a CSV (.csv) or TFRecords of tf.Example")
    parser.add_argument("--output", required=True,
                        help="where the predictions go: a CSV if named .csv, else TFRecords of tf.Example")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", help="a version under OUTPUT_DIR/serving [the newest]")
    model.add_argument("--model-dir", help="a pushed model's folder anywhere Beam reads, e.g. "
                       "s3://bucket/serving/3 (the configuration still comes from --output-dir)")
    parser.add_argument("--keep", nargs="+", default=[], metavar="COLUMN",
                        help="input columns carried to the output (e.g. an id)")
    parser.add_argument("--beam-args", help="Beam pipeline arguments, e.g. "
                        "--beam-args='--direct_running_mode=multi_processing --direct_num_workers=2'")
    args = parser.parse_args(argv)
    try:
        beam_args = shlex.split(args.beam_args) if args.beam_args else []
    except ValueError as exc:
        raise UsageError(f"--beam-args cannot be split into arguments: {exc}") from None
    started = time.monotonic()
    try:
        rows = predict(args.output_dir, args.input, args.output, args.model, tuple(args.keep), beam_args,
                       args.model_dir)
    except inputs.BadRow as exc:
        if argv is not None:
            raise
        print(f"error: {exc}", file=sys.stderr)
        _leave(exc.exit_code)
    seconds = time.monotonic() - started
    print(f"Scored {rows:,} rows in {seconds:.1f} s: {args.output}")
    if argv is None:
        _leave(0)
    return 0


def _leave(code: int) -> None:
    """Exit now, as a command: the model Beam loaded is otherwise finalized at interpreter exit
    with a page of TensorFlow's "Exception ignored" noise on stderr. Everything is written by then."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
