"""The trained model's serving signatures, with the Transform graph inside.

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
- ``predict_instances``: one named input per raw model column (numeric float32,
  categorical string), for JSON clients of TF Serving's REST API
  (``models.instances_signature``): the same outputs as ``serving_default``.
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

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from models.tasks import task_type
from models import features, instances_signature
from models.request_checks import reject_non_finite
from config import PipelineConfig



def label_scale(scaled_at_0: float, scaled_at_1: float) -> tuple[float, float]:
    """(mean, std) of a z-scored label, from what the scaling maps 0 and 1 to."""
    std = 1.0 / (scaled_at_1 - scaled_at_0)
    return -scaled_at_0 * std, std


def _raw_value_example(values: dict, value: int) -> bytes:
    """A tf.Example with ``value`` in each column of ``values`` (column -> its parsing spec)."""
    example = tf.train.Example()
    for column, spec in values.items():
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
    scaled = {task: training_label for task, training_label in features.training_labels(config).items()
              if training_label != features.transformed_name(_label(config, task))}
    if not scaled:
        return {}
    # Every scaled label at once: they are standardized together (models.preprocessing), and
    # Transform computes an output only when all the inputs it depends on are given.
    spec = {_label(config, task): raw_spec[_label(config, task)] for task in scaled}
    examples = tf.constant([_raw_value_example(spec, v) for v in (0, 1)])
    outputs = tf_transform_output.transform_features_layer()(tf.io.parse_example(examples, spec))
    scales = {}
    for task, training_label in scaled.items():
        at_0, at_1 = (float(v) for v in tf.reshape(outputs[training_label], [-1]).numpy())
        scales[task] = label_scale(at_0, at_1)
    return scales


def _label(config: PipelineConfig, task: str) -> str:
    return next(t.label for t in config.tasks if t.name == task)


def signatures(model: tf_keras.Model, tf_transform_output: tft.TFTransformOutput,
               config: PipelineConfig) -> dict:
    """``serving_default``, ``transform_features`` and (with multiclass tasks) ``class_names`` for ``model.save``."""
    scales = label_scales(tf_transform_output, config)
    model.tft_layer = tf_transform_output.transform_features_layer()
    input_names = [features.transformed_name(f.name) for f in config.features]
    raw_spec = tf_transform_output.raw_feature_spec()
    # Only the declared inputs: other columns of the table are not needed to serve.
    serving_spec = {f.name: raw_spec[f.name] for f in config.features}
    weight_column = config.data.weight_column
    full_spec = {**serving_spec, **{t.label: raw_spec[t.label] for t in config.tasks},
                 **{f.name: raw_spec[f.name] for f in config.evaluation.numeric_slice_features},
                 **({weight_column: raw_spec[weight_column]} if weight_column else {})}
    class_names = {t.name: tf.constant(t.classes) for t in config.tasks if t.classes}

    def serve_parsed(parsed):
        """Raw columns as ``parse_example`` gives them -> one output per task (both serving signatures)."""
        transformed = model.tft_layer(parsed)
        outputs = model({name: transformed[name] for name in input_names}, training=False)
        served = {}
        for task in config.tasks:
            out = outputs[task.name]
            if task.name in scales:  # back to the label's original scale
                mean, std = scales[task.name]
                out = out * std + mean
            else:
                out = task_type(task.type).served_output(out)
            served[task.name] = out
        return served

    # Every signature is traced without AutoGraph (as the Keras steps are, models/builder.py): no
    # Python branch here depends on a tensor, and converting the model's and the Transform
    # layer's code was nearly all of the time model.save spent on them.
    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")], autograph=False)
    def serve_examples(examples):
        return serve_parsed(reject_non_finite(tf.io.parse_example(examples, serving_spec)))

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")], autograph=False)
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, full_spec))

    signatures = {"serving_default": serve_examples, "transform_features": transform_features,
                  instances_signature.SIGNATURE_NAME: instances_signature.predict_instances(
                      serve_parsed, config, serving_spec)}
    if class_names:
        @tf.function(input_signature=[], autograph=False)
        def classes():
            return class_names

        signatures["class_names"] = classes
    return signatures
