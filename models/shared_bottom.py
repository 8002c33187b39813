"""The shared-bottom multi-task network: shared dense layers, one tower per task.

Keras in, Keras out: no TFX here. Every task's output is a named model output.
"""

from __future__ import annotations

import tf_keras

from models.blocks import dense_stack, inputs_and_features, l2_regularizer, task_outputs
from models.features import ModelInput
from config import PipelineConfig


def build_shared_bottom(config: PipelineConfig, model_inputs: dict[str, ModelInput]) -> tf_keras.Model:
    """Inputs named by ``model_inputs``, one output per task."""
    model_config = config.model
    inputs, x = inputs_and_features(model_inputs, config)
    regularizer = l2_regularizer(model_config.l2)
    x = dense_stack(x, model_config.bottom_units[:-1], model_config.bottom_activation,
                    model_config.bottom_dropout, model_config.bottom_initializer, "bottom", regularizer)
    # The bottom's last layer (linear unless configured otherwise) is what the towers share.
    bottom_out = tf_keras.layers.Dense(
        model_config.bottom_units[-1], kernel_initializer=model_config.bottom_initializer,
        activation=None if model_config.bottom_linear_output else model_config.bottom_activation,
        kernel_regularizer=regularizer, name="bottom_out")(x)
    outputs = task_outputs(config, {task: bottom_out for task in config.task_names})
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="shared_bottom")
