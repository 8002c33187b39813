"""Score a file with a pushed model through Beam's RunInference, block by block.

    read blocks of rows (sources) -> Reshuffle -> RunInference(serving_default) -> one part file per block

An element is a block of ``inputs.BLOCK_ROWS`` rows (one serving call), not
a row: Beam's cost per element is then paid once per thousand rows. Blocks are
scored in any order, on any worker; each writes its own part file, named by
its place in the input, and ``write_in_order`` joins them in that order.
Every file (input, model, parts) goes through Beam's file systems, so the
same pipeline runs in this process, on local worker processes
(``--direct_running_mode=multi_processing``) or on a remote runner, with the
files on local disk, gs:// or s3://.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from typing import Iterable, Optional

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference

from pipeline.predict import inputs, outputs, sources

PART_PREFIX = "part-"
_BAD_ROW = re.compile(r"BadRow: (.*?)(?: \[while running|\n|$)")


class ServedModelHandler(ModelHandler):
    """A SavedModel with its signatures, for RunInference: ``serving_default`` parses serialized
    tf.Examples and runs the Transform graph, so a block of raw rows goes in as it is.

    Beam's ``TFModelHandlerTensor`` would load the model as a Keras model, and its module
    imports tensorflow_hub, which needs ``pkg_resources`` (gone from the locked setuptools);
    this handler does what it does (one model per worker process, shared by its threads)
    with ``tf.saved_model.load``. An element is a block of rows (``inputs.Block``), one per call.
    """

    def __init__(self, model_uri: str):
        super().__init__()
        self._model_uri = model_uri

    def load_model(self):
        import tensorflow as tf

        return tf.saved_model.load(local_model(self._model_uri))

    def run_inference(self, batch, model, inference_args=None) -> Iterable[PredictionResult]:
        return [PredictionResult(block, serve_block(model, block), self._model_uri)
                for block in batch]

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": 1}  # an element is already a block of rows

    def get_num_bytes(self, batch) -> int:
        # Beam's default pickles-and-measures each element for its metrics; a block's bytes are known.
        return sum(len(example) for block in batch for example in block.examples)

    def get_metrics_namespace(self) -> str:
        return "mtl_predict"


def local_model(model_uri: str) -> str:
    """A folder TensorFlow can load the model from: ``model_uri`` itself where TensorFlow reads its
    scheme (local, gs://); else (s3://: TF 2.16 has no S3 file system without tensorflow-io) a copy
    made through Beam's file systems into a temporary folder of this worker, once per worker process
    (RunInference loads a model once per process)."""
    import tensorflow as tf
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    scheme = model_uri.split("://", 1)[0] if "://" in model_uri else ""
    if scheme in tf.io.gfile.get_registered_schemes():
        return model_uri
    base = model_uri.rstrip("/") + "/"
    local = tempfile.mkdtemp(prefix="mtl-predict-model-")
    for found in FileSystems.match([base + "**"])[0].metadata_list:
        if found.path.endswith("/"):
            continue
        target = os.path.join(local, found.path[len(base):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with FileSystems.open(found.path, compression_type=CompressionTypes.UNCOMPRESSED) as src, \
                open(target, "wb") as dst:
            while chunk := src.read(8 << 20):
                dst.write(chunk)
    return local


def serve_block(model, block: inputs.Block) -> dict:
    """Task -> [rows, outputs] of one block; a row the signature rejects is a BadRow naming it."""
    import tensorflow as tf

    serve = model.signatures["serving_default"]
    try:
        return {k: v.numpy() for k, v in serve(examples=tf.constant(block.examples, tf.string)).items()}
    except tf.errors.InvalidArgumentError:
        pass
    for row, example in zip(block.rows, block.examples):  # which row: the rare path, one at a time
        try:
            serve(examples=tf.constant([example], tf.string))
        except tf.errors.InvalidArgumentError as exc:
            raise inputs.BadRow(f"{row_place(block.path, row)}: {_reason(exc.message)}") from None
    raise AssertionError("the block failed but none of its rows did")


def row_place(path: str, row: int) -> str:
    """'FILE line N' for a CSV row (``row`` is its byte offset), 'FILE record N' for a TFRecord."""
    if inputs.is_csv(path):
        return f"{path} line {inputs.line_at(path, row)}"
    return f"{path} record {row}"


def _reason(message: str) -> str:
    """What TensorFlow's error says about the row, without its graph and stack details."""
    found = re.search(r"feature '([^']+)' holds a NaN or an infinity", message)
    if found:
        return (f"column {found.group(1)!r} holds a NaN or an infinity; "
                "send finite values (leave the value out to have it imputed)")
    lines = [line.strip() for line in message.splitlines()]
    useful = [line for line in lines if line and not line.startswith(
        ("Graph execution error", "Detected at node", "File ", "[[", "in ", "Traceback"))]
    return re.sub(r"\s*\[\[.*", "", useful[-1] if useful else lines[0])


class WritePart(beam.DoFn):
    """A scored block as the part file of its place: CSV text, or TFRecords of tf.Example."""

    def __init__(self, parts_dir: str, tasks: list[outputs.OutputTask], keep: list[str], as_csv: bool):
        self.parts_dir, self.tasks, self.keep, self.as_csv = parts_dir, tasks, keep, as_csv

    def process(self, result: PredictionResult):
        from apache_beam.io.filesystems import FileSystems

        block = result.example
        values = outputs.columns(result.inference, self.tasks, block.kept, self.keep)
        path = f"{self.parts_dir}/{PART_PREFIX}{block.key}-{len(block.examples)}"
        if self.as_csv:
            data = outputs.csv_text(values).encode("utf-8")
        else:
            data = b"".join(map(tfrecord_frame, outputs.example_records(values, outputs.header(self.tasks, self.keep))))
        # Written under another name and renamed: a part that exists is complete (a retried bundle
        # writes the same part again).
        with FileSystems.create(path + ".writing", compression_type=CompressionTypes.UNCOMPRESSED) as f:
            f.write(data)
        if FileSystems.exists(path):
            FileSystems.delete([path])
        FileSystems.rename([path + ".writing"], [path])
        yield len(block.examples)


def tfrecord_frame(record: bytes) -> bytes:
    """One record in TFRecord framing (length, CRCs): TFRecord files join by concatenation."""
    import io

    from apache_beam.io.tfrecordio import _TFRecordUtil

    out = io.BytesIO()
    _TFRecordUtil.write_record(out, record)
    return out.getvalue()


def score_to_parts(source: str, files: list[str], model_dir: str, parts_dir: str,
                   input_columns: list[inputs.InputColumn], missing_values: list[str],
                   tasks: list[outputs.OutputTask], keep: list[str], as_csv: bool,
                   beam_args: Optional[list[str]] = None) -> None:
    """Runs the Beam pipeline on ``files`` (what the path or glob ``source`` matched); a BadRow raised
    on a worker is raised here again, as itself."""
    from apache_beam.options.pipeline_options import PipelineOptions

    handler = ServedModelHandler(model_dir)
    read = sources.block_source(source, files, input_columns, missing_values, keep)
    # Beam logs a failing step's traceback before raising; the error is reported once, by the caller.
    logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    try:
        with _workers_quiet(beam_args or []), beam.Pipeline(options=PipelineOptions(beam_args or [])) as pipeline:
            blocks = pipeline | "ReadBlocks" >> beam.io.Read(read)
            if beam_args:  # worker processes or a remote runner: spread the blocks over the workers
                blocks = blocks | "Spread" >> beam.Reshuffle()
            _ = (blocks
                 | "Score" >> RunInference(handler)
                 | "WritePart" >> beam.ParDo(WritePart(parts_dir, tasks, keep, as_csv)))
    except Exception as exc:  # a BadRow reaches here with the step's name added, or wrapped by a worker's runner
        found = _BAD_ROW.search(f"{type(exc).__name__}: {exc}")
        if found:
            raise inputs.BadRow(found.group(1)) from None
        raise


@contextlib.contextmanager
def _workers_quiet(beam_args: list[str]):
    """Local worker processes inherit this process's stderr, where Beam prints a failed bundle's
    traceback (and Python its import warnings); it reaches the caller in the raised error anyway,
    so while they run stderr is /dev/null, and it stays free for the one ``error:`` line."""
    if not any("multi_processing" in arg for arg in beam_args):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def part_files(parts_dir: str) -> list[str]:
    """The finished parts, in input order (their names hold the block's key)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        found = FileSystems.match([f"{parts_dir}/{PART_PREFIX}*"])[0].metadata_list
    except Exception:  # nothing written yet: some file systems raise for an empty match
        return []
    return sorted(m.path for m in found if not m.path.endswith(".writing"))


def rows_in_parts(parts_dir: str) -> int:
    """Rows scored so far (each part's name ends with its row count)."""
    return sum(int(path.rsplit("-", 1)[1]) for path in part_files(parts_dir))


def write_in_order(parts_dir: str, target, header_line: Optional[str]) -> int:
    """The parts joined in input order into the open binary file ``target``; returns the rows."""
    from apache_beam.io.filesystems import FileSystems

    if header_line is not None:
        target.write(header_line.encode("utf-8"))
    rows = 0
    for path in part_files(parts_dir):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as part:
            while chunk := part.read(8 << 20):
                target.write(chunk)  # TFRecord files join by concatenation too
        rows += int(path.rsplit("-", 1)[1])
    return rows
