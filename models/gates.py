"""Measures a gated model's mean gate weight per task and expert on a dataset."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras

from models.builder import gate_groups
from config import PipelineConfig
from models.trainer_outputs import GateGroupWeights, GateWeights


def mean_gate_weights(model: tf_keras.Model, config: PipelineConfig,
                      dataset: tf.data.Dataset) -> GateWeights | None:
    """Mean softmax weights of every task's gates over ``dataset`` ((inputs, labels) batches, finite).

    None for an architecture without gates.
    """
    groups = gate_groups(config)
    if not groups:
        return None
    layers = sorted({layer for group in groups for layer, _ in group.gates.values()})
    probe = tf_keras.Model(model.inputs, {name: model.get_layer(name).output for name in layers})
    sums = {name: np.zeros(model.get_layer(name).output.shape[-1]) for name in layers}
    count = 0
    for inputs, *_ in dataset:
        weights = probe(inputs, training=False)
        for name in layers:
            w = weights[name].numpy()
            # An ensemble's gates are [batch, members, experts]: the members' mean per example.
            sums[name] += w.mean(axis=tuple(range(1, w.ndim - 1))).sum(axis=0)
        count += int(next(iter(weights.values())).shape[0])
    if count == 0:
        raise ValueError("no examples to measure the gates on: the eval split is empty")
    recorded = []
    for group in groups:
        rows = {}
        for task, (layer, gated) in group.gates.items():
            means = dict(zip(gated, sums[layer] / count))
            rows[task] = [float(means[e]) if e in means else None for e in group.experts]
        recorded.append(GateGroupWeights(group.name, list(group.experts), rows))
    return GateWeights(config.model.architecture, count, recorded)
