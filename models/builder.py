"""Model builders by architecture, and the per-task compile step.

A builder takes the configuration and the input spec (input name -> ModelInput) and
returns a tf_keras model with one output per task, named by the task. New
architectures (MMoE, PLE, ...) register here; the Trainer does not change.
"""

from __future__ import annotations

from typing import Callable, Optional

import tf_keras

from models.features import ModelInput
from models.metrics import keras_metrics
from models.shared_bottom import build_shared_bottom
from pipeline.config import PipelineConfig

# The default L2 penalty on every kernel is this over the number of training
# examples: it matters on a table of hundreds of rows and vanishes on a million
# (bench/training_budget.py has the evidence).
L2_PER_EXAMPLE = 5.0

# A builder's contract. Args: the configuration (``config.model`` its sizes,
# ``config.tasks`` its heads) and the inputs (transformed input name -> ModelInput).
# Returns: an uncompiled tf_keras model whose inputs are named by those names
# and whose outputs are a dict with one entry per task, named by the task, of
# shape [batch, task.output_size] with the task's ``output_activation``.
ModelBuilder = Callable[[PipelineConfig, dict[str, ModelInput]], tf_keras.Model]

BUILDERS: dict[str, ModelBuilder] = {
    "shared_bottom": build_shared_bottom,
}


def l2_strength(config: PipelineConfig, train_examples: Optional[int]) -> float:
    """The L2 penalty on every Dense kernel: ``model.l2``, or L2_PER_EXAMPLE / training examples."""
    if config.model.l2 is not None:
        return config.model.l2
    return L2_PER_EXAMPLE / train_examples if train_examples else 0.0


def build_model(config: PipelineConfig, model_inputs: dict[str, ModelInput | int],
                train_examples: Optional[int] = None) -> tf_keras.Model:
    """The configured architecture's model (uncompiled; see ``compile_model``).

    Args:
        config: the pipeline configuration; ``config.model.architecture`` picks the builder.
        model_inputs: input name -> ModelInput, or just its width for a numeric input.
        train_examples: the size of the training split; it sets the default L2
            penalty (``l2_strength``); without it there is none. The builder
            receives the configuration with ``model.l2`` resolved to a number
            and puts that L2 penalty on its Dense kernels.

    Returns:
        A tf_keras model with one output per task, named by the task; ValueError
        for an unknown architecture or a builder that leaves a task without output.
    """
    model_inputs = {name: spec if isinstance(spec, ModelInput) else ModelInput(size=spec)
                    for name, spec in model_inputs.items()}
    architecture = config.model.architecture
    if architecture not in BUILDERS:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(BUILDERS)}")
    l2 = l2_strength(config, train_examples)
    config = config.model_copy(update={"model": config.model.model_copy(update={"l2": l2})})
    model = BUILDERS[architecture](config, model_inputs)
    missing = set(config.task_names) - set(model.output_names)
    if missing:
        raise ValueError(f"{architecture} built no output for tasks {sorted(missing)}")
    return model


def compile_model(model: tf_keras.Model, config: PipelineConfig,
                  project_metrics: bool = True) -> tf_keras.Model:
    """Per-task loss and metrics (from the task-type registry), loss weights; Adam.

    ``project_metrics=False`` leaves out this project's own metric classes, so a
    saved model loads where ``models.metrics`` was never imported (a Beam worker).
    """
    model.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate=config.training.learning_rate),
        loss={t.name: t.task_type.keras_loss for t in config.tasks},
        loss_weights={t.name: t.loss_weight for t in config.tasks},
        # Weighted by the per-task sample weights: rows without a task's label do not count.
        weighted_metrics={t.name: keras_metrics(t.task_type.keras_metrics, project_metrics)
                          for t in config.tasks},
    )
    return model
