"""The Trainer's run_fn: train the configured model, export it with its serving signatures.

Exported signatures:
- ``serving_default``: serialized tf.Examples without labels (input ``examples``)
  -> one output per task, keyed by task name. The Transform graph is inside, so
  raw examples go in. TFMA evaluates this signature too: it ignores the labels
  it finds in the examples and reads them by ``label_keys``.
- ``transform_features``: serialized tf.Examples with labels and numeric slice
  features -> the transformed features, for inspecting what the model sees;
  the Evaluator slices on its ``<name>_bucket`` outputs.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from models import features
from models.builder import build_model, compile_model
from pipeline.config import PipelineConfig


def _dataset(file_pattern, data_accessor: DataAccessor, tf_transform_output: tft.TFTransformOutput,
             config: PipelineConfig, batch_size: int) -> tf.data.Dataset:
    """(inputs by transformed name, labels by task name), repeated and shuffled."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern, tfxio.TensorFlowDatasetOptions(batch_size=batch_size),
        tf_transform_output.transformed_metadata.schema)
    input_names = list(features.input_sizes(config))

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task.name: batch[task.label] for task in config.tasks}
        return inputs, labels

    return dataset.map(split).prefetch(tf.data.AUTOTUNE)


def _signatures(model: tf_keras.Model, tf_transform_output: tft.TFTransformOutput,
                config: PipelineConfig) -> dict:
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = list(features.input_sizes(config))
    serving_spec = features.raw_feature_spec(config, with_labels=False)
    full_spec = {**features.raw_feature_spec(config, with_labels=True),
                 **features.bucketized_feature_spec(config)}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_examples(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        outputs = model({name: transformed[name] for name in input_names}, training=False)
        return {task: outputs[task] for task in config.task_names}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, full_spec))

    return {"serving_default": serve_examples, "transform_features": transform_features}


def run_fn(fn_args: FnArgs) -> None:
    config = PipelineConfig.from_custom_config(fn_args.custom_config)
    tf_keras.utils.set_random_seed(config.data.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    batch_size = config.training.batch_size
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tf_transform_output, config, batch_size)
    evaluation = _dataset(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, config, batch_size)

    model = compile_model(build_model(config, features.input_sizes(config)), config)
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
