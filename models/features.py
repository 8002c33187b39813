"""Names of raw and transformed features and labels, derived from the config."""

from __future__ import annotations

import tensorflow as tf

from pipeline.config import PipelineConfig

TRANSFORMED_SUFFIX = "_xf"


def transformed_name(key: str) -> str:
    return key + TRANSFORMED_SUFFIX


def raw_feature_spec(config: PipelineConfig, with_labels: bool = True) -> dict[str, tf.io.FixedLenFeature]:
    """The parsing spec for raw tf.Examples: model inputs, optionally the labels."""
    spec = {f.name: tf.io.FixedLenFeature([f.size], tf.float32) for f in config.features}
    if with_labels:
        for task in config.tasks:
            spec[task.label] = tf.io.FixedLenFeature([1], tf.float32)
    return spec


def bucketized_feature_spec(config: PipelineConfig) -> dict[str, tf.io.FixedLenFeature]:
    """The raw numeric slice features Transform buckets (for evaluation only)."""
    return {f.name: tf.io.FixedLenFeature([1], tf.float32) for f in config.evaluation.numeric_slice_features}


def label_columns(config: PipelineConfig) -> list[str]:
    return [task.label for task in config.tasks]


def input_sizes(config: PipelineConfig) -> dict[str, int]:
    """Transformed input feature name -> width, the model builder's input spec."""
    return {transformed_name(f.name): f.size for f in config.features}
