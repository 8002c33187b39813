"""ExampleGen: examples/s of the SyntheticExampleGen against numpy + TFRecordWriter in a tight loop.

    python bench/example_gen.py [--num-examples 100000] [--repeats 3] [--beam-args '...']

Ceiling: the same arrays from the pure-numpy generator, serialized as the
executor serializes them (``executor.shard_records``), written with ``tf.io.TFRecordWriter``
(gzipped, as ExampleGen writes) in one loop. Measured: the component's own
executor (Beam, in this process unless ``--beam-args`` says otherwise),
splits and all, on the same examples.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def write_ceiling(data, path: Path) -> int:
    import tensorflow as tf

    from components import synthetic_data
    from components.synthetic_example_gen import executor

    weights = synthetic_data.draw_task_weights(data.seed, data.example_dim, data.c, data.correlation, data.m,
                                               data.num_tasks)
    count = 0
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for shard in synthetic_data.plan_shards(data.num_examples, data.num_shards):
            _, records = executor.shard_records(shard, weights, data.seed, data.example_dim, data.binary_labels)
            for record in records:
                writer.write(record)
            count += len(records)
    return count


def run_executor(data, output_dir: Path, beam_args: list[str]) -> None:
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from components.synthetic_example_gen import component, executor

    spec = component.SyntheticExampleGen(data_config=data.model_dump(mode="json")).exec_properties
    exec_properties = {key: (proto_utils.proto_to_json(value) if hasattr(value, "DESCRIPTOR") else value)
                       for key, value in spec.items()}
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    executor.Executor(BaseBeamExecutor.Context(beam_pipeline_args=beam_args, tmp_dir=str(output_dir) + ".tmp",
                                               unique_id="bench")).Do({}, {"examples": [examples]},
                                                                      exec_properties)


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--num-examples", type=int, default=100_000, help="examples [100000]")
    parser.add_argument("--beam-args", default="", help="Beam arguments for the executor")
    args = parser.parse_args(argv)

    from config import SyntheticData

    data = SyntheticData(num_examples=args.num_examples)
    work = args.work_dir / "example_gen"
    work.mkdir(parents=True, exist_ok=True)
    # Imports and first-use set-up (TF, Beam) are not part of either figure.
    write_ceiling(SyntheticData(num_examples=100), work / "warm-up.gz")
    run_executor(SyntheticData(num_examples=100), work / "warm-up", [])
    ceiling, measured = common.Timing(), common.Timing()
    for i in range(args.repeats):
        ceiling.add(lambda: write_ceiling(data, work / "ceiling.gz"))
        out = work / f"executor-{i}"
        shutil.rmtree(out, ignore_errors=True)
        measured.add(lambda: run_executor(data, out, args.beam_args.split()))
    n = args.num_examples
    rows, result = [], {"num_examples": n, "num_shards": data.num_shards, "beam_args": args.beam_args,
                        "ceiling": ceiling.as_dict(), "executor": measured.as_dict(), "target_ratio": 0.5}
    for clock in ("wall", "cpu"):
        c, m = getattr(ceiling, f"median_{clock}"), getattr(measured, f"median_{clock}")
        result[f"ratio_{clock}"] = c / m
        rows += [[f"numpy + TFRecordWriter (ceiling), {clock}", c, n / c, 1.0],
                 [f"SyntheticExampleGen, {clock}", m, n / m, c / m]]
    common.print_table(f"ExampleGen, {n:,} examples (medians of {args.repeats}; cpu = this process only)",
                       ["what", "seconds", "examples/s", "vs ceiling"], rows)
    common.write_json(args.work_dir, f"example_gen-{n}", result)
    print(json.dumps({"ratio_wall": result["ratio_wall"]}))
    return result


if __name__ == "__main__":
    main()
