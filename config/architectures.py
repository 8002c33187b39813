"""The model architectures, each with its own settings: the ``model:`` section.

``model.architecture`` picks an entry of ``ARCHITECTURES``; the other keys of
the section are the settings every architecture reads (the towers,
activations, initializers, L2; ``ModelConfig``) and that architecture's own
(its class below). They are written flat, next to ``architecture``:

    model: {architecture: mmoe, num_experts: 8, task_units: [10, 5]}

A setting only another architecture reads is an error naming who reads it,
unless it is at its default value (a configuration written out by a run
repeats every default). Adding an architecture is a settings class here,
registered in ``ARCHITECTURES``, and its builder registered under the same
name in ``models/builder.py``.

Pure Python (pydantic only): importable without TensorFlow.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional

import pydantic
from pydantic import Field, field_validator, model_validator

from config.strict import Strict

DEFAULT_ARCHITECTURE = "shared_bottom"
PIECEWISE_LINEAR_BINS = 32
ACTIVATIONS = Literal["relu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "linear"]
INITIALIZERS = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_normal", "random_normal", "truncated_normal",
]


def _positive_units(v: list[int]) -> list[int]:
    if any(u < 1 for u in v):
        raise ValueError(f"layer sizes must be positive integers, got {v}")
    return v


class ModelConfig(Strict):
    """The settings every architecture reads: a shared part (its class), then one tower per task.

    Validating a ``model:`` section as ``ModelConfig`` gives the settings
    class of its ``architecture`` (``ARCHITECTURES``).
    """

    architecture: str = DEFAULT_ARCHITECTURE
    task_units: list[int] = Field(default_factory=lambda: [10, 5])
    bottom_activation: ACTIVATIONS = "relu"  # the shared layers' (a shared bottom's, or every expert's)
    task_activation: ACTIVATIONS = "relu"
    task_dropout: float = Field(default=0.0, ge=0, lt=1)
    bottom_initializer: INITIALIZERS = "glorot_uniform"  # as bottom_activation
    task_initializer: INITIALIZERS = "glorot_uniform"
    # L2 penalty on every Dense kernel; null: 5 / the number of training examples
    # (strong on a table of hundreds of rows, negligible on a million).
    l2: Optional[float] = Field(default=None, ge=0)
    # Numeric inputs as they are, with periodic embeddings beside them, or piecewise-linear encoded
    # over quantile bins Transform computes (with a per-input linear layer and ReLU after it:
    # piecewise_linear_relu); models.numeric_embeddings, models.piecewise_linear.
    numeric_embedding: Literal["none", "periodic", "piecewise_linear", "piecewise_linear_relu"] = "none"
    # The piecewise-linear encoding's bins per numeric input (a column with fewer distinct
    # values gets empty bins, which are safe); read only with a piecewise_linear embedding.
    piecewise_linear_bins: int = Field(default=PIECEWISE_LINEAR_BINS, ge=2, le=256)
    # k > 1: k members sharing every layer but an input scaling and an output head each, trained
    # on their own and served as their mean (TabM-mini, models.ensemble); 1: one model.
    ensemble_size: int = Field(default=1, ge=1)

    positive_units = field_validator("task_units")(_positive_units)

    @property
    def encoding_bins(self) -> Optional[int]:
        """The bins Transform encodes numeric inputs over, or None without a piecewise-linear embedding."""
        return self.piecewise_linear_bins if self.numeric_embedding.startswith("piecewise_linear") else None

    @model_validator(mode="after")
    def _bins_need_the_encoding(self):
        if self.encoding_bins is None and self.piecewise_linear_bins != PIECEWISE_LINEAR_BINS:
            raise ValueError(f"piecewise_linear_bins is read only with numeric_embedding: piecewise_linear "
                             f"(or piecewise_linear_relu), not {self.numeric_embedding}; remove it or "
                             "set model.numeric_embedding")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _as_its_architecture(cls, raw: Any, handler):
        if cls is not ModelConfig or not isinstance(raw, dict):
            return handler(raw)
        name = raw.get("architecture", DEFAULT_ARCHITECTURE)
        if name not in ARCHITECTURES:
            _ArchitectureName.model_validate({"architecture": name})  # pydantic's own message, at this field
        chosen = ARCHITECTURES[name]
        return chosen.model_validate({k: v for k, v in raw.items() if not _foreign_default(chosen, k, v)})


def _readers(knob: str) -> list[str]:
    """The architectures that read a setting of their own named ``knob``."""
    return [name for name, settings in ARCHITECTURES.items()
            if knob in settings.model_fields and knob not in ModelConfig.model_fields]


def _foreign_default(chosen: type[ModelConfig], knob: str, value: Any) -> bool:
    """Whether ``knob`` belongs to other architectures only and is left at its default there.

    Raises ValueError when it is set to something else: it would be ignored.
    """
    readers = _readers(knob)
    if knob in chosen.model_fields or not readers:
        return False  # the chosen one's, or unknown (reported as an unknown setting)
    default = ARCHITECTURES[readers[0]].model_fields[knob].get_default(call_default_factory=True)
    if value == default:
        return True
    raise ValueError(f"{knob} is read by {' / '.join(readers)}, not by {chosen.model_fields['architecture'].default}; "
                     f"remove it or change model.architecture")


class SharedBottomConfig(ModelConfig):
    """``shared_bottom``: shared dense layers (``bottom_units``) feed every task's tower.

    The last bottom layer is linear, as in the reference implementation;
    ``bottom_linear_output: false`` gives it ``bottom_activation`` too (the
    MMoE paper's shared-bottom: one ReLU layer).
    """

    architecture: Literal["shared_bottom"] = "shared_bottom"
    bottom_units: list[int] = Field(default_factory=lambda: [32, 16], min_length=1)
    bottom_linear_output: bool = True
    bottom_dropout: float = Field(default=0.0, ge=0, lt=1)

    positive_units = field_validator("task_units", "bottom_units")(_positive_units)


class ExpertsConfig(ModelConfig):
    """What every mixture of experts reads: the experts' layers and dropout, the gates' hidden layers.

    An expert is ``expert_units`` dense layers (``bottom_activation`` and
    ``bottom_initializer``, each expert seeded on its own, ``expert_dropout``);
    a gate is a softmax over its experts, after optional hidden layers
    (``gate_units``). The defaults fit the synthetic default data (a few
    thousand examples): more or wider experts overfit it.
    """

    expert_units: list[int] = Field(default_factory=lambda: [16], min_length=1)
    expert_dropout: float = Field(default=0.1, ge=0, lt=1)
    gate_units: list[int] = Field(default_factory=list)

    positive_units = field_validator("task_units", "expert_units", "gate_units")(_positive_units)


class MixtureConfig(ExpertsConfig):
    """``num_experts`` shared experts mixed by softmax gates on the input, then one tower per task."""

    # One gate for all tasks (OMoE), or one per task (MMoE).
    one_gate: ClassVar[bool]
    num_experts: int = Field(default=4, ge=1)


class OmoeConfig(MixtureConfig):
    """``omoe``: the experts mixed by one gate, the same mixture for every task (the MMoE paper's baseline)."""

    one_gate: ClassVar[bool] = True
    architecture: Literal["omoe"] = "omoe"


class MmoeConfig(MixtureConfig):
    """``mmoe``: the experts mixed by one gate per task (Ma et al., KDD 2018)."""

    one_gate: ClassVar[bool] = False
    architecture: Literal["mmoe"] = "mmoe"


class PleConfig(ExpertsConfig):
    """``ple``: ``num_levels`` levels of task-specific and shared experts (Tang et al., RecSys 2020).

    Each level has ``num_task_experts`` experts per task and
    ``num_shared_experts`` shared ones; a task's gate mixes its own and the
    shared ones, a shared gate feeds the next level.
    """

    architecture: Literal["ple"] = "ple"
    num_shared_experts: int = Field(default=2, ge=0)
    num_task_experts: int = Field(default=1, ge=0)
    num_levels: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _an_expert_per_gate(self):
        if self.num_task_experts + self.num_shared_experts < 1:
            raise ValueError("ple needs at least one expert per gate: set num_task_experts + "
                             f"num_shared_experts >= 1 (got {self.num_task_experts} + "
                             f"{self.num_shared_experts})")
        return self


# Name (model.architecture) -> its settings; models/builder.py registers a builder under each name.
ARCHITECTURES: dict[str, type[ModelConfig]] = {
    "shared_bottom": SharedBottomConfig,
    "omoe": OmoeConfig,
    "mmoe": MmoeConfig,
    "ple": PleConfig,
}

# Checks an unknown name with pydantic's message for a choice ("Input should be 'a', 'b' or 'c'").
_ArchitectureName = pydantic.create_model(
    "_ArchitectureName", architecture=(Literal[tuple(ARCHITECTURES)], ...))


def describe_choices() -> str:
    """The architectures' names for a help text: ``a, b, c or d``."""
    names = list(ARCHITECTURES)
    return f"{', '.join(names[:-1])} or {names[-1]}"
