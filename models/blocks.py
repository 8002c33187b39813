"""Building blocks every architecture shares: inputs, dense stacks, experts, gates, towers.

Keras in, Keras out: no TFX here.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import tf_keras

from models.ensemble import MemberCopies, MemberHeads, MemberMean, MemberMix
from models.features import ModelInput
from models.numeric_embeddings import DIM, PeriodicEmbedding, PiecewiseLinearEncoding
from config import PipelineConfig


def l2_regularizer(strength):
    """An L2 penalty for Dense kernels, or None for no penalty (``model.l2`` as the builder resolved it)."""
    return tf_keras.regularizers.L2(strength) if strength else None


def dense_stack(x, units_list, activation, dropout, initializer, prefix, regularizer=None):
    for i, units in enumerate(units_list):
        x = tf_keras.layers.Dense(units, activation=activation, kernel_initializer=initializer,
                                  kernel_regularizer=regularizer, name=f"{prefix}_dense_{i}")(x)
        if dropout:
            x = tf_keras.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def _encode(name: str, spec: ModelInput, x):
    """A categorical index as an embedding (or one-hot); numeric inputs as they are, with
    their periodic embeddings, or expanded into their piecewise-linear encoding."""
    if not spec.categorical:
        seed = zlib.crc32(name.encode()) % 2**31
        if spec.piecewise_linear_bins:
            return PiecewiseLinearEncoding(spec.piecewise_linear_bins, dim=DIM if spec.piecewise_linear_relu else None,
                                           seed=seed, name=f"{name}_piecewise_linear")(x)
        return PeriodicEmbedding(seed=seed, name=f"{name}_periodic")(x) if spec.periodic else x
    if spec.embedding_dim is None:
        return tf_keras.layers.CategoryEncoding(spec.num_indices, output_mode="one_hot",
                                                name=f"{name}_one_hot")(x)
    embedded = tf_keras.layers.Embedding(spec.num_indices, spec.embedding_dim, name=f"{name}_embedding")(x)
    return tf_keras.layers.Flatten(name=f"{name}_flat")(embedded)


def inputs_and_features(model_inputs: dict[str, ModelInput], config: PipelineConfig):
    """(Keras inputs by name, their encodings concatenated into one tensor).

    With ``model.ensemble_size`` k > 1 the tensor is [batch, k, width]: one scaled copy per
    ensemble member (``models.ensemble``), which every shared layer after it reads.
    """
    inputs = {name: tf_keras.Input(shape=(spec.size,), name=name,
                                   dtype="int64" if spec.categorical else "float32")
              for name, spec in sorted(model_inputs.items())}
    x = [_encode(name, model_inputs[name], tensor) for name, tensor in inputs.items()]
    x = x[0] if len(x) == 1 else tf_keras.layers.Concatenate(name="inputs")(x)
    members = config.model.ensemble_size
    if members > 1:
        x = MemberCopies(members, seed=config.training.seed, name="ensemble_copies")(x)
    return inputs, x


def task_outputs(config: PipelineConfig, task_inputs: dict) -> dict:
    """One tower and one output (named by the task) per task, on that task's input tensor.

    An ensemble's tower is shared by its members; each member has its own output layer
    (``{task}_heads``) and the output named by the task is the mean of the members'.
    """
    model_config = config.model
    members = model_config.ensemble_size
    regularizer = l2_regularizer(model_config.l2)
    # The loss is the mean of the members' losses, so a head gets 1/k of its data gradient:
    # 1/k of the penalty keeps each head's L2 what a single model's output layer has.
    head_regularizer = l2_regularizer(model_config.l2 / members if model_config.l2 else None)
    outputs = {}
    for task in config.tasks:
        tower = dense_stack(task_inputs[task.name], model_config.task_units, model_config.task_activation,
                            model_config.task_dropout, model_config.task_initializer, task.name, regularizer)
        if members > 1:
            heads = MemberHeads(task.output_size, activation=task.output_activation,
                                kernel_initializer=model_config.task_initializer,
                                kernel_regularizer=head_regularizer, name=f"{task.name}_heads",
                                seed=_layer_seed(config.training.seed, f"{task.name}_heads"))(tower)
            outputs[task.name] = MemberMean(name=task.name)(heads)
            continue
        outputs[task.name] = tf_keras.layers.Dense(
            task.output_size, activation=task.output_activation, kernel_initializer=model_config.task_initializer,
            kernel_regularizer=regularizer, name=task.name)(tower)
    return outputs


def seeded_initializer(name: str, seed: int, layer_name: str):
    """The configured initializer with a seed of its own for this layer.

    Experts must start different: identical experts get identical gradients and
    stay identical. The seed depends on the training seed and the layer's name,
    so it does not depend on the order layers are built in.
    """
    initializer = tf_keras.initializers.get(name)
    return type(initializer)(seed=_layer_seed(seed, layer_name))


def _layer_seed(seed: int, layer_name: str) -> int:
    """A seed from the training seed and a layer's name (not from the order layers are built in)."""
    return (seed * 1_000_003 + zlib.crc32(layer_name.encode())) % 2**31


def expert(x, config: PipelineConfig, name: str):
    """One expert: ``expert_units`` dense layers (bottom activation, expert dropout), each seeded on its own."""
    model_config = config.model
    for i, units in enumerate(model_config.expert_units):
        layer_name = f"{name}_dense_{i}"
        x = tf_keras.layers.Dense(
            units, activation=model_config.bottom_activation, name=layer_name,
            kernel_regularizer=l2_regularizer(model_config.l2),
            kernel_initializer=seeded_initializer(model_config.bottom_initializer, config.training.seed,
                                                  layer_name))(x)
        if model_config.expert_dropout:
            x = tf_keras.layers.Dropout(model_config.expert_dropout, name=f"{name}_dropout_{i}")(x)
    return x


def gate(x, num_experts: int, config: PipelineConfig, name: str):
    """A softmax over ``num_experts`` experts, after optional hidden layers; the softmax layer is ``name``."""
    hidden = dense_stack(x, config.model.gate_units, "relu", 0.0, "glorot_uniform", f"{name}_hidden")
    return tf_keras.layers.Dense(num_experts, activation="softmax", name=name)(hidden)


def mix(expert_outputs: list, gate_output, name: str):
    """sum_i gate_i * expert_i: stacks the experts to [batch, experts, units] and contracts with the gate.

    An ensemble's experts and gates have a member axis ([batch, k, ...]): each member mixes its own.
    """
    if len(gate_output.shape) == 3:
        return MemberMix(name=name)([gate_output, *expert_outputs])
    units = expert_outputs[0].shape[-1]
    stacked = [tf_keras.layers.Reshape((1, units), name=f"{name}_stack_{i}")(e)
               for i, e in enumerate(expert_outputs)]
    stacked = stacked[0] if len(stacked) == 1 else tf_keras.layers.Concatenate(
        axis=1, name=f"{name}_experts")(stacked)
    return tf_keras.layers.Dot(axes=(1, 1), name=name)([gate_output, stacked])


@dataclass(frozen=True)
class GateGroup:
    """One set of experts and the gates over them, by the names of their layers.

    ``experts`` names every expert of the group (the heatmap's columns);
    ``gates`` maps each task to (its gate's softmax layer, the experts it
    weighs, in the order of the gate's outputs).
    """

    name: str
    experts: tuple[str, ...]
    gates: dict[str, tuple[str, tuple[str, ...]]]
