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

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from models import features
from models.builder import build_model, compile_model
from models.request_checks import reject_non_finite
from pipeline.config import PipelineConfig


def _dataset(file_pattern, data_accessor: DataAccessor, tf_transform_output: tft.TFTransformOutput,
             config: PipelineConfig, batch_size: int) -> tf.data.Dataset:
    """(inputs by transformed name, labels by task name), repeated and shuffled."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=batch_size),
        tf_transform_output.transformed_metadata.schema)
    input_names = [features.transformed_name(f.name) for f in config.features]
    label_names = features.transformed_labels(config)

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task: batch[label] for task, label in label_names.items()}
        return inputs, labels

    return dataset.map(split).prefetch(tf.data.AUTOTUNE)


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
    batch_size = config.training.batch_size
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output, config, batch_size)
    evaluation = _dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, config, batch_size)

    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
    model = compile_model(build_model(config, model_inputs), config)
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        epochs=1,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        callbacks=[tf_keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq=50)],
        verbose=2,
    )
    # TFMA loads the saved model in fresh worker processes that have not imported
    # models.metrics; R² reaches the Evaluator through its own MetricConfig.
    compile_model(model, config, project_metrics=False)
    model.save(fn_args.serving_model_dir, save_format="tf",
               signatures=_signatures(model, tf_transform_output, config))
