"""Evaluator on own tables (binary and multiclass tasks) against the synthetic default's, in one command.

    python bench/eval_own_data.py [--repeats 3] [--runs-dir outputs/bench/own-data]

First runs the pipeline once per table (or reuses finished runs in
``--runs-dir``): the synthetic default as the issue measured it
(3,000 examples, 2 regression tasks), ``data/sample.yaml`` (1 regression +
2 binary tasks, slices) and ``data/penguins.yaml`` (multiclass + binary +
regression). Then runs TFX's Evaluator executor in this process on each run's
trained model and eval split, with the configuration as the run resolved it
(default jackknife intervals), interleaved and repeated so that machine load
affects each alike. Prints median wall and CPU seconds (this process) and each
table's ratio to the synthetic default; the target is at most 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

TABLES = {
    "synthetic default": ["--num-examples", "3000", "--correlation", "0.5", "--train-steps", "2000", "--seed", "7"],
    "data/sample.yaml": ["--config", "data/sample.yaml"],
    "data/penguins.yaml": ["--config", "data/penguins.yaml"],
}
TARGET_RATIO = 2.0


def finished_run(run_dir: Path, args: list[str]) -> Path:
    """``run_dir`` with a finished run of these arguments (made here the first time)."""
    if not list((run_dir / "logs").glob("*.config.yaml")) or not (run_dir / "serving").is_dir():
        common.run_pipeline(run_dir, *args)
    return run_dir


def run_inputs(run_dir: Path):
    """(config as run, trained model uri, examples uri) of the run's latest Trainer and Evaluator inputs."""
    from config import build_config, load_config_file
    from pipeline.results import mlmd

    config_path = max((run_dir / "logs").glob("*.config.yaml"))
    config = build_config(load_config_file(config_path), base_dir=str(common.REPO))
    store = mlmd.open_store(run_dir / "metadata.sqlite")
    trainer = mlmd.latest_node_run(store, config.pipeline_name, "Trainer")
    examples = next(mlmd.latest_node_run(store, config.pipeline_name, name)
                    for name in ("SyntheticExampleGen", "CsvExampleGen", "ImportExampleGen")
                    if mlmd.latest_node_run(store, config.pipeline_name, name) is not None)
    return config, Path(trainer.output("model").uri), Path(examples.output("examples").uri)


def eval_rows(examples_uri: Path) -> int:
    import tensorflow as tf

    files = tf.io.gfile.glob(f"{examples_uri}/Split-eval/*")
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", type=Path, default=common.DEFAULT_WORK_DIR / "own-data",
                        help="finished runs, one folder per table (made when missing)")
    args = parser.parse_args(argv)

    from bench.evaluator import run_evaluator
    from components.eval_config import EVALUATOR_MODULE

    inputs = {}
    for i, (name, run_args) in enumerate(TABLES.items()):
        run_dir = finished_run(args.runs_dir / f"table-{i}", run_args)
        config, model, examples = run_inputs(run_dir)
        inputs[name] = (config, model, examples, eval_rows(examples))
    work = args.work_dir / "eval-own-data"
    timings = {name: common.Timing() for name in inputs}
    for repeat in range(args.repeats + 1):
        # Round 0 runs the synthetic default only, untimed: it warms up imports and traces.
        for name, (config, model, examples, _) in list(inputs.items())[:1 if repeat == 0 else None]:
            output = work / f"{name.replace('/', '_')}-{repeat}"
            start, cpu = time.perf_counter(), time.process_time()
            run_evaluator(model, examples, output, config, baseline=False, beam_args=[],
                          module_path=EVALUATOR_MODULE)
            if repeat:
                timings[name].wall.append(time.perf_counter() - start)
                timings[name].cpu.append(time.process_time() - cpu)
                print(f"  {name} run {repeat}: {timings[name].wall[-1]:.1f} s wall, "
                      f"{timings[name].cpu[-1]:.1f} s CPU", flush=True)
    ceiling = timings["synthetic default"]
    rows, result = [], {"repeats": args.repeats, "target_ratio": TARGET_RATIO, "tables": {}}
    for name, timing in timings.items():
        wall_ratio, cpu_ratio = timing.median_wall / ceiling.median_wall, timing.median_cpu / ceiling.median_cpu
        rows.append([name, inputs[name][3], timing.median_wall, timing.median_cpu, wall_ratio, cpu_ratio])
        result["tables"][name] = {"eval_rows": inputs[name][3], **timing.as_dict(), "wall_ratio": wall_ratio,
                                  "cpu_ratio": cpu_ratio}
    common.print_table(f"Evaluator (default intervals), medians of {args.repeats} interleaved runs; "
                       f"target: at most {TARGET_RATIO:g}x the synthetic default",
                       ["table", "eval rows", "wall s", "CPU s", "wall vs synthetic", "CPU vs synthetic"], rows)
    common.write_json(args.work_dir, "eval-own-data", result)
    return result


if __name__ == "__main__":
    main()
