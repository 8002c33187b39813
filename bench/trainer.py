"""Trainer: steady-state steps/s of run_fn's own input pipeline and model against in-memory tf_keras fit.

    python bench/trainer.py [--steps 600] [--repeats 3]

Measured: the Trainer's datasets (``models.input_pipeline.datasets``: the raw
TFRecords read and transformed as run_fn reads them) and its callbacks, fitting the model
run_fn builds and compiles. Ceiling: the same model and compile (same
metrics, batch size, step count and steps a call, ``STEPS_PER_EXECUTION``)
fitted with plain ``tf_keras`` on the same
transformed examples held in memory as numpy arrays. The two alternate in
one process; the first ``--skip`` steps of each fit (tracing, warm-up) are
not counted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


class StepClock:
    """Times of the training function's calls and the steps run by each; the steady state is the
    span after the first ``skip`` steps (with several steps a call, from the first call past them)."""

    def __init__(self, skip: int):
        from models.fit_steps import StepCallback

        clock = self

        class Callback(StepCallback):
            def on_steps(self, previous, step, logs):
                clock.steps.append(step)
                clock.times.append(time.perf_counter())
                clock.cpu_times.append(time.process_time())

        self.skip = skip
        self.steps: list[int] = []
        self.times: list[float] = []
        self.cpu_times: list[float] = []  # this process, all threads (input pipeline included)
        self.callback = Callback()

    def truncate(self, steps: int) -> None:
        """Only the calls within the first ``steps`` steps."""
        keep = sum(1 for s in self.steps if s <= steps)
        self.steps, self.times, self.cpu_times = self.steps[:keep], self.times[:keep], self.cpu_times[:keep]

    def _rate(self, times: list[float]) -> float:
        first = next(i for i, s in enumerate(self.steps) if s > self.skip)
        return (self.steps[-1] - self.steps[first]) / (times[-1] - times[first])

    def steps_per_s(self) -> float:
        return self._rate(self.times)

    def steps_per_cpu_s(self) -> float:
        return self._rate(self.cpu_times)


def fn_args_for(base: Path, work: Path, config, steps: int):
    from tfx.components.trainer import fn_args_utils
    from tfx.proto import trainer_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    examples = standard_artifacts.Examples()
    examples.uri = str(common.latest_artifact(base, "SyntheticExampleGen", "examples"))
    examples.split_names = '["train", "eval", "test"]'
    graph = standard_artifacts.TransformGraph()
    graph.uri = str(common.latest_artifact(base, "Transform", "transform_graph"))
    fn_args = fn_args_utils.get_common_fn_args(
        {"examples": [examples], "transform_graph": [graph]},
        {"train_args": proto_utils.proto_to_json(trainer_pb2.TrainArgs(num_steps=steps)),
         "eval_args": proto_utils.proto_to_json(trainer_pb2.EvalArgs(num_steps=config.training.eval_steps))})
    fn_args.transform_output = fn_args.transform_graph_path  # as the Trainer executor sets it
    fn_args.model_run_dir = str(work / "trainer-logs")
    fn_args.custom_config = config.to_custom_config()
    return fn_args


def in_memory(fn_args, tf_transform_output, config):
    """The transformed training examples as numpy (inputs, labels), read and transformed once."""
    import numpy as np
    import tensorflow as tf

    from models import features

    spec = tf_transform_output.raw_feature_spec()
    files = tf.io.gfile.glob(fn_args.train_files[0])
    parsed = (tf.data.TFRecordDataset(files, compression_type="GZIP").batch(4096)
              .map(lambda records: tf_transform_output.transform_raw_features(tf.io.parse_example(records, spec))))
    columns: dict[str, list] = {}
    for batch in parsed:
        for name, value in batch.items():
            columns.setdefault(name, []).append(value.numpy())
    arrays = {name: np.concatenate(parts) for name, parts in columns.items()}
    inputs = {features.transformed_name(f.name): arrays[features.transformed_name(f.name)]
              for f in config.features}
    labels = {task: arrays[label] for task, label in features.transformed_labels(config).items()}
    return inputs, labels


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="training steps per fit [600]")
    parser.add_argument("--skip", type=int, default=100, help="warm-up steps not counted [100]")
    args = parser.parse_args(argv)

    import tensorflow_transform as tft
    import tf_keras

    from models import callbacks, features, input_pipeline, trainer
    from models.builder import build_model, compile_model
    from config import build_config

    work = args.work_dir
    base = common.base_run(work)
    config = build_config({})
    fn_args = fn_args_for(base, work, config, args.steps)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    inputs, labels = in_memory(fn_args, tf_transform_output, config)
    n = len(next(iter(labels.values())))
    batch = config.training.batch_size

    def new_model():
        tf_keras.utils.set_random_seed(config.training.seed)
        model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
        return compile_model(build_model(config, model_inputs), config,
                             steps_per_execution=trainer.STEPS_PER_EXECUTION)

    def fit_in_memory() -> StepClock:
        clock = StepClock(args.skip)
        epochs = -(-(args.steps + 1) * batch // n)
        new_model().fit(inputs, labels, batch_size=batch, epochs=epochs, shuffle=True, verbose=0,
                        callbacks=[clock.callback])
        clock.truncate(args.steps)
        return clock

    def fit_trainer() -> StepClock:
        clock = StepClock(args.skip)
        model = new_model()
        train, evaluation = input_pipeline.datasets(fn_args, tf_transform_output, config)
        model.fit(train, steps_per_epoch=args.steps, epochs=1, verbose=0,
                  callbacks=callbacks.callbacks(fn_args, config, args.steps) + [clock.callback])
        return clock

    ceiling, measured = [], []
    for _ in range(args.repeats):
        ceiling.append(fit_in_memory())
        measured.append(fit_trainer())
    result = {"train_examples": n, "batch_size": batch, "steps": args.steps, "skip": args.skip,
              "target_ratio": 0.8}
    rows = []
    for clock, rate in (("wall", "steps_per_s"), ("cpu", "steps_per_cpu_s")):
        c = [getattr(x, rate)() for x in ceiling]
        m = [getattr(x, rate)() for x in measured]
        ratio = common.median(m) / common.median(c)
        result.update({f"in_memory_{rate}": c, f"trainer_{rate}": m, f"ratio_{clock}": ratio})
        rows += [[f"tf_keras in memory (ceiling), {clock}", common.median(c), 1000 / common.median(c), 1.0],
                 [f"Trainer input path + model, {clock}", common.median(m), 1000 / common.median(m), ratio]]
    common.print_table(
        f"Trainer, batch {batch}, {args.steps} steps a fit, steady state after {args.skip} "
        f"(medians of {args.repeats}; ceiling: tf_keras fit on {n:,} examples in memory; "
        "cpu: steps per CPU second of this process)",
        ["what", "steps/s", "ms/step", "vs ceiling"], rows)
    common.write_json(work, "trainer", result)
    return result


if __name__ == "__main__":
    main()
