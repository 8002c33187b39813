"""``predict_instances``: the served model for JSON clients (TF Serving's REST API, Vertex AI), no protobufs.

TF Serving's REST API maps each key of an instance (``{"instances": [{...}, ...]}``)
to the signature's input of that name, converts the JSON values to the input's
dtype and batches each input across the instances. So this signature has one
input per raw model column, named by the column's internal name
(``config.names.internal_name``: SavedModel signature keys must be
valid argument names, so ``'bill-length mm'`` is sent as ``bill_length_mm``):

- numeric: float32, shape ``[None]`` (``[None, size]`` for a vector feature);
  a JSON ``25`` and ``25.0`` are the same float;
- categorical: string, shape ``[None]``.

A missing optional value (a column the training data had empty cells in) is
NaN for a number and ``""`` (or a declared missing-value token) for a string.
JSON ``null`` cannot be a value of a dense tensor and TF Serving refuses it;
NaN is a float TF Serving's JSON reader accepts (it reads ``NaN``, as Python's
``json`` writes it), so the input stays one dense float tensor. A NaN in a
required column, and an infinity anywhere, is an error naming the column.

The inputs are turned into exactly what ``tf.io.parse_example`` gives
``serving_default`` for the same row (dense for a required column; sparse,
without the missing values, for an optional one) and go through the same
Transform layer, model and output scaling, so both signatures answer alike.
"""

from __future__ import annotations

import tensorflow as tf

from models.request_checks import reject_non_finite
from config import PipelineConfig
from config.names import internal_name

SIGNATURE_NAME = "predict_instances"
JSON_MISSING_HINT = "NaN stands for a missing value only in an optional column"


def input_columns(config: PipelineConfig) -> dict[str, str]:
    """The signature's input name -> the raw column it is."""
    return {internal_name(f.name): f.name for f in config.features}


def input_specs(config: PipelineConfig) -> dict[str, tf.TensorSpec]:
    """The signature's input name -> its TensorSpec."""
    specs = {}
    for feature in config.features:
        name = internal_name(feature.name)
        if feature.type == "numeric":
            shape = [None] if feature.size == 1 else [None, feature.size]
            specs[name] = tf.TensorSpec(shape, tf.float32, name=name)
        else:
            specs[name] = tf.TensorSpec([None], tf.string, name=name)
    return specs


def _as_raw_dtype(value: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    """A JSON input (float32 or string) in the dtype of the raw feature spec."""
    if value.dtype == dtype:
        return value
    if value.dtype == tf.string:
        return tf.strings.to_number(value, dtype)  # a categorical column of whole numbers
    if dtype == tf.string:
        return tf.strings.as_string(value)
    return tf.cast(value, dtype)


def _optional(value: tf.Tensor, spec: tf.io.VarLenFeature) -> tf.SparseTensor:
    """A [batch] input as ``parse_example`` gives a VarLen feature: a [batch, 1] SparseTensor of
    the present values (NaN is missing for a number; a string is always present, and Transform
    treats ``""`` and the missing-value tokens as missing, as it does in a tf.Example)."""
    present = (tf.logical_not(tf.math.is_nan(value)) if value.dtype.is_floating
               else tf.ones_like(value, dtype=tf.bool))
    rows = tf.where(present)  # [n, 1]
    indices = tf.concat([rows, tf.zeros_like(rows)], axis=1)
    values = _as_raw_dtype(tf.boolean_mask(value, present), spec.dtype)
    return tf.SparseTensor(indices, values, tf.stack([tf.shape(value, out_type=tf.int64)[0], 1]))


def parsed_inputs(inputs: dict[str, tf.Tensor], columns: dict[str, str], raw_spec: dict) -> dict:
    """Raw column -> tensor, as ``tf.io.parse_example(examples, raw_spec)`` gives it for the same rows;
    ``columns``: input name -> raw column."""
    parsed = {}
    for input_name, value in inputs.items():
        name = columns[input_name]
        spec = raw_spec[name]
        if isinstance(spec, tf.io.VarLenFeature):
            parsed[name] = _optional(value, spec)
        else:
            parsed[name] = tf.reshape(_as_raw_dtype(value, spec.dtype), [-1, *spec.shape])
    return reject_non_finite(parsed, JSON_MISSING_HINT)


def predict_instances(serve_parsed, config: PipelineConfig, raw_spec: dict):
    """The signature's function: ``serve_parsed(parsed) -> outputs`` is ``serving_default``'s own path."""
    columns = input_columns(config)

    @tf.function(input_signature=[input_specs(config)], autograph=False)
    def serve_instances(inputs):
        return serve_parsed(parsed_inputs(inputs, columns, raw_spec))

    return serve_instances
