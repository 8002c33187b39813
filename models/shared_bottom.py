"""The shared-bottom multi-task network: shared dense layers, one tower per task.

Keras in, Keras out: no TFX here. Every task's output is a named model output.
"""

from __future__ import annotations

import tf_keras

from models.features import ModelInput
from pipeline.config import PipelineConfig


def _dense_stack(x, units_list, activation, dropout, initializer, prefix, regularizer=None):
    for i, units in enumerate(units_list):
        x = tf_keras.layers.Dense(units, activation=activation, kernel_initializer=initializer,
                                  kernel_regularizer=regularizer, name=f"{prefix}_dense_{i}")(x)
        if dropout:
            x = tf_keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def l2_regularizer(strength):
    """An L2 penalty for Dense kernels, or None for no penalty (``model.l2`` as the builder resolved it)."""
    return tf_keras.regularizers.L2(strength) if strength else None


def _encode(name: str, spec: ModelInput, x):
    """A categorical index as an embedding (or one-hot); numeric inputs as they are."""
    if not spec.categorical:
        return x
    if spec.embedding_dim is None:
        return tf_keras.layers.CategoryEncoding(spec.num_indices, output_mode="one_hot",
                                                name=f"{name}_one_hot")(x)
    embedded = tf_keras.layers.Embedding(spec.num_indices, spec.embedding_dim, name=f"{name}_embedding")(x)
    return tf_keras.layers.Flatten(name=f"{name}_flat")(embedded)


def build_shared_bottom(config: PipelineConfig, model_inputs: dict[str, ModelInput]) -> tf_keras.Model:
    """Inputs named by ``model_inputs``, one output per task."""
    model_config = config.model
    inputs = {name: tf_keras.Input(shape=(spec.size,), name=name,
                                   dtype="int64" if spec.categorical else "float32")
              for name, spec in sorted(model_inputs.items())}
    x = [_encode(name, model_inputs[name], tensor) for name, tensor in inputs.items()]
    x = x[0] if len(x) == 1 else tf_keras.layers.Concatenate(name="inputs")(x)

    regularizer = l2_regularizer(model_config.l2)
    x = _dense_stack(x, model_config.bottom_units[:-1], model_config.bottom_activation,
                     model_config.bottom_dropout, model_config.bottom_initializer, "bottom", regularizer)
    # The bottom's last layer is linear: its output is what the towers share.
    bottom_out = tf_keras.layers.Dense(model_config.bottom_units[-1],
                                       kernel_initializer=model_config.bottom_initializer,
                                       kernel_regularizer=regularizer, name="bottom_out")(x)

    outputs = {}
    for task in config.tasks:
        tower = _dense_stack(bottom_out, model_config.task_units, model_config.task_activation,
                             model_config.task_dropout, model_config.task_initializer, task.name, regularizer)
        outputs[task.name] = tf_keras.layers.Dense(
            task.output_size, activation=task.output_activation, kernel_initializer=model_config.task_initializer,
            kernel_regularizer=regularizer, name=task.name)(tower)
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="shared_bottom")
