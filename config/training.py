"""The training section: the budget, early stopping, the optimizer and the task weighting."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from config.strict import Strict as _Strict


class TrainingConfig(_Strict):
    """How long and how the model trains (see models/budget.py for the plan).

    The budget is ``epochs`` (passes over the training split) or
    ``train_steps`` (batches); with neither, training runs until early
    stopping ends it, at most ``max_steps``. Early stopping watches the loss
    on the first ``eval_steps`` batches of the eval split, checked about once
    an epoch (at least every ``MIN_STEPS_PER_CHECK``, at most every
    ``MAX_STEPS_PER_CHECK`` steps); after ``patience`` checks without
    improvement it stops and restores the best weights. A run started from
    the served model's weights (``warm_start``) is capped at
    ``warm_start_max_steps`` instead of ``max_steps``.
    """

    seed: int = Field(default=7, ge=0)  # weight initialisation and shuffling
    train_steps: Optional[int] = Field(default=None, ge=1)
    epochs: Optional[int] = Field(default=None, ge=1)
    max_steps: int = Field(default=10_000, ge=1)
    early_stopping: bool = True
    patience: int = Field(default=10, ge=1)
    eval_steps: int = Field(default=20, ge=1)
    batch_size: int = Field(default=128, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0)
    # static: each task's loss_weight. uncertainty: weights learned from a log variance
    # per task (Kendall et al., 2018), on top of the static ones.
    task_weighting: Literal["static", "uncertainty"] = "static"
    # Start from the served model (the newest blessed one, the Trainer's base_model) where its
    # layers and vocabularies fit (models/warm_start.py); else from scratch. It helps
    # (bench/warm_start.py) but the served model is a Trainer input, so an unchanged rerun
    # retrains: off by default (docs/configuration.md).
    warm_start: bool = False
    # The cap of a warm-started run without train_steps or epochs (early stopping still decides):
    # it starts near the served model's optimum (bench/warm_start.py: 100-200 steps to the
    # from-scratch model's best eval loss; a cap of 2,000 gained 0.0001 of R² over 1,000),
    # so a daily run need not pay the first run's cap.
    warm_start_max_steps: int = Field(default=1_000, ge=1)

    @model_validator(mode="after")
    def _one_budget(self):
        if self.train_steps is not None and self.epochs is not None:
            raise ValueError("give training.epochs or training.train_steps, not both")
        return self
