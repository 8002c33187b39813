"""Evaluator time with confidence intervals off, jackknife and Poisson bootstrap.

    python bench/eval_intervals.py --run-dir ./outputs --eval-examples 20000 --repeats 3

Uses a finished run's trained model and the first ``--eval-examples`` records
of its eval split, and runs TFX's Evaluator executor (TFMA, the pipeline's own
EvalConfig: every task's metrics, gates and slices) in this process once per
method and repeat, interleaved so that machine load affects every method alike.
Prints median wall and CPU seconds (this process: Beam's in-process runner
works in its threads) per method and the ratio to intervals off (the ceiling
measured in the same command). On a shared machine the CPU seconds are the
steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

METHODS = ("none", "jackknife", "poisson_bootstrap")


def _latest_uri(run_dir: Path, node_id: str, key: str) -> str:
    from config import build_config
    from pipeline.results import mlmd

    store = mlmd.open_store(run_dir / "metadata.sqlite")
    run = mlmd.latest_node_run(store, build_config({}).pipeline_name, node_id)
    if run is None:
        raise SystemExit(f"{run_dir} has no finished {node_id}: run the pipeline there first")
    return run.output(key).uri


def eval_subset(examples_uri: str, num_examples: int, work: Path, name: str = "examples") -> tuple[Path, int]:
    """An Examples folder whose eval split holds ``num_examples`` of the run's eval records."""
    import tensorflow as tf

    files = sorted(tf.io.gfile.glob(f"{examples_uri}/Split-eval/*"))
    # Cycled when the split is smaller: the cost depends on the count, not on distinct values.
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").repeat().take(num_examples)
    target = work / name / "Split-eval"
    target.mkdir(parents=True)
    count = 0
    with tf.io.TFRecordWriter(str(target / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record in dataset:
            writer.write(record.numpy())
            count += 1
    return target.parent, count


def run_evaluator(model_uri: str, examples_uri: Path, output: Path, method: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one Evaluator executor run with this interval method, as the pipeline runs it."""
    from bench.evaluator import run_evaluator as run_executor
    from config import build_config
    from components.eval_config import EVALUATOR_MODULE

    config = build_config({"evaluation": {"confidence_intervals": method}})
    start, cpu_start = time.perf_counter(), time.process_time()
    run_executor(Path(model_uri), examples_uri, output, config, baseline=False, beam_args=[],
                 module_path=EVALUATOR_MODULE)
    return time.perf_counter() - start, time.process_time() - cpu_start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a finished run's --output-dir")
    parser.add_argument("--eval-examples", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args(argv)
    methods = args.methods.split(",")

    model_uri = _latest_uri(args.run_dir, "Trainer", "model")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = _latest_uri(args.run_dir, "SyntheticExampleGen", "examples")
        examples_uri, n = eval_subset(source, args.eval_examples, work)
        warmup_uri, _ = eval_subset(source, 500, work, "warmup-examples")
        run_evaluator(model_uri, warmup_uri, work / "warmup", "none")  # imports and traces once
        seconds = {m: [] for m in methods}
        for repeat in range(args.repeats):
            for method in methods:
                seconds[method].append(run_evaluator(model_uri, examples_uri, work / f"{method}-{repeat}", method))
                wall, cpu = seconds[method][-1]
                print(f"  {method} run {repeat + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    print(f"Evaluator, {n:,} eval examples, medians of {args.repeats} interleaved runs:")
    print(f"{'intervals':<20}{'wall s':>9}{'CPU s':>9}{'examples/CPU s':>16}{'wall vs ' + methods[0]:>16}"
          f"{'CPU vs ' + methods[0]:>15}")
    result = {"eval_examples": n, "repeats": args.repeats, "seconds_wall_cpu": seconds}
    ceiling = [statistics.median(s[i] for s in seconds[methods[0]]) for i in (0, 1)]
    for method in methods:
        wall, cpu = (statistics.median(s[i] for s in seconds[method]) for i in (0, 1))
        print(f"{method:<20}{wall:>9.1f}{cpu:>9.1f}{n / cpu:>16.0f}{wall / ceiling[0]:>16.2f}{cpu / ceiling[1]:>15.2f}")
        result[method] = {"median_wall_s": wall, "median_cpu_s": cpu, "examples_per_cpu_s": n / cpu,
                          "wall_ratio": wall / ceiling[0], "cpu_ratio": cpu / ceiling[1]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
