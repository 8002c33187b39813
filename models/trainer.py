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

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from models import budget, features
from models.builder import build_model, compile_model
from pipeline.config import PipelineConfig

PROBABILITY_EPSILON = 1e-7  # as Keras clips probabilities in its log loss


def _dataset(file_pattern, data_accessor: DataAccessor, tf_transform_output: tft.TFTransformOutput,
             config: PipelineConfig, batch_size: int, shuffle: bool = True,
             num_epochs=None) -> tf.data.Dataset:
    """(inputs by transformed name, labels the model fits by task name, sample weights by task name).

    A task's sample weight is 0 where its label is missing: the row trains the other tasks only.
    Repeated and shuffled by default.
    """
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle=shuffle,
                                                     num_epochs=num_epochs),
        tf_transform_output.transformed_metadata.schema)
    input_names = [features.transformed_name(f.name) for f in config.features]
    label_names = features.training_labels(config)
    weight_names = features.label_weights(config)

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task: batch[label] for task, label in label_names.items()}
        weights = {task: batch[weight] for task, weight in weight_names.items()}
        return inputs, labels, weights

    return dataset.map(split).prefetch(tf.data.AUTOTUNE)


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
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
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


def run_fn(fn_args: FnArgs) -> None:
    """The Trainer's entry point (``run_fn="models.trainer.run_fn"``).

    Args:
        fn_args: TFX's trainer arguments. Reads ``train_files``/``eval_files``
            (Transform's transformed examples), ``transform_output``,
            ``train_steps``/``eval_steps``, ``data_accessor``,
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
    training = config.training
    batch_size = training.batch_size
    limit = budget.examples_to_count(training.epochs, batch_size)
    train_examples = count_examples(fn_args.train_files, limit)
    plan = budget.plan_training(train_examples, batch_size, epochs=training.epochs,
                                train_steps=training.train_steps, max_steps=training.max_steps,
                                early_stopping=training.early_stopping, patience=training.patience)
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output, config, batch_size)
    # The same eval batches at every check, so their losses compare.
    evaluation = _dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, config,
                          batch_size, shuffle=False, num_epochs=1).take(training.eval_steps).cache()

    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
    # The default L2 penalty needs the size of the training split; a count capped at
    # `limit` is a lower bound, and the penalty is negligible at that size anyway.
    model = compile_model(build_model(config, model_inputs, train_examples), config)
    best = BestWeights(plan.patience)
    model.fit(
        train,
        steps_per_epoch=plan.steps_per_check,
        epochs=plan.checks,
        validation_data=evaluation,
        callbacks=[best, tf_keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq=50)],
        verbose=2,
    )
    result = budget.outcome(plan, best.checks_run, best.best_check, train_examples, batch_size,
                            counted_whole=limit is None or train_examples < limit)
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, budget.TRAINING_RECORD), "w") as f:
        json.dump({"steps": result.steps, "epochs": result.epochs, "stopped_early": result.stopped_early,
                   "best_step": result.best_step, "budget": result.budget,
                   "train_examples_counted": train_examples, "summary": result.describe()}, f)
    # TFMA loads the saved model in fresh worker processes that have not imported
    # models.metrics; R² reaches the Evaluator through its own MetricConfig.
    compile_model(model, config, project_metrics=False)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=_signatures(model, tf_transform_output, config,
                                      label_scales(tf_transform_output, config)))
