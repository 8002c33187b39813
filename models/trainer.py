"""The Trainer's run_fn: train the configured model, export it with its serving signatures.

Exported signatures:
- ``serving_default``: serialized raw tf.Examples (input ``examples``), parsed
  with the Transform's raw feature spec of the model inputs -> one output per
  task, keyed by task name. The Transform graph is inside, so raw examples go in.
  A NaN or an infinity in a numeric input is an error naming the feature
  (``models.request_checks``).
- ``transform_features``: serialized raw tf.Examples with labels (and numeric
  slice features) -> the transformed features, labels and slice buckets. TFMA
  runs it first: it reads the labels from its output, so a string label
  (``">50K"``) is scored as 0/1, and slices on its ``<name>_bucket`` outputs.
"""

from __future__ import annotations

import os
import time

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from models import features
from models.builder import build_model, compile_model
from models.gates import mean_gate_weights
from models.request_checks import reject_non_finite
from models.task_weighting import LogTaskWeights, save_learned_weights
from pipeline.cli.status_line import TRAINER_PROGRESS
from pipeline.config import PipelineConfig
from pipeline.results.gate_weights import GATE_WEIGHTS_FILE


# Records parsed together: parsing is per batch, not per example.
PARSE_BATCH = 1024
SHUFFLE_BUFFER = 10_000
# Parsed examples are kept in memory (cache) when the transformed files, which
# are gzipped floats, are below this share of the machine's memory.
CACHE_MEMORY_SHARE = 0.15


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


def _dataset(file_patterns, tf_transform_output: tft.TFTransformOutput, config: PipelineConfig,
             batch_size: int, one_pass: bool = False) -> tf.data.Dataset:
    """(inputs by transformed name, labels by task name), shuffled and repeated;
    with ``one_pass``, every example once, in file order.

    The transformed (gzipped) records are read, parsed a large batch at a time
    and, when they fit in memory, cached after the first pass, so later epochs
    neither decompress nor parse; then shuffled by example and batched.
    """
    input_names = [features.transformed_name(f.name) for f in config.features]
    label_names = features.transformed_labels(config)
    full_spec = tf_transform_output.transformed_feature_spec()
    spec = {name: full_spec[name] for name in [*input_names, *label_names.values()]}
    files = _files(file_patterns)
    records = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda path: tf.data.TFRecordDataset(path, compression_type="GZIP"),
        cycle_length=max(1, min(len(files), 4)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    parsed = records.batch(PARSE_BATCH).map(lambda batch: tf.io.parse_example(batch, spec),
                                            num_parallel_calls=tf.data.AUTOTUNE)
    if fits_in_memory(files):
        parsed = parsed.cache()

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task: batch[label] for task, label in label_names.items()}
        return inputs, labels

    examples = parsed.unbatch()
    if not one_pass:
        examples = examples.shuffle(SHUFFLE_BUFFER).repeat()
    return (examples.batch(batch_size)
            .map(split, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def _signatures(model: tf_keras.Model, tf_transform_output: tft.TFTransformOutput,
                config: PipelineConfig) -> dict:
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = [features.transformed_name(f.name) for f in config.features]
    raw_spec = tf_transform_output.raw_feature_spec()
    # Only the declared inputs: other columns of the table are not needed to serve.
    serving_spec = {f.name: raw_spec[f.name] for f in config.features}
    full_spec = {**serving_spec, **{t.label: raw_spec[t.label] for t in config.tasks},
                 **{f.name: raw_spec[f.name] for f in config.evaluation.numeric_slice_features}}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_examples(examples):
        transformed = model.tft_layer(reject_non_finite(tf.io.parse_example(examples, serving_spec)))
        outputs = model({name: transformed[name] for name in input_names}, training=False)
        return {task: outputs[task] for task in config.task_names}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, full_spec))

    return {"serving_default": serve_examples, "transform_features": transform_features}


def datasets(fn_args: FnArgs, tf_transform_output: tft.TFTransformOutput,
             config: PipelineConfig) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The training and evaluation datasets run_fn fits on."""
    batch_size = config.training.batch_size
    return (_dataset(fn_args.train_files, tf_transform_output, config, batch_size),
            _dataset(fn_args.eval_files, tf_transform_output, config, batch_size))


class ProgressLog(tf_keras.callbacks.Callback):
    """Logs the step and loss about once a second; the local runner's status line shows them."""

    def __init__(self, total_steps: int, every_seconds: float = 1.0):
        super().__init__()
        # Keras then passes the logs as tensors, not converted to Python every
        # step; the loss is read (one device sync) only when it is logged.
        self._supports_tf_logs = True
        self.total_steps = total_steps
        self.every_seconds = every_seconds
        self._last = 0.0

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if now - self._last >= self.every_seconds and logs and "loss" in logs:
            self._last = now
            logging.info(TRAINER_PROGRESS, batch + 1, self.total_steps, float(logs["loss"]))


class ScalarLog(tf_keras.callbacks.Callback):
    """Training curves for TensorBoard in ``log_dir``: the loss and metrics every ``every`` steps, and
    the validation ones at the end (``train/`` and ``validation/``, as Keras' TensorBoard names them).

    Keras' own TensorBoard callback cost about 2 ms a step here (half the step
    time of this model) however rarely it wrote; this one reads the values
    only when it writes them.
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
                tf.summary.scalar(f"batch_{name}" if split == "train" else f"epoch_{name}", value, step=step)

    def on_train_batch_end(self, batch, logs=None):
        if logs and (batch + 1) % self.every == 0:
            self._write("train", logs, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        validation = {k[len("val_"):]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if validation:
            self._write("validation", validation, epoch)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()


def callbacks(fn_args: FnArgs) -> list:
    return [ScalarLog(fn_args.model_run_dir), ProgressLog(fn_args.train_steps)]


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
    config = PipelineConfig.from_custom_config(fn_args.custom_config)
    tf_keras.utils.set_random_seed(config.training.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train, evaluation = datasets(fn_args, tf_transform_output, config)

    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
    model = compile_model(build_model(config, model_inputs), config)
    learned = config.training.task_weighting == "uncertainty"
    fit_callbacks = callbacks(fn_args)
    if learned:
        fit_callbacks.append(LogTaskWeights(config, fn_args.model_run_dir))
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        epochs=1,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        callbacks=fit_callbacks,
        verbose=2,
    )
    if learned:
        print("learned task weights:", save_learned_weights(model, config, fn_args.model_run_dir))
    _record_gates(model, config, _dataset(fn_args.eval_files, tf_transform_output, config,
                                          config.training.batch_size, one_pass=True), fn_args.model_run_dir)
    # TFMA loads the saved model in fresh worker processes that have not imported
    # models.metrics; R² reaches the Evaluator through its own MetricConfig
    # (models.regression_metrics).
    compile_model(model, config, project_metrics=False)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=_signatures(model, tf_transform_output, config))


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
