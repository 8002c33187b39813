"""Progressive Layered Extraction (Tang et al., RecSys 2020).

``num_levels`` extraction levels (CGC). Each level has ``num_task_experts``
experts per task and ``num_shared_experts`` shared experts. A task's gate mixes
its own experts and the shared ones; below the last level a shared gate mixes
every expert of the level into the shared input of the next level. Level 0
reads the input; level l reads the mixtures of level l-1 (a task's experts its
task's mixture, shared experts the shared mixture). The last level's task
mixtures feed the towers. Keras in, Keras out: no TFX here.
"""

from __future__ import annotations

import tf_keras

from models.blocks import GateGroup, expert, gate, inputs_and_features, mix, task_outputs
from models.features import ModelInput
from config import PipelineConfig

SHARED = "shared"


def _level_experts(config: PipelineConfig, level: int) -> dict[str, tuple[str, ...]]:
    """Owner (a task or SHARED) -> its expert names at this level."""
    m = config.model
    owners = {task: m.num_task_experts for task in config.task_names}
    owners[SHARED] = m.num_shared_experts
    return {owner: tuple(f"level{level}_{owner}_expert_{i}" for i in range(n)) for owner, n in owners.items()}


def _gated_experts(config: PipelineConfig, level: int, owner: str) -> tuple[str, ...]:
    """The experts a gate weighs, in the order of its outputs: own experts, then shared (all for SHARED)."""
    experts = _level_experts(config, level)
    if owner == SHARED:
        return tuple(name for names in experts.values() for name in names)
    return experts[owner] + experts[SHARED]


def _gate_name(level: int, owner: str) -> str:
    return f"level{level}_gate_{owner}"


def gate_groups(config: PipelineConfig) -> list[GateGroup]:
    """One group per level; the heatmap shows each task's gate over the level's experts."""
    groups = []
    for level in range(config.model.num_levels):
        experts = _level_experts(config, level)
        groups.append(GateGroup(
            f"level {level}", tuple(name for names in experts.values() for name in names),
            {t: (_gate_name(level, t), _gated_experts(config, level, t)) for t in config.task_names}))
    return groups


def build_ple(config: PipelineConfig, model_inputs: dict[str, ModelInput]) -> tf_keras.Model:
    inputs, x = inputs_and_features(model_inputs, config)
    owners = [*config.task_names, SHARED]
    level_inputs = {owner: x for owner in owners}
    last = config.model.num_levels - 1
    for level in range(config.model.num_levels):
        outputs = {name: expert(level_inputs[owner], config, name)
                   for owner, names in _level_experts(config, level).items() for name in names}
        mixed = {}
        for owner in owners:
            if owner == SHARED and level == last:
                continue  # nothing above the last level reads a shared mixture
            gated = _gated_experts(config, level, owner)
            weights = gate(level_inputs[owner], len(gated), config, _gate_name(level, owner))
            mixed[owner] = mix([outputs[name] for name in gated], weights, f"level{level}_mixture_{owner}")
        level_inputs = mixed
    outputs = task_outputs(config, {task: level_inputs[task] for task in config.task_names})
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="ple")
