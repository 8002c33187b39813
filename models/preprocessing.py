"""Transform's preprocessing_fn: scale numeric inputs, index categorical ones, encode labels.

Raw columns arrive dense (a value in every example) or sparse (CsvExampleGen
and SchemaGen make a column with missing cells a VarLen feature). Every
column is first turned into its present values, with empty cells and the
declared missing-value tokens removed; then:

- numeric: clipped if configured, then the feature's transform over the
  present values (``z_score``; ``log``: sign(x)·log1p(|x|) then z-score;
  ``quantile``: the quantile bucket scaled to [0, 1]; ``none``); a missing
  value becomes 0 (the mean, for ``z_score`` and ``log``); with a
  piecewise-linear embedding (``piecewise_linear_bins``) instead its position
  among quantile bin edges after the clip and log (``models.piecewise_linear``);
- categorical: indexed by a vocabulary with OOV buckets; a missing value is index 0;
- labels: regression as float, binary as 0/1 (1 for a declared positive value),
  multiclass as the index of the value among the task's classes. A missing
  label (or a value outside the classes) is 0, and its task's weight
  (``<task>__weight_xf``) is 0: the Trainer and the Evaluator leave the row
  out of that task (``missing_label: mask``), or of every task
  (``drop_row``). The weights are also multiplied by the ``example_weight``
  column when one is configured.
  A regression label also gets a standardized copy (``<label>_scaled_xf``,
  mean 0 and variance 1 on the training split), which the Trainer fits; the
  original stays what the Evaluator scores.

The z-scores share analyzers, each column still scaled by its own mean and
variance: one for the complete numeric columns, one for those with missing
cells, one for the labels' standardized copies (``z_scored_together``).

Numeric slice features are cut into quantile buckets (``<name>_bucket``, -1
where missing) for the Evaluator to slice on; the model does not read them, and
serving requests without them still work (Transform drops outputs whose inputs
are missing).
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf
import tensorflow_transform as tft

from models import features, piecewise_linear
from config import Feature, SliceFeature
from models.tasks import task_type


def _present_values(x, missing_values: list[str]) -> tf.SparseTensor:
    """The column as a [batch, 1] SparseTensor without its missing cells."""
    if not isinstance(x, tf.SparseTensor):
        x = tf.sparse.from_dense(x) if x.dtype == tf.string else _dense_to_sparse(x)
    if x.dtype == tf.string:
        stripped = tf.strings.strip(x.values)
        keep = tf.strings.length(stripped) > 0
        for token in missing_values:
            keep &= tf.not_equal(stripped, token)
        x = tf.sparse.retain(tf.SparseTensor(x.indices, stripped, x.dense_shape), keep)
    # One value per example; an all-missing batch still has one column.
    return tf.SparseTensor(x.indices, x.values, tf.stack([x.dense_shape[0], 1]))


def _dense_to_sparse(x: tf.Tensor) -> tf.SparseTensor:
    # Keeps zeros, unlike tf.sparse.from_dense.
    indices = tf.where(tf.ones_like(x, dtype=tf.bool))
    return tf.SparseTensor(indices, tf.gather_nd(x, indices), tf.shape(x, out_type=tf.int64))


def signed_log1p(x: tf.Tensor) -> tf.Tensor:
    # In float64: TF's float32 log1p can differ in the last bit with a value's position in
    # its batch (vectorized or not), and batches differ between runs and orchestrators.
    x64 = tf.cast(x, tf.float64)
    return tf.cast(tf.sign(x64) * tf.math.log1p(tf.abs(x64)), x.dtype)


def _clipped_and_logged(x, feature: Feature):
    """x (dense, or a SparseTensor of the present values) clipped if configured, then logged for ``log``."""
    values = x.values if isinstance(x, tf.SparseTensor) else x
    if feature.clip is not None:
        values = tf.clip_by_value(values, *feature.clip)
    if feature.resolved_transform == "log":
        values = signed_log1p(values)
    return tf.SparseTensor(x.indices, values, x.dense_shape) if isinstance(x, tf.SparseTensor) else values


def _apply_transform(x, feature: Feature, elementwise: bool, encoding_bins: Optional[int] = None):
    """x: float values (dense, or a SparseTensor of the present values).

    With ``encoding_bins``, the clipped (and for ``log``, logged) values' positions among
    that many quantile bins (``models.piecewise_linear``), dense, missing values encoded:
    the encoding does not change under z-scoring, and replaces the quantile buckets.
    """
    x = _clipped_and_logged(x, feature)
    transform = feature.resolved_transform
    if encoding_bins:
        return piecewise_linear.encode(x, encoding_bins, elementwise)
    if transform in ("z_score", "log"):
        return tft.scale_to_z_score(x, elementwise=elementwise)
    if transform == "quantile":
        buckets = tft.bucketize(x, feature.quantile_buckets, elementwise=elementwise)
        scale = 1.0 / (feature.quantile_buckets - 1)
        if isinstance(buckets, tf.SparseTensor):
            return tf.SparseTensor(buckets.indices, tf.cast(buckets.values, tf.float32) * scale,
                                   buckets.dense_shape)
        return tf.cast(buckets, tf.float32) * scale
    return x  # none


def z_scored_together(feature: Feature, encoding_bins: Optional[int]) -> bool:
    """Whether the numeric column is z-scored (``z_score``, ``log``): such columns share analyzers.

    One elementwise analyzer for the complete columns, one for those with missing cells,
    not one each: tf.Transform caches, reads and writes each analyzer's statistics per
    span as Beam steps of their own, so a window's Transform ran a few steps per column
    and span (docs/daily-loop.md). Each column still gets its own mean and variance.
    """
    return not encoding_bins and feature.resolved_transform in ("z_score", "log")


def _complete(x, feature: Feature) -> bool:
    """Whether the column has a value in every example (or is a vector): each dimension is scaled."""
    return feature.size > 1 or (not isinstance(x, tf.SparseTensor) and x.dtype != tf.string)


def z_score_complete(columns: dict[str, tf.Tensor], features_by_name: dict[str, Feature]) -> dict[str, tf.Tensor]:
    """Complete numeric columns (name -> [batch] or [batch, size]) z-scored by one elementwise analyzer."""
    if not columns:
        return {}
    names = sorted(columns)
    sizes = [features_by_name[n].size for n in names]
    prepared = [_clipped_and_logged(tf.reshape(tf.cast(columns[n], tf.float32), [-1, size]), features_by_name[n])
                for n, size in zip(names, sizes)]
    scaled = tft.scale_to_z_score(tf.concat(prepared, axis=1), elementwise=True)
    # Each column back in its own shape ([batch] or [batch, size]).
    return {n: tf.reshape(part, tf.shape(columns[n])) for n, part in zip(names, tf.split(scaled, sizes, axis=1))}


def z_score_present(columns: dict[str, tf.Tensor], features_by_name: dict[str, Feature],
                    missing_values: list[str]) -> dict[str, tf.Tensor]:
    """Numeric columns with missing cells z-scored over their present values by one elementwise
    analyzer; a missing value becomes 0 (the mean). Returns name -> [batch, 1]."""
    if not columns:
        return {}
    names = sorted(columns)
    present = [_clipped_and_logged(_present_floats(columns[n], missing_values), features_by_name[n]) for n in names]
    return dict(zip(names, z_scored_over_present(present)))


def z_scored_over_present(columns: list[tf.SparseTensor]) -> list[tf.Tensor]:
    """[batch, 1] SparseTensors of present values, z-scored by one elementwise analyzer, each
    column by its own mean and variance; dense [batch, 1] columns, a missing value 0 (the mean)."""
    scaled = tft.scale_to_z_score(tf.sparse.concat(axis=1, sp_inputs=columns), elementwise=True)
    return [tf.reshape(part, [-1, 1]) for part in tf.split(tf.sparse.to_dense(scaled, default_value=0.0),
                                                          len(columns), axis=1)]


def _present_floats(x, missing_values: list[str]) -> tf.SparseTensor:
    """The column's present values as float32, a [batch, 1] SparseTensor."""
    present = _present_values(x, missing_values)
    values = present.values
    if values.dtype == tf.string:
        values = tf.strings.to_number(values, tf.float32)
    return tf.SparseTensor(present.indices, tf.cast(values, tf.float32), present.dense_shape)


def scale_numeric(x, feature: Feature, missing_values: list[str], encoding_bins: Optional[int] = None) -> tf.Tensor:
    """A numeric column that is not z-scored with others (``z_scored_together``)."""
    if _complete(x, feature):
        # A complete column (or a vector): each dimension gets its own statistics.
        return _apply_transform(tf.cast(x, tf.float32), feature, elementwise=True, encoding_bins=encoding_bins)
    scaled = _apply_transform(_present_floats(x, missing_values), feature, elementwise=False,
                              encoding_bins=encoding_bins)
    if not isinstance(scaled, tf.SparseTensor):
        return scaled  # encoded, missing values included
    return tf.sparse.to_dense(scaled, default_value=0.0)  # missing -> 0 (the mean when z-scored)


def index_categorical(x, feature: Feature, missing_values: list[str]) -> tf.Tensor:
    present = _present_values(x, missing_values)
    values = present.values if present.dtype == tf.string else tf.strings.as_string(present.values)
    indices = tft.compute_and_apply_vocabulary(
        tf.SparseTensor(present.indices, values, present.dense_shape),
        num_oov_buckets=feature.num_oov_buckets,
        vocab_filename=features.vocabulary_name(feature.name))
    # Index 0 means missing; known values and OOV buckets follow.
    return tf.sparse.to_dense(indices, default_value=-1) + 1


def bucketize_numeric(x, feature: SliceFeature, missing_values: list[str]) -> tf.Tensor:
    buckets = tft.bucketize(_present_floats(x, missing_values), feature.num_buckets)
    return tf.sparse.to_dense(buckets, default_value=-1)


def encode_label(x, label_type: str, positive: list[str], classes: list[str] = (),
                 missing_values: list[str] = ()) -> tf.SparseTensor:
    """A label's present values as floats, as its task type encodes them (``models.tasks``):
    e.g. 0/1 (1 for a declared positive value), the number itself, or the index of the value
    among ``classes`` (a value outside them counts as missing).
    Returns a [batch, 1] SparseTensor: missing labels have no entry.
    """
    present = _present_values(x, list(missing_values))
    return task_type(label_type).encode_label_tensor(present, list(positive or ()), list(classes))


def _column(x: tf.SparseTensor, default: float = 0.0) -> tf.Tensor:
    """A [batch, 1] SparseTensor as a dense [batch, 1] tensor (its static shape known)."""
    return tf.reshape(tf.sparse.to_dense(x, default_value=default), [-1, 1])


def _presence(label: tf.SparseTensor) -> tf.Tensor:
    """[batch, 1]: 1.0 where the label is present, 0.0 where it is missing."""
    return _column(tf.SparseTensor(label.indices, tf.ones_like(label.values), label.dense_shape))


def example_weights(labels: dict[str, tf.SparseTensor], tasks: list[dict],
                    example_weight: Optional[tf.Tensor]) -> dict[str, tf.Tensor]:
    """Task name -> [batch, 1] weight: 0 where the task's label is missing (``mask``) or where
    a ``drop_row`` task's label is; times the example weight column (missing there: 1)."""
    presence = {t["name"]: _presence(labels[t["name"]]) for t in tasks}
    dropped = [presence[t["name"]] for t in tasks if t["missing_label"] == "drop_row"]
    weights = {}
    for task in tasks:
        weight = presence[task["name"]]
        for kept in dropped:
            weight = weight * kept
        if example_weight is not None:
            weight = weight * example_weight
        weights[task["name"]] = weight
    return weights


def read_example_weight(x, missing_values: list[str]) -> tf.Tensor:
    """The example weight column as [batch, 1] floats; a missing cell weighs 1."""
    return _column(_present_floats(x, missing_values), 1.0)


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict[str, tf.Tensor]:
    """Transform's entry point (``preprocessing_fn="models.preprocessing.preprocessing_fn"``).

    Args:
        inputs: raw column name -> dense or sparse tensor, as parsed by Transform.
        custom_config: ``PipelineConfig.transform_custom_config()``: ``features``
            (Feature dicts), ``missing_values`` (tokens meaning missing),
            ``labels`` (task ``name``, ``column``, task ``type``, ``positive``,
            ``missing_label``, ``classes``), ``example_weight`` (a column or None) and
            ``bucketized`` (numeric SliceFeature dicts); ``piecewise_linear_bins``
            (only with a piecewise-linear numeric embedding: numeric inputs become
            their positions among that many quantile bins, ``models.piecewise_linear``);
            ``code_version`` is there for the cache only.

    Returns:
        ``<internal name>_xf`` for each input and label (``models.features.transformed_name``),
        ``<task>__weight_xf`` for each task (``models.features.weight_name``) and
        ``<internal name>_bucket`` for each numeric slice feature.
    """
    missing_values = custom_config["missing_values"]
    bins = custom_config.get("piecewise_linear_bins")
    outputs, complete, with_missing, by_name = {}, {}, {}, {}
    for raw in custom_config["features"]:
        feature = Feature.model_validate(raw)
        column = inputs[feature.name]
        if feature.type == "numeric" and z_scored_together(feature, bins):
            (complete if _complete(column, feature) else with_missing)[feature.name] = column
            by_name[feature.name] = feature
        elif feature.type == "numeric":
            outputs[features.transformed_name(feature.name)] = scale_numeric(
                column, feature, missing_values, bins)
        else:
            outputs[features.transformed_name(feature.name)] = index_categorical(column, feature, missing_values)
    scaled = {**z_score_complete(complete, by_name), **z_score_present(with_missing, by_name, missing_values)}
    for name, column in scaled.items():
        outputs[features.transformed_name(name)] = column
    labels, encoded = {}, {}
    for label in custom_config["labels"]:
        column = label["column"]
        if column not in encoded:
            encoded[column] = encode_label(inputs[column], label["type"], label["positive"],
                                           label.get("classes", []), missing_values)
            # A missing label is 0 here; its weight (below) is 0 too.
            outputs[features.transformed_name(column)] = _column(encoded[column])
        labels[label["name"]] = encoded[column]
    # Mean and variance of each label's present values in the training split; the Trainer fits this copy.
    # One analyzer for the labels only: serving has no labels, and a feature computed with them would be dropped.
    scaled_labels = custom_config.get("scaled_labels", [])
    if scaled_labels:
        present = [tf.SparseTensor(encoded[c].indices, tf.cast(encoded[c].values, tf.float32), encoded[c].dense_shape)
                   for c in scaled_labels]
        for column, scaled in zip(scaled_labels, z_scored_over_present(present)):
            outputs[features.scaled_label_name(column)] = scaled
    weight_column = custom_config.get("example_weight")
    weight = read_example_weight(inputs[weight_column], missing_values) if weight_column else None
    for task, value in example_weights(labels, custom_config["labels"], weight).items():
        outputs[features.weight_name(task)] = value
    for raw in custom_config.get("bucketized", []):
        feature = SliceFeature.model_validate(raw)
        outputs[feature.slice_column] = bucketize_numeric(inputs[feature.name], feature, missing_values)
    return outputs
