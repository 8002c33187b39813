"""The Trainer's run_fn: train the configured model, export it with its serving signatures.

Exported signatures:
- ``serving_default``: serialized raw tf.Examples (input ``examples``), parsed
  with the Transform's raw feature spec of the model inputs -> one output per
  task, keyed by task name. The Transform graph is inside, so raw examples go in.
  A regression task's output is on the label's original scale (the model
  fits the standardized label; the signature multiplies by the training
  split's standard deviation and adds its mean); a binary task's probability
  is clipped to [1e-7, 1 - 1e-7], as Keras clips it in its log loss, so log
  loss stays finite. A multiclass task's output is its class probabilities,
  [batch, number of classes], in the order of the task's classes. Examples
  are keyed by the columns' names as the file's header has them.
  A NaN or an infinity in a numeric input is an error naming the feature
  (``models.request_checks``).
- ``transform_features``: serialized raw tf.Examples with labels (and numeric
  slice features, and the example weight column) -> the transformed features,
  labels, per-task weights and slice buckets. TFMA runs it first: it reads
  the labels and weights from its output, so a string label (``">50K"``) is
  scored as 0/1, a row without a task's label is left out of that task's
  metrics, and it slices on the ``<name>_bucket`` outputs.
- ``class_names`` (only with multiclass tasks; no input): task -> its class
  names, in the order of its probabilities.
"""

from __future__ import annotations

import json
import os
import time
from typing import Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from models import budget, features
from models.builder import build_model, compile_model
from models.fit_steps import StepCallback, crossed
from models.gates import mean_gate_weights
from models.request_checks import reject_non_finite
from models.task_weighting import LogTaskWeights, save_learned_weights
from pipeline.cli.status_line import TRAINER_PROGRESS
from pipeline.config import PipelineConfig
from pipeline.config.tuning import trained_config
from pipeline.results.gate_weights import GATE_WEIGHTS_FILE

PROBABILITY_EPSILON = 1e-7  # as Keras clips probabilities in its log loss


# Records parsed together: parsing is per batch, not per example.
PARSE_BATCH = 1024
SHUFFLE_BUFFER = 10_000
# Parsed examples are kept in memory (cache) when the transformed files, which
# are gzipped floats, are below this share of the machine's memory.
CACHE_MEMORY_SHARE = 0.15
# ... and when training reads them at least this often: a large split read once or
# twice (1M examples: 1.6 times in 10,000 steps) gains little from memory and the
# table cost the run 1 GB of its peak memory.
MIN_PASSES_IN_MEMORY = 2
# Training steps run in one call of the compiled training function. Keras'
# fit loop costs about 0.4 ms of Python a call (callbacks, logs, dispatch);
# with 10 steps a call the default model's step takes 0.7 ms instead of 1.7
# in memory. Training is the same step for step (bit-identical weights);
# callbacks see one batch end a call (models.fit_steps), and an epoch (an
# early-stopping check) still ends on its own step.
STEPS_PER_EXECUTION = 10


def _files(file_patterns) -> list[str]:
    patterns = [file_patterns] if isinstance(file_patterns, str) else list(file_patterns)
    return sorted({f for pattern in patterns for f in tf.io.gfile.glob(pattern)})


def fits_in_memory(files: list[str], share: float = CACHE_MEMORY_SHARE) -> bool:
    """Whether the parsed examples (about twice their gzipped size) fit in ``share`` of the memory."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return False
    return 2 * sum(tf.io.gfile.stat(f).length for f in files) <= share * memory


def _dataset(file_patterns, feature_spec: dict, config: PipelineConfig, batch_size: int,
             one_pass: bool = False, in_memory: Optional[bool] = None) -> tf.data.Dataset:
    """(inputs by transformed name, labels the model fits by task name, sample weights by task name),
    shuffled and repeated; with ``one_pass``, every example once, in the order read (the files
    interleaved, a record from each in turn).

    A task's sample weight is 0 where its label is missing: the row trains the other tasks only.

    The transformed (gzipped) records are read and parsed a large batch at a
    time, each example's features packed into one tensor (``ColumnPacking``).
    When they fit in memory, the training examples are read once into one
    table and batches are gathered from it by shuffled row numbers: the
    shuffle (the same ``SHUFFLE_BUFFER``, the same seed) then moves one number
    an example instead of the example, and gives the order it gives the
    examples themselves. Otherwise they stream from the files, shuffled by
    example; a one-pass set is cached when it fits.

    ``feature_spec``: the transformed feature spec; ``in_memory``: whether
    the examples are held in memory (None: when they fit, ``fits_in_memory``).
    """
    input_names = [features.transformed_name(f.name) for f in config.features]
    label_names = features.training_labels(config)
    weight_names = features.label_weights(config)
    names = list(dict.fromkeys([*input_names, *label_names.values(), *weight_names.values()]))
    spec = {name: feature_spec[name] for name in names}
    files = _files(file_patterns)
    records = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda path: tf.data.TFRecordDataset(path, compression_type="GZIP"),
        cycle_length=max(1, min(len(files), 4)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    packing = ColumnPacking(spec)
    parsed = records.batch(PARSE_BATCH).map(lambda batch: packing.pack(tf.io.parse_example(batch, spec)),
                                            num_parallel_calls=tf.data.AUTOTUNE)

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task: batch[label] for task, label in label_names.items()}
        weights = {task: batch[weight] for task, weight in weight_names.items()}
        return inputs, labels, weights

    in_memory = fits_in_memory(files) if in_memory is None else in_memory
    if not one_pass and in_memory and packing.packs_everything:
        table = {key: tf.concat(parts, axis=0) for key, parts in _columns(parsed).items()}
        rows = int(next(iter(table.values())).shape[0]) if table else 0
        if rows:
            order = tf.data.Dataset.range(rows).shuffle(SHUFFLE_BUFFER).repeat().batch(batch_size)
            return (order.map(lambda i: split(packing.unpack({key: tf.gather(values, i)
                                                             for key, values in table.items()})),
                              num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    if in_memory:
        parsed = parsed.cache()
    examples = parsed.unbatch()
    if not one_pass:
        examples = examples.shuffle(SHUFFLE_BUFFER).repeat()
    return (examples.batch(batch_size)
            .map(lambda packed: split(packing.unpack(packed)), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def _columns(batches: tf.data.Dataset) -> dict[str, list]:
    """Each key's tensors over all the (finite) dataset's elements, in order."""
    columns: dict[str, list] = {}
    for batch in batches:
        for key, value in batch.items():
            columns.setdefault(key, []).append(value)
    return columns


class ColumnPacking:
    """Parsed fixed-length features packed into one [batch, width] tensor per dtype, and back.

    Unbatching and shuffling cost per example and per tensor; an example that
    is one tensor instead of one per feature shuffles at a fraction of the
    cost. Values are sliced back out unchanged. Features that are not
    fixed-length (sparse, ragged) are left as they are.
    """

    def __init__(self, spec: dict):
        self.columns: dict = {}  # dtype -> [(name, shape, start, stop)]
        self.others: list[str] = []
        for name, feature in spec.items():
            if not isinstance(feature, tf.io.FixedLenFeature):
                self.others.append(name)
                continue
            shape = list(feature.shape)
            group = self.columns.setdefault(feature.dtype, [])
            start = group[-1][3] if group else 0
            group.append((name, shape, start, start + int(np.prod(shape, dtype=np.int64))))

    @property
    def packs_everything(self) -> bool:
        return not self.others

    def pack(self, batch: dict) -> dict:
        packed = {f"packed_{dtype.name}": tf.concat(
            [tf.reshape(batch[name], [-1, stop - start]) for name, _, start, stop in group], axis=1)
            for dtype, group in self.columns.items()}
        return {**packed, **{name: batch[name] for name in self.others}}

    def unpack(self, packed: dict) -> dict:
        batch = {name: packed[name] for name in self.others}
        for dtype, group in self.columns.items():
            values = packed[f"packed_{dtype.name}"]
            for name, shape, start, stop in group:
                batch[name] = tf.reshape(values[..., start:stop], [-1, *shape])
        return batch


def count_examples(file_patterns: list[str], limit=None) -> int:
    """Records in the (gzipped) transformed example files, counting at most ``limit``."""
    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if limit is not None:
        records = records.take(limit)
    return int(records.reduce(np.int64(0), lambda count, _: count + 1))


def label_scale(scaled_at_0: float, scaled_at_1: float) -> tuple[float, float]:
    """(mean, std) of a z-scored label, from what the scaling maps 0 and 1 to."""
    std = 1.0 / (scaled_at_1 - scaled_at_0)
    return -scaled_at_0 * std, std


def _raw_value_example(column: str, spec, value: int) -> bytes:
    example = tf.train.Example()
    feature = example.features.feature[column]
    if spec.dtype == tf.string:
        feature.bytes_list.value.append(str(value).encode())
    elif spec.dtype == tf.int64:
        feature.int64_list.value.append(value)
    else:
        feature.float_list.value.append(float(value))
    return example.SerializeToString()


def label_scales(tf_transform_output: tft.TFTransformOutput, config: PipelineConfig) -> dict[str, tuple]:
    """Task name -> (mean, std) Transform standardized its label with, read off the Transform graph."""
    raw_spec = tf_transform_output.raw_feature_spec()
    layer = tf_transform_output.transform_features_layer()
    scales = {}
    for task, training_label in features.training_labels(config).items():
        label = next(t.label for t in config.tasks if t.name == task)
        if training_label == features.transformed_name(label):
            continue  # not scaled
        examples = tf.constant([_raw_value_example(label, raw_spec[label], v) for v in (0, 1)])
        scaled = layer(tf.io.parse_example(examples, {label: raw_spec[label]}))[training_label]
        at_0, at_1 = (float(v) for v in tf.reshape(scaled, [-1]).numpy())
        scales[task] = label_scale(at_0, at_1)
    return scales


class BestWeights(tf_keras.callbacks.Callback):
    """Early stopping on the eval loss; the weights of the best check are restored at the end.

    Without ``patience`` it never stops early, and the last weights are kept.
    """

    def __init__(self, patience):
        super().__init__()
        self.patience = patience
        self.best_loss = np.inf
        self.best_check = None
        self.best_weights = None
        self.checks_run = 0
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        self.checks_run = epoch + 1
        if self.patience is None:
            return
        loss = (logs or {}).get("val_loss", np.nan)
        if np.isfinite(loss) and loss < self.best_loss:
            self.best_loss, self.best_check, self.wait = loss, epoch + 1, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None and self.best_check != self.checks_run:
            self.model.set_weights(self.best_weights)


def _signatures(model: tf_keras.Model, tf_transform_output: tft.TFTransformOutput,
                config: PipelineConfig, scales: dict[str, tuple]) -> dict:
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = [features.transformed_name(f.name) for f in config.features]
    raw_spec = tf_transform_output.raw_feature_spec()
    # Only the declared inputs: other columns of the table are not needed to serve.
    serving_spec = {f.name: raw_spec[f.name] for f in config.features}
    weight_column = getattr(config.data, "example_weight", None)
    full_spec = {**serving_spec, **{t.label: raw_spec[t.label] for t in config.tasks},
                 **{f.name: raw_spec[f.name] for f in config.evaluation.numeric_slice_features},
                 **({weight_column: raw_spec[weight_column]} if weight_column else {})}
    class_names = {t.name: tf.constant(t.classes) for t in config.tasks if t.task_type.class_outputs}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_examples(examples):
        transformed = model.tft_layer(reject_non_finite(tf.io.parse_example(examples, serving_spec)))
        outputs = model({name: transformed[name] for name in input_names}, training=False)
        served = {}
        for task in config.tasks:
            out = outputs[task.name]
            if task.name in scales:  # back to the label's original scale
                mean, std = scales[task.name]
                out = out * std + mean
            elif task.task_type.clipped_probability:
                out = tf.clip_by_value(out, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
            served[task.name] = out
        return served

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, full_spec))

    signatures = {"serving_default": serve_examples, "transform_features": transform_features}
    if class_names:
        @tf.function(input_signature=[])
        def classes():
            return class_names

        signatures["class_names"] = classes
    return signatures


def planned_passes(files: list[str], counted: int, limit: Optional[int], planned_examples: int) -> float:
    """How many times training reads the training split, counting further only as far as it matters.

    ``counted`` is the split's size or, when it reached ``limit``, a lower
    bound; then the count goes on to where the answer crosses ``MIN_PASSES_IN_MEMORY``.
    """
    if limit is not None and counted >= limit:
        counted = count_examples(files, planned_examples // MIN_PASSES_IN_MEMORY + 1)
    return planned_examples / max(counted, 1)


def datasets(fn_args: FnArgs, tf_transform_output: tft.TFTransformOutput, config: PipelineConfig,
             passes: Optional[float] = None) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The training and evaluation datasets run_fn fits on.

    The evaluation set is the same ``eval_steps`` batches at every check, so their losses compare.
    It is read once here (into its cache) to count its batches: Keras needs
    the count to evaluate several steps a call (``steps_per_execution``).
    ``passes``: how many times training will read the training examples; held
    in memory only when it fits and they are read at least ``MIN_PASSES_IN_MEMORY``
    times (None: whenever it fits).
    """
    batch_size, spec = config.training.batch_size, tf_transform_output.transformed_feature_spec()
    in_memory = None if passes is None or passes >= MIN_PASSES_IN_MEMORY else False
    train = _dataset(fn_args.train_files, spec, config, batch_size, in_memory=in_memory)
    evaluation = _dataset(fn_args.eval_files, spec, config, batch_size,
                          one_pass=True).take(config.training.eval_steps).cache()
    batches = int(evaluation.reduce(np.int64(0), lambda count, _: count + 1))
    return train, evaluation.apply(tf.data.experimental.assert_cardinality(batches))


class ProgressLog(StepCallback):
    """Logs the step and loss about once a second; the local runner's status line shows them."""

    def __init__(self, total_steps: int, every_seconds: float = 1.0):
        super().__init__()
        # Keras then passes the logs as tensors, not converted to Python every
        # step; the loss is read (one device sync) only when it is logged.
        self._supports_tf_logs = True
        self.total_steps = total_steps
        self.every_seconds = every_seconds
        self._last = 0.0

    def on_steps(self, previous, step, logs):
        now = time.monotonic()
        if now - self._last >= self.every_seconds and logs and "loss" in logs:
            self._last = now
            logging.info(TRAINER_PROGRESS, step, self.total_steps, float(logs["loss"]))


class ScalarLog(StepCallback):
    """Training curves for TensorBoard in ``log_dir``, named as Keras' TensorBoard names them:
    ``train/batch_<name>`` every ``every`` steps and ``validation/evaluation_<name>_vs_iterations``
    after each epoch, both at the training step.

    Keras' own TensorBoard callback cost about 2 ms a step here (half the step
    time of this model) however rarely it wrote; this one reads the values
    only when it writes them. With several steps a call (``steps_per_execution``)
    the training values are written at the first call that reaches a multiple
    of ``every``, at the step they are from.
    """

    def __init__(self, log_dir: str, every: int = 50):
        super().__init__()
        self._supports_tf_logs = True
        self.log_dir = log_dir
        self.every = every
        self._writers: dict = {}

    def _write(self, split: str, logs: dict, step: int) -> None:
        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(os.path.join(self.log_dir, split))
        with self._writers[split].as_default():
            for name, value in logs.items():
                tag = f"batch_{name}" if split == "train" else f"evaluation_{name}_vs_iterations"
                tf.summary.scalar(tag, value, step=step)

    def on_steps(self, previous, step, logs):
        if logs and crossed(previous, step, self.every):
            self._write("train", logs, step)

    def on_epoch_end(self, epoch, logs=None):
        validation = {k[len("val_"):]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if validation:
            self._write("validation", validation, self.step)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()


def callbacks(fn_args: FnArgs, total_steps: int) -> list:
    """Training curves for TensorBoard and the progress the status line shows."""
    return [ScalarLog(fn_args.model_run_dir), ProgressLog(total_steps)]


def run_fn(fn_args: FnArgs) -> None:
    """The Trainer's entry point (``run_fn="models.trainer.run_fn"``).

    Args:
        fn_args: TFX's trainer arguments. Reads ``train_files``/``eval_files``
            (Transform's transformed examples), ``transform_output``,
            ``train_steps``/``eval_steps``,
            ``model_run_dir`` (TensorBoard logs) and ``custom_config``, which
            is ``PipelineConfig.to_custom_config()``: key ``pipeline_config``
            (the whole configuration as JSON-ready data; ``code_version`` is
            there for the cache only).

    Returns:
        None. Writes the trained model to ``fn_args.serving_model_dir`` with
        the ``serving_default`` and ``transform_features`` signatures
        described at the top of this module.
    """
    # With a Tuner in the pipeline, its best hyperparameters replace the configured ones.
    config = trained_config(PipelineConfig.from_custom_config(fn_args.custom_config), fn_args.hyperparameters)
    tf_keras.utils.set_random_seed(config.training.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    training = config.training
    batch_size = training.batch_size
    limit = budget.examples_to_count(training.epochs, batch_size)
    train_examples = count_examples(fn_args.train_files, limit)
    plan = budget.plan_training(train_examples, batch_size, epochs=training.epochs,
                                train_steps=training.train_steps, max_steps=training.max_steps,
                                early_stopping=training.early_stopping, patience=training.patience)
    train, evaluation = datasets(fn_args, tf_transform_output, config,
                                 passes=planned_passes(fn_args.train_files, train_examples, limit,
                                                       plan.max_steps * batch_size))

    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
    # The default L2 penalty needs the size of the training split; a count capped at
    # `limit` is a lower bound, and the penalty is negligible at that size anyway.
    model = compile_model(build_model(config, model_inputs, train_examples), config,
                          steps_per_execution=STEPS_PER_EXECUTION)
    best = BestWeights(plan.patience)
    learned = config.training.task_weighting == "uncertainty"
    fit_callbacks = [best, *callbacks(fn_args, plan.checks * plan.steps_per_check)]
    if learned:
        fit_callbacks.append(LogTaskWeights(config, fn_args.model_run_dir))
    model.fit(
        train,
        steps_per_epoch=plan.steps_per_check,
        epochs=plan.checks,
        validation_data=evaluation,
        callbacks=fit_callbacks,
        verbose=2,
    )
    result = budget.outcome(plan, best.checks_run, best.best_check, train_examples, batch_size,
                            counted_whole=limit is None or train_examples < limit)
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, budget.TRAINING_RECORD), "w") as f:
        json.dump({"steps": result.steps, "epochs": result.epochs, "stopped_early": result.stopped_early,
                   "best_step": result.best_step, "budget": result.budget,
                   "train_examples_counted": train_examples, "summary": result.describe(),
                   "hyperparameters": (fn_args.hyperparameters or {}).get("values")}, f)
    if learned:
        print("learned task weights:", save_learned_weights(model, config, fn_args.model_run_dir))
    eval_once = _dataset(fn_args.eval_files, tf_transform_output.transformed_feature_spec(), config,
                         batch_size, one_pass=True)
    _record_gates(model, config, eval_once, fn_args.model_run_dir)
    # TFMA loads the saved model in fresh worker processes that have not imported
    # models.metrics; R² reaches the Evaluator through its own MetricConfig
    # (models.regression_metrics).
    compile_model(model, config, project_metrics=False)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=_signatures(model, tf_transform_output, config,
                                      label_scales(tf_transform_output, config)))


def _record_gates(model: tf_keras.Model, config: PipelineConfig, eval_once: tf.data.Dataset,
                  model_run_dir: str) -> None:
    """A gated model's mean gate weights on the whole eval split, saved with the model run."""
    weights = mean_gate_weights(model, config, eval_once)
    if weights is None:
        return
    with tf.io.gfile.GFile(f"{model_run_dir}/{GATE_WEIGHTS_FILE}", "w") as f:
        f.write(weights.to_json())
    for line in weights.summary_lines():
        print(line)
