"""The Tuner's tuner_fn: a KerasTuner random search over the configured model.

``tfx.components.Tuner(tuner_fn="models.tuning.tuner_fn", ...)`` calls it
with the same arguments as the Trainer's run_fn (Transform's output, the
configuration in ``custom_config``). Each trial builds the model with one
choice from each entry of ``tuning.search_space``
(``config.tuning``), trains it as the Trainer does (the same
datasets, early stopping on the eval loss, at most ``tuning.trial_max_steps``
steps) and is scored by its lowest eval loss. The Tuner writes the best
trial's hyperparameters; the Trainer receives them as ``fn_args.hyperparameters``
and applies them with ``config.tuning.trained_config``.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import keras_tuner
import tensorflow_transform as tft
import tf_keras
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from models import budget, features
from models.builder import build_model, compile_model
from models.ensemble import training_view
from models.input_pipeline import count_examples, datasets, planned_passes
from models.trainer import STEPS_PER_EXECUTION
from config import PipelineConfig
from config.tuning import apply_hyperparameters

OBJECTIVE = "val_loss"  # the loss the Trainer's early stopping watches


class TimedRandomSearchOracle(keras_tuner.oracles.RandomSearchOracle):
    """Random search that starts no trial after ``deadline`` (``time.monotonic()``; None: no limit)."""

    def __init__(self, *args, deadline: Optional[float] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def populate_space(self, trial_id):
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return {"status": keras_tuner.engine.trial.TrialStatus.STOPPED, "values": None}
        return super().populate_space(trial_id)


def trial_values(hp: keras_tuner.HyperParameters, config: PipelineConfig) -> dict[str, Any]:
    """Declares the search space on ``hp``; this trial's choice of each entry."""
    space = config.tuning.search_space
    return {name: hp.Choice(name, list(getattr(space, name))) for name in type(space).model_fields
            if getattr(space, name) is not None}  # an entry left null is not searched


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """The Tuner's entry point (``tuner_fn="models.tuning.tuner_fn"``)."""
    config = PipelineConfig.from_custom_config(fn_args.custom_config)
    tuning, training = config.tuning, config.training
    tf_keras.utils.set_random_seed(training.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    limit = budget.examples_to_count(training.epochs, training.batch_size)
    train_examples = count_examples(fn_args.train_files, limit)
    plan = budget.plan_training(train_examples, training.batch_size, epochs=training.epochs,
                                train_steps=None if tuning.trial_max_steps else training.train_steps,
                                max_steps=tuning.trial_max_steps or training.max_steps,
                                early_stopping=training.early_stopping, patience=training.patience)
    train, evaluation = datasets(fn_args, tf_transform_output, config,
                                 passes=tuning.max_trials * planned_passes(
                                     fn_args.train_files, train_examples, limit,
                                     plan.max_steps * training.batch_size))
    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)

    def build(hp: keras_tuner.HyperParameters) -> tf_keras.Model:
        trial_config = apply_hyperparameters(config, trial_values(hp, config))
        return compile_model(training_view(build_model(trial_config, model_inputs, train_examples)), trial_config,
                             steps_per_execution=STEPS_PER_EXECUTION)

    deadline = None if tuning.max_minutes is None else time.monotonic() + 60 * tuning.max_minutes
    oracle = TimedRandomSearchOracle(objective=keras_tuner.Objective(OBJECTIVE, "min"),
                                     max_trials=tuning.max_trials, seed=training.seed, deadline=deadline)
    tuner = keras_tuner.Tuner(oracle=oracle, hypermodel=build, directory=fn_args.working_dir,
                              project_name="search", overwrite=True)
    callbacks = [tf_keras.callbacks.EarlyStopping(OBJECTIVE, patience=plan.patience)] \
        if plan.patience is not None else []
    return TunerFnResult(tuner=tuner, fit_kwargs={
        "x": train, "validation_data": evaluation, "steps_per_epoch": plan.steps_per_check,
        "epochs": plan.checks, "callbacks": callbacks, "verbose": 2})
