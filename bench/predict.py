"""Batch scoring: rows/s of ``mtl-predict`` against calling serving_default in-process in batches of 1,000.

    python bench/predict.py [--rows 1000000] [--repeats 3] [--beam-args='...'] [--output-dir D]

Measured: ``mtl-predict``'s whole scoring (``pipeline.predict.cli.predict``:
the configuration from ML Metadata, the model loaded, the Beam pipeline with
RunInference, the part files joined into one CSV) on synthetic rows written as
gzipped TFRecords, in this process after the imports. Ceiling: the same
model's ``serving_default`` called here on the same records, already in
memory, 1,000 at a time (the Evaluator benchmark's ceiling). The two alternate
in each repeat so both see the same machine; the medians are compared.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

BATCH = 1000
TARGET_RATIO = 0.3


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows scored [1,000,000]")
    parser.add_argument("--beam-args", default="", help="Beam arguments for mtl-predict [in process]")
    parser.add_argument("--output-dir", type=Path,
                        help="a pipeline output dir with a pushed model of the default synthetic data "
                             "[a base run made in the work dir]")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from bench import eval_data
    from pipeline.predict.cli import predict, pushed_model

    output_dir = args.output_dir or common.base_run(args.work_dir)
    source = next((eval_data.examples_dir(args.work_dir, args.rows) / "Split-eval").glob("*.gz"))
    records = eval_data.read_records(source.parent.parent)
    model_dir = pushed_model(output_dir, None)
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    serve(examples=tf.constant(records[:BATCH]))  # traced and warm

    def ceiling():
        for start in range(0, len(records), BATCH):
            serve(examples=tf.constant(records[start:start + BATCH]))

    target = args.work_dir / "predictions.csv"
    beam_args = shlex.split(args.beam_args)
    measured, best = common.Timing(), common.Timing()
    for _ in range(args.repeats):
        best.add(ceiling)
        rows = measured.add(lambda: predict(output_dir, str(source), target, beam_args=beam_args))
        assert rows == len(records), (rows, len(records))
    ratio = best.median_wall / measured.median_wall
    result = {"rows": len(records), "beam_args": beam_args, "repeats": args.repeats,
              "mtl_predict": measured.as_dict(), "ceiling": best.as_dict(),
              "mtl_predict_rows_per_s": len(records) / measured.median_wall,
              "ceiling_rows_per_s": len(records) / best.median_wall,
              "ratio": ratio, "target_ratio": TARGET_RATIO}
    common.print_table(f"Batch scoring, {len(records):,} rows, median of {args.repeats} "
                       f"(ceiling: serving_default in-process, batches of {BATCH:,})",
                       ["what", "s", "rows/s", "vs ceiling"],
                       [["mtl-predict" + (f" {args.beam_args}" if args.beam_args else ""), measured.median_wall,
                         result["mtl_predict_rows_per_s"], ratio],
                        ["serving_default, in memory", best.median_wall, result["ceiling_rows_per_s"], 1.0]])
    common.write_json(args.work_dir, "predict", result)
    return result


if __name__ == "__main__":
    main()
