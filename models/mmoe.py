"""Mixtures of experts: Multi-gate (MMoE, Ma et al., KDD 2018) and its one-gate baseline (OMoE).

``num_experts`` shared experts; each task mixes them with its own softmax gate
on the input (MMoE), or every task with the same one gate (OMoE, the paper's
Sec. 4 baseline), then has its own tower. The two differ only in the number
of gates (``model.one_gate``), so one builder builds both. Keras in, Keras
out: no TFX here.
"""

from __future__ import annotations

import tf_keras

from models.blocks import GateGroup, expert, gate, inputs_and_features, mix, task_outputs
from models.features import ModelInput
from config import PipelineConfig


def expert_names(config: PipelineConfig) -> tuple[str, ...]:
    return tuple(f"expert_{i}" for i in range(config.model.num_experts))


def gate_name(config: PipelineConfig, task: str) -> str:
    """Each task's gate; one gate for all tasks when the mixture is one-gate (OMoE)."""
    return "gate" if config.model.one_gate else f"gate_{task}"


def gate_groups(config: PipelineConfig) -> list[GateGroup]:
    experts = expert_names(config)
    return [GateGroup("experts", experts, {t: (gate_name(config, t), experts) for t in config.task_names})]


def build_mixture_of_experts(config: PipelineConfig, model_inputs: dict[str, ModelInput]) -> tf_keras.Model:
    """OMoE or MMoE, by ``model.one_gate``: one output per task."""
    inputs, x = inputs_and_features(model_inputs, config)
    experts = [expert(x, config, name) for name in expert_names(config)]
    mixed = {}
    for task in config.task_names:
        name = gate_name(config, task)
        if name not in mixed:
            weights = gate(x, len(experts), config, name)
            mixed[name] = mix(experts, weights, f"{name}_mixture")
    outputs = task_outputs(config, {task: mixed[gate_name(config, task)] for task in config.task_names})
    return tf_keras.Model(inputs=inputs, outputs=outputs, name=config.model.architecture)

