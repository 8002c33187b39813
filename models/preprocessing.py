"""Transform's preprocessing_fn: z-score every input dimension; labels pass through.

Numeric slice features are cut into quantile buckets (``<name>_bucket``) for
the Evaluator to slice on; the model does not read them, and serving requests
without them still work (Transform drops outputs whose inputs are missing).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from models import features
from pipeline.config import Feature, SliceFeature


def preprocessing_fn(inputs: dict[str, tf.Tensor], custom_config: dict) -> dict[str, tf.Tensor]:
    """custom_config is PipelineConfig.transform_custom_config()."""
    outputs = {}
    for raw in custom_config["features"]:
        feature = Feature.model_validate(raw)
        # elementwise: each dimension gets its own mean and variance.
        outputs[features.transformed_name(feature.name)] = tft.scale_to_z_score(
            tf.cast(inputs[feature.name], tf.float32), elementwise=True)
    for label in custom_config["labels"]:
        outputs[label] = tf.cast(inputs[label], tf.float32)
    for raw in custom_config.get("bucketized", []):
        feature = SliceFeature.model_validate(raw)
        outputs[feature.slice_column] = tft.bucketize(
            tf.cast(inputs[feature.name], tf.float32), feature.num_buckets)
    return outputs
