"""Evaluator: eval examples/s of TFX's Evaluator against calling the model's own signatures.

    python bench/evaluator.py [--eval-examples 200000] [--repeats 1] [--baseline] [--config data/synthetic_binary.yaml]

Ceiling: the trained model's ``transform_features`` then ``serving_default``
signatures on the same serialized examples, in batches of 1,000, in this
process. Measured: TFX's Evaluator executor (TFMA with the pipeline's own
EvalConfig: every task's metrics, gates and the default slices) on the same
examples, also in this process, with the in-process DirectRunner.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def signature_ceiling(model_dir: Path, records: list[bytes], repeats: int, batch: int = 1000) -> common.Timing:
    import tensorflow as tf

    model = tf.saved_model.load(str(model_dir))
    transform, serve = model.signatures["transform_features"], model.signatures["serving_default"]
    batches = [tf.constant(records[i:i + batch]) for i in range(0, len(records), batch)]

    def one_pass():
        for examples in batches:
            transform(examples=examples)
            serve(examples=examples)

    one_pass()  # traces and warms up
    return common.timed(one_pass, repeats)


def run_evaluator(model_uri: Path, examples_uri: Path, output_dir: Path, config, baseline: bool,
                  beam_args: list[str], module_path: str | None = None) -> None:
    """TFX's Evaluator executor on the artifacts, as the pipeline configures it."""
    from tfx.components.evaluator import executor as evaluator_executor
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from components.eval_config import build_eval_config

    examples = standard_artifacts.Examples()
    examples.uri = str(examples_uri)
    examples.split_names = '["eval"]'
    model = standard_artifacts.Model()
    model.uri = str(model_uri)
    inputs = {"examples": [examples], "model": [model]}
    if baseline:
        baseline_model = standard_artifacts.Model()
        baseline_model.uri = str(model_uri)
        inputs["baseline_model"] = [baseline_model]
    evaluation = standard_artifacts.ModelEvaluation()
    evaluation.uri = str(output_dir / "evaluation")
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(output_dir / "blessing")
    for artifact in (evaluation, blessing):
        Path(artifact.uri).mkdir(parents=True, exist_ok=True)
    exec_properties = {"eval_config": proto_utils.proto_to_json(build_eval_config(config)),
                       "example_splits": "null"}
    if module_path:
        exec_properties["module_path"] = module_path
    executor = evaluator_executor.Executor(BaseBeamExecutor.Context(
        beam_pipeline_args=beam_args, tmp_dir=str(output_dir / "tmp"), unique_id="bench"))
    executor.Do(inputs, {"evaluation": [evaluation], "blessing": [blessing]}, exec_properties)


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--eval-examples", type=int, default=20_000,
                        help="eval examples (the 1M-example run has about 200,000) [20000]")
    parser.add_argument("--baseline", action="store_true",
                        help="also evaluate a baseline model, as every run after the first does")
    parser.add_argument("--beam-args", default="", help="Beam arguments for the Evaluator")
    parser.add_argument("--config", type=Path,
                        help="a synthetic-data config whose tasks to evaluate, e.g. data/synthetic_binary.yaml "
                             "(one regression, one binary task) [the default: two regression tasks]")
    parser.add_argument("--per-example", action="store_true",
                        help="TFMA's default extractors (one example at a time) instead of the pipeline's slice groups")
    args = parser.parse_args(argv)

    from bench import eval_data
    from config import build_config, load_config_file
    from components.eval_config import EVALUATOR_MODULE

    work = args.work_dir
    config = build_config(load_config_file(args.config) if args.config else {})
    base = common.base_run(work, config=args.config)
    model_uri = common.latest_artifact(base, "Trainer", "model")
    examples_uri = eval_data.examples_dir(work, args.eval_examples, config.data if args.config else None)
    records = eval_data.read_records(examples_uri)
    n = len(records)

    ceiling = signature_ceiling(model_uri / "Format-Serving", records, max(3, args.repeats))
    module_path = None if args.per_example else EVALUATOR_MODULE
    evaluator = common.Timing()
    for i in range(args.repeats):
        evaluator.add(lambda: run_evaluator(model_uri, examples_uri, work / f"evaluator-run-{i}", config,
                                            args.baseline, args.beam_args.split(), module_path))
    rows, result = [], {"eval_examples": n, "baseline": args.baseline, "repeats": args.repeats,
                        "tasks": {task.name: task.type for task in config.tasks},
                        "extractors": module_path or "tfma default",
                        "signatures": ceiling.as_dict(), "evaluator": evaluator.as_dict(),
                        "target_examples_per_s": 10_000}
    for clock in ("wall", "cpu"):
        rate = n / getattr(evaluator, f"median_{clock}")
        ceiling_rate = n / getattr(ceiling, f"median_{clock}")
        result[f"evaluator_examples_per_{clock}_s"] = rate
        result[f"signatures_examples_per_{clock}_s"] = ceiling_rate
        result[f"ratio_{clock}"] = rate / ceiling_rate
        rows += [[f"signatures (ceiling), {clock}", getattr(ceiling, f"median_{clock}"), ceiling_rate, 1.0],
                 [f"Evaluator{' + baseline' if args.baseline else ''}, {clock}",
                  getattr(evaluator, f"median_{clock}"), rate, rate / ceiling_rate]]
    common.print_table(
        f"Evaluator, {n:,} eval examples (medians of {args.repeats} runs; ceiling: signatures, batches of 1,000; "
        "cpu = this process's CPU seconds)", ["what", "seconds", "examples/s", "vs ceiling"], rows)
    common.write_json(work, f"evaluator-{args.config.stem + '-' if args.config else ''}{n}", result)
    return result


if __name__ == "__main__":
    main()
