"""One-gate Mixture-of-Experts: the MMoE paper's baseline (Ma et al., KDD 2018, Sec. 4).

``num_experts`` shared experts mixed by one softmax gate on the input, the same
mixture for every task, then one tower per task. It differs from MMoE only in
the number of gates, so it is built by the same code.
"""

from __future__ import annotations

import tf_keras

from models.features import ModelInput
from models.mmoe import build_mixture_of_experts, gate_groups  # noqa: F401  (gate_groups: OMoE's too)
from pipeline.config import PipelineConfig


def build_omoe(config: PipelineConfig, model_inputs: dict[str, ModelInput]) -> tf_keras.Model:
    return build_mixture_of_experts(config, model_inputs)
