"""Model builders by architecture, and the per-task compile step.

A builder takes the configuration and the input spec (input name -> ModelInput) and
returns a tf_keras model with one output per task, named by the task. New
architectures (MMoE, PLE, ...) register here; the Trainer does not change.
"""

from __future__ import annotations

from typing import Callable

import tf_keras

from models.features import ModelInput
from models.metrics import keras_metrics
from models.shared_bottom import build_shared_bottom
from pipeline.config import PipelineConfig

# A builder's contract. Args: the configuration (``config.model`` its sizes,
# ``config.tasks`` its heads) and the inputs (transformed input name -> ModelInput).
# Returns: an uncompiled tf_keras model whose inputs are named by those names
# and whose outputs are a dict with one entry per task, named by the task, of
# shape [batch, 1] with the task's ``output_activation``.
ModelBuilder = Callable[[PipelineConfig, dict[str, ModelInput]], tf_keras.Model]

BUILDERS: dict[str, ModelBuilder] = {
    "shared_bottom": build_shared_bottom,
}


def build_model(config: PipelineConfig, model_inputs: dict[str, ModelInput | int]) -> tf_keras.Model:
    """The configured architecture's model (uncompiled; see ``compile_model``).

    Args:
        config: the pipeline configuration; ``config.model.architecture`` picks the builder.
        model_inputs: input name -> ModelInput, or just its width for a numeric input.

    Returns:
        A tf_keras model with one output per task, named by the task; ValueError
        for an unknown architecture or a builder that leaves a task without output.
    """
    model_inputs = {name: spec if isinstance(spec, ModelInput) else ModelInput(size=spec)
                    for name, spec in model_inputs.items()}
    architecture = config.model.architecture
    if architecture not in BUILDERS:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(BUILDERS)}")
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
        metrics={t.name: keras_metrics(t.task_type.keras_metrics, project_metrics) for t in config.tasks},
    )
    return model
