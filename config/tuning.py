"""The ``tuning:`` section: TFX's Tuner searches hyperparameters before the Trainer.

With ``tuning.enabled``, the pipeline runs a Tuner (KerasTuner's random
search) on Transform's output; its best hyperparameters reach the Trainer
through the Tuner's ``best_hyperparameters`` output, and the Trainer trains
the final model with them. The search space (each entry a list of choices):

| name | what it sets |
| --- | --- |
| ``architecture`` | ``model.architecture`` (``shared_bottom`` or ``mmoe``) |
| ``width`` | the shared part's width w: shared-bottom layers [w, w/2], or MMoE experts [w]; towers [w/3, w/6] |
| ``learning_rate`` | ``training.learning_rate`` |
| ``dropout`` | the shared part's dropout (``bottom_dropout`` or ``expert_dropout``) |
| ``ensemble_size`` | ``model.ensemble_size`` (optional: not searched unless given) |

Other model settings the configuration gives (activations, initializers,
``l2``) are kept. Pure Python (pydantic only): importable without TensorFlow.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Model settings a search leaves as the configuration gives them.
KEPT_MODEL_SETTINGS = ("bottom_activation", "task_activation", "bottom_initializer", "task_initializer", "l2",
                       "numeric_embedding", "ensemble_size", "piecewise_linear_bins")


class SearchSpace(BaseModel):
    """The choices of each hyperparameter (one choice fixes it)."""

    model_config = ConfigDict(extra="forbid")

    architecture: list[Literal["shared_bottom", "mmoe"]] = Field(
        default_factory=lambda: ["shared_bottom", "mmoe"], min_length=1)
    width: list[int] = Field(default_factory=lambda: [16, 32, 64, 128], min_length=1)
    learning_rate: list[float] = Field(default_factory=lambda: [3e-4, 1e-3, 3e-3, 1e-2], min_length=1)
    dropout: list[float] = Field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3], min_length=1)
    # null: model.ensemble_size as configured (an ensemble costs k times the shared layers' work a step).
    ensemble_size: Optional[list[int]] = Field(default=None, min_length=1)

    @field_validator("width")
    @classmethod
    def _widths(cls, v):
        if any(w < 2 for w in v):
            raise ValueError(f"widths must be at least 2, got {v}")
        return v

    @field_validator("ensemble_size")
    @classmethod
    def _ensemble_sizes(cls, v):
        if v is not None and any(k < 1 for k in v):
            raise ValueError(f"ensemble sizes must be at least 1, got {v}")
        return v

    @field_validator("learning_rate")
    @classmethod
    def _rates(cls, v):
        if any(r <= 0 for r in v):
            raise ValueError(f"learning rates must be positive, got {v}")
        return v

    @field_validator("dropout")
    @classmethod
    def _dropouts(cls, v):
        if any(not 0 <= d < 1 for d in v):
            raise ValueError(f"dropout rates must be in [0, 1), got {v}")
        return v


class TuningConfig(BaseModel):
    """``tuning: {enabled: true, max_trials: 10, max_minutes: 30}``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    max_trials: int = Field(default=10, ge=1)
    # The search starts no trial after this many minutes (a running one finishes); null: no limit.
    max_minutes: Optional[float] = Field(default=None, gt=0)
    # Each trial trains as the Trainer does (early stopping), at most this many steps;
    # null: training.max_steps.
    trial_max_steps: Optional[int] = Field(default=None, ge=1)
    search_space: SearchSpace = Field(default_factory=SearchSpace)


def tuned_sections(model: dict[str, Any], training: dict[str, Any],
                   values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``model`` and ``training`` sections with a trial's hyperparameter values applied.

    ``model``/``training`` are the configuration's sections (of the model,
    only ``KEPT_MODEL_SETTINGS`` are read); ``values`` names a choice of
    each entry of the search space (KerasTuner's ``HyperParameters.values``).
    """
    architecture, width, dropout = values["architecture"], int(values["width"]), float(values["dropout"])
    tuned_model = {k: v for k, v in model.items() if k in KEPT_MODEL_SETTINGS}
    tuned_model["architecture"] = architecture
    tuned_model["task_units"] = [max(2, round(width / 3)), max(1, round(width / 6))]
    if "ensemble_size" in values:
        tuned_model["ensemble_size"] = int(values["ensemble_size"])
    if architecture == "shared_bottom":
        tuned_model.update(bottom_units=[width, max(1, width // 2)], bottom_dropout=dropout)
    else:
        tuned_model.update(expert_units=[width], expert_dropout=dropout)
    return tuned_model, {**training, "learning_rate": float(values["learning_rate"])}


def apply_hyperparameters(config, values: dict[str, Any]):
    """``config`` (a PipelineConfig) with a trial's hyperparameter values applied, validated again."""
    raw = config.model_dump(mode="json")
    raw["model"], raw["training"] = tuned_sections(raw["model"], raw["training"], values)
    return type(config).model_validate(raw)


def trained_config(config, hyperparameters: Optional[dict]):
    """The configuration the Trainer trains with: ``config``, or with the Tuner's best values applied.

    ``hyperparameters`` is the Tuner's ``HyperParameters.get_config()`` (TFX
    passes it to the Trainer as ``fn_args.hyperparameters``), or None without a Tuner.
    """
    if not hyperparameters:
        return config
    return apply_hyperparameters(config, hyperparameters["values"])


def describe(values: dict[str, Any]) -> str:
    """One line for the run summary, e.g. 'architecture mmoe, width 64, learning_rate 0.003, dropout 0.1'."""
    return ", ".join(f"{name} {values[name]:g}" if isinstance(values[name], float) else f"{name} {values[name]}"
                     for name in SearchSpace.model_fields if name in values)
