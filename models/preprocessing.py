"""Transform's preprocessing_fn: z-score every input dimension; labels pass through."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from models import features
from pipeline.config import Feature


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
    return outputs
