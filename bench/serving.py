"""Serving: p50/p99 latency of the pushed model's ``serving_default`` against the bare Keras model.

    python bench/serving.py [--calls 500] [--repeats 3]

Measured: the SavedModel's ``serving_default`` signature on serialized raw
tf.Examples (parse, Transform graph, model), as a model server calls it.
Ceiling: the same Keras model, loaded from the same SavedModel, called in a
``tf.function`` on the already transformed tensors of the same examples. At
batch 1 and 256; the two alternate in blocks so both see the same machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def latencies(fn, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="timed calls per block [500]")
    args = parser.parse_args(argv)

    import tensorflow as tf
    import tf_keras

    from bench import eval_data
    from models import features
    from config import build_config

    config = build_config({})
    model_dir = common.latest_artifact(common.base_run(args.work_dir), "Trainer", "model") / "Format-Serving"
    records = eval_data.serialized_examples(256)
    loaded = tf.saved_model.load(str(model_dir))
    serve = loaded.signatures["serving_default"]
    transform = loaded.signatures["transform_features"]
    model = tf_keras.models.load_model(str(model_dir), compile=False)
    input_names = [features.transformed_name(f.name) for f in config.features]
    bare = tf.function(lambda inputs: model(inputs, training=False))

    rows, result = [], {"calls": args.calls, "repeats": args.repeats}
    for batch in (1, 256):
        examples = tf.constant(records[:batch])
        transformed = transform(examples=examples)
        inputs = {name: transformed[name] for name in input_names}
        calls = {"serving_default": lambda: serve(examples=examples), "bare model": lambda: bare(inputs)}
        for fn in calls.values():
            latencies(fn, 50)  # traces and warms up
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, fn in calls.items():
                samples[name] += latencies(fn, args.calls)
        stats = {name: {"p50_ms": 1000 * percentile(v, 50), "p99_ms": 1000 * percentile(v, 99)}
                 for name, v in samples.items()}
        for q in ("p50_ms", "p99_ms"):
            stats[f"ratio_{q[:3]}"] = stats["serving_default"][q] / stats["bare model"][q]
        result[f"batch_{batch}"] = stats
        for name in calls:
            rows.append([f"batch {batch}: {name}", stats[name]["p50_ms"], stats[name]["p99_ms"],
                         stats["serving_default"]["p50_ms"] / stats["bare model"]["p50_ms"]
                         if name == "serving_default" else 1.0])
    result["target_ratio_p50"] = {"batch_1": 3.0, "batch_256": 1.5}
    common.print_table(f"Serving latency, {args.repeats} blocks of {args.calls} calls "
                       "(ceiling: the bare Keras model on transformed tensors)",
                       ["what", "p50 ms", "p99 ms", "p50 vs ceiling"], rows)
    common.write_json(args.work_dir, "serving", result)
    return result


if __name__ == "__main__":
    main()
