"""How long the Trainer trains: the step budget, how often it checks the eval loss, when it stops.

Pure Python: the Trainer asks for a plan given the training configuration and
the number of training examples, trains in chunks of ``steps_per_check``
steps (a Keras "epoch" of the fit loop) and checks the eval loss after each.

- ``training.epochs``: that many passes over the training split, checked once a pass.
- ``training.train_steps``: that many steps, checked about once a pass.
- neither: up to ``training.max_steps`` steps, checked about once a pass;
  early stopping decides. On a small table a pass is a few steps, so the
  model trains until the eval loss stops improving; on a large one the cap
  bounds training time whatever the data size. A run that starts from the
  served model's weights (``training.warm_start``) starts near where the
  from-scratch model ended, so its cap is ``training.warm_start_max_steps``.

A check is at least ``MIN_STEPS_PER_CHECK`` and at most ``MAX_STEPS_PER_CHECK``
steps apart (except with ``epochs``, which checks once a pass as asked), so a
tiny table is not evaluated every other step and a huge one is still checked.
With early stopping on (the default), ``patience`` checks without a lower
eval loss stop training and the weights of the best check are restored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from models.trainer_outputs import TRAINING_RECORD  # noqa: F401  (models.trainer writes it as budget.TRAINING_RECORD)

MIN_STEPS_PER_CHECK = 100
MAX_STEPS_PER_CHECK = 1000


@dataclass(frozen=True)
class TrainingPlan:
    steps_per_check: int
    checks: int
    patience: Optional[int]  # None: no early stopping
    budget: str  # what bounds training, e.g. "10,000 steps (training.max_steps)"

    @property
    def max_steps(self) -> int:
        return self.steps_per_check * self.checks


def steps_per_epoch(train_examples: int, batch_size: int) -> int:
    return max(1, math.ceil(train_examples / batch_size))


def examples_to_count(epochs: Optional[int], batch_size: int) -> Optional[int]:
    """How many training examples the plan needs counted (None: all of them).

    Beyond ``MAX_STEPS_PER_CHECK`` batches the check interval no longer
    depends on the data size, so only ``epochs`` needs the full count.
    """
    return None if epochs is not None else MAX_STEPS_PER_CHECK * batch_size


def _check_interval(train_examples: int, batch_size: int) -> int:
    return min(MAX_STEPS_PER_CHECK, max(MIN_STEPS_PER_CHECK, steps_per_epoch(train_examples, batch_size)))


def plan_training(train_examples: int, batch_size: int, epochs: Optional[int] = None,
                  train_steps: Optional[int] = None, max_steps: int = 10_000,
                  early_stopping: bool = True, patience: int = 10,
                  warm_start_max_steps: Optional[int] = None) -> TrainingPlan:
    """The plan for ``train_examples`` training examples (at least 1).

    ``warm_start_max_steps``: the run starts from a base model's weights; without
    ``epochs`` or ``train_steps`` it is the cap instead of ``max_steps``.
    """
    if train_examples < 1:
        raise ValueError("the training split is empty: there is nothing to train on")
    stop = patience if early_stopping else None
    if epochs is not None:
        per_epoch = steps_per_epoch(train_examples, batch_size)
        return TrainingPlan(per_epoch, epochs, stop,
                            f"{epochs:,} epochs of {per_epoch:,} steps (training.epochs)")
    if train_steps is not None:
        limit, source = train_steps, "training.train_steps"
    elif warm_start_max_steps is not None:
        limit, source = warm_start_max_steps, "training.warm_start_max_steps"
    else:
        limit, source = max_steps, "training.max_steps"
    interval = min(_check_interval(train_examples, batch_size), limit)
    checks = math.ceil(limit / interval)
    interval = math.ceil(limit / checks)  # the same total within a step per check
    return TrainingPlan(interval, checks, stop, f"{interval * checks:,} steps ({source})")


@dataclass(frozen=True)
class TrainingOutcome:
    """What happened, for the run summary: steps run, and why training stopped."""

    steps: int
    epochs: Optional[float]  # passes over the training split (None: the split was not counted whole)
    stopped_early: bool
    best_step: Optional[int]  # the step whose weights were kept (early stopping)
    budget: str

    def describe(self) -> str:
        epochs = "" if self.epochs is None else \
            f" ({self.epochs:,.0f} epochs)" if self.epochs >= 10 else f" ({self.epochs:.2g} epochs)"
        ran = f"{self.steps:,} steps{epochs}"
        if self.stopped_early:
            return (f"{ran}; stopped early: the eval loss stopped improving after step "
                    f"{self.best_step:,}, whose weights were kept; budget {self.budget}")
        best = f"; best eval loss at step {self.best_step:,}, whose weights were kept" \
            if self.best_step is not None and self.best_step != self.steps else ""
        return f"{ran}; ran its whole budget, {self.budget}{best}"


def outcome(plan: TrainingPlan, checks_run: int, best_check: Optional[int], train_examples: int,
            batch_size: int, counted_whole: bool = True) -> TrainingOutcome:
    """``checks_run`` chunks ran; ``best_check`` (1-based) is the one whose weights were kept.

    ``counted_whole``: ``train_examples`` is the whole training split, not a lower bound.
    """
    steps = checks_run * plan.steps_per_check
    best_step = None if best_check is None else best_check * plan.steps_per_check
    epochs = steps * batch_size / max(1, train_examples) if counted_whole else None
    return TrainingOutcome(steps, epochs, checks_run < plan.checks, best_step, plan.budget)
