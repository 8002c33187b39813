"""The shared-bottom multi-task network: shared dense layers, one tower per task.

Keras in, Keras out: no TFX here. Every task's output is a named model output.
"""

from __future__ import annotations

import tf_keras

from pipeline.config import PipelineConfig


def _dense_stack(x, units_list, activation, dropout, initializer, prefix):
    for i, units in enumerate(units_list):
        x = tf_keras.layers.Dense(units, activation=activation, kernel_initializer=initializer,
                                  name=f"{prefix}_dense_{i}")(x)
        if dropout:
            x = tf_keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def build_shared_bottom(config: PipelineConfig, input_sizes: dict[str, int]) -> tf_keras.Model:
    """Inputs named by ``input_sizes`` (name -> width), one output per task."""
    model_config = config.model
    inputs = {name: tf_keras.Input(shape=(size,), name=name) for name, size in sorted(input_sizes.items())}
    x = list(inputs.values())
    x = x[0] if len(x) == 1 else tf_keras.layers.Concatenate(name="inputs")(x)

    x = _dense_stack(x, model_config.bottom_units[:-1], model_config.bottom_activation,
                     model_config.bottom_dropout, model_config.bottom_initializer, "bottom")
    # The bottom's last layer is linear: its output is what the towers share.
    bottom_out = tf_keras.layers.Dense(model_config.bottom_units[-1],
                                       kernel_initializer=model_config.bottom_initializer,
                                       name="bottom_out")(x)

    outputs = {}
    for task in config.tasks:
        tower = _dense_stack(bottom_out, model_config.task_units, model_config.task_activation,
                             model_config.task_dropout, model_config.task_initializer, task.name)
        outputs[task.name] = tf_keras.layers.Dense(
            1, activation=task.output_activation, kernel_initializer=model_config.task_initializer,
            name=task.name)(tower)
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="shared_bottom")
