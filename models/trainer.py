"""The Trainer's run_fn: train the configured model, export it with its serving signatures.

The input pipeline is ``models.input_pipeline``, the callbacks
``models.callbacks``, the exported signatures ``models.signatures`` (what a
served request gets back is described there), the training budget
``models.budget``.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras
from tfx.components.trainer.fn_args_utils import FnArgs

from models import budget, callbacks, features, input_pipeline, signatures, warm_start
from models.ensemble import training_view
from models.builder import build_model, compile_model, save_network
from models.gates import mean_gate_weights
from models.task_weighting import save_learned_weights
from models.trainer_outputs import GATE_WEIGHTS_FILE, WARM_START_FILE
from config import PipelineConfig
from config.tuning import trained_config

# Training steps run in one call of the compiled training function. Keras'
# fit loop costs about 0.4 ms of Python a call (callbacks, logs, dispatch);
# with 10 steps a call the default model's step takes 0.7 ms instead of 1.7
# in memory. Training is the same step for step (bit-identical weights);
# callbacks see one batch end a call (models.fit_steps), and an epoch (an
# early-stopping check) still ends on its own step.
STEPS_PER_EXECUTION = 10


def run_fn(fn_args: FnArgs) -> None:
    """The Trainer's entry point (``run_fn="models.trainer.run_fn"``).

    Args:
        fn_args: TFX's trainer arguments. Reads ``train_files``/``eval_files``
            (the window's raw examples), ``transform_output`` (Transform's graph,
            applied to them in ``models.input_pipeline``),
            ``model_run_dir`` (TensorBoard logs, the training record) and
            ``custom_config``, which is ``PipelineConfig.to_custom_config()``:
            key ``pipeline_config`` (the whole configuration as JSON-ready
            data; ``code_version`` is there for the cache only).

    Returns:
        None. Writes the trained model to ``fn_args.serving_model_dir`` with
        the signatures of ``models.signatures``.
    """
    # With a Tuner in the pipeline, its best hyperparameters replace the configured ones.
    config = trained_config(PipelineConfig.from_custom_config(fn_args.custom_config), fn_args.hyperparameters)
    tf_keras.utils.set_random_seed(config.training.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)

    training = config.training
    limit = budget.examples_to_count(training.epochs, training.batch_size)
    train_examples = input_pipeline.count_examples(fn_args.train_files, limit)

    # The default L2 penalty needs the size of the training split; a count capped at
    # `limit` is a lower bound, and the penalty is negligible at that size anyway.
    model_inputs = features.model_inputs(config, tf_transform_output.vocabulary_size_by_name)
    network = build_model(config, model_inputs, train_examples)
    vocabularies = _vocabularies(config, tf_transform_output)
    warm_started = training.warm_start and _warm_start(network, config, vocabularies, fn_args)

    # How long to train follows from the size of the training split and whether training
    # starts from the served model's weights (models.budget).
    plan = budget.plan_training(train_examples, training.batch_size, epochs=training.epochs,
                                train_steps=training.train_steps, max_steps=training.max_steps,
                                early_stopping=training.early_stopping, patience=training.patience,
                                warm_start_max_steps=training.warm_start_max_steps if warm_started else None)
    passes = input_pipeline.planned_passes(fn_args.train_files, train_examples, limit,
                                           plan.max_steps * training.batch_size)
    train_dataset, eval_dataset = input_pipeline.datasets(fn_args, tf_transform_output, config, passes=passes)

    # Training compiles a view of the network (the same layers and weights), so the
    # network saved below carries no loss, metric or optimizer: TFMA loads it in fresh
    # worker processes that have not imported models.metrics, and R² reaches the
    # Evaluator through its own MetricConfig (models.regression_metrics). An ensemble's view
    # has its members' outputs, each member with a loss of its own (models.ensemble).
    model = compile_model(training_view(network), config,
                          steps_per_execution=STEPS_PER_EXECUTION)

    best = callbacks.BestWeights(plan.patience)
    model.fit(
        train_dataset,
        steps_per_epoch=plan.steps_per_check,
        epochs=plan.checks,
        validation_data=eval_dataset,
        callbacks=[best, *callbacks.callbacks(fn_args, config, plan.checks * plan.steps_per_check)],
        verbose=2,
    )

    result = budget.outcome(plan, best.checks_run, best.best_check, train_examples, training.batch_size,
                            counted_whole=limit is None or train_examples < limit)
    _write_training_record(fn_args.model_run_dir, result, train_examples, fn_args.hyperparameters)
    if training.task_weighting == "uncertainty":
        print("learned task weights:", save_learned_weights(model, config, fn_args.model_run_dir))
    eval_once = input_pipeline.make_dataset(fn_args.eval_files, tf_transform_output.transformed_feature_spec(),
                                            config, training.batch_size, one_pass=True,
                                            transform=tf_transform_output)
    _record_gates(network, config, eval_once, fn_args.model_run_dir)

    save_network(network, fn_args.serving_model_dir,
                 signatures=signatures.signatures(network, tf_transform_output, config))
    # Beside the SavedModel: what a later warm-started run copies from.
    warm_start.save(network, warm_start.weights_path(fn_args.serving_model_dir), config.model.architecture,
                    vocabularies)


def _vocabularies(config: PipelineConfig, tf_transform_output) -> warm_start.Vocabularies:
    """Each categorical input's vocabulary in this run's transform graph, and its OOV buckets."""
    return warm_start.vocabularies(
        {features.transformed_name(f.name): (features.vocabulary_name(f.name), f.num_oov_buckets)
         for f in config.features if f.type == "categorical"},
        tf_transform_output.vocabulary_by_name)


def _warm_start(network: tf_keras.Model, config: PipelineConfig, vocabularies: warm_start.Vocabularies,
                fn_args: FnArgs) -> bool:
    """Starts ``network`` from the base model's weights where they fit; records what it did.

    Returns whether any weights were copied (else it trains from scratch).
    """
    if fn_args.base_model:
        decision = warm_start.start_from(network, warm_start.weights_path(fn_args.base_model),
                                         config.model.architecture, vocabularies,
                                         os.path.dirname(fn_args.base_model.rstrip("/")))
    else:
        decision = warm_start.WarmStart("scratch", None, 0, 0, "no blessed model yet")
    print(f"Warm start: {decision.warm_start} ({decision.reason})")
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, WARM_START_FILE), "w") as f:
        f.write(decision.to_json())
    return decision.warm_start == "from"


def _write_training_record(model_run_dir: str, result: budget.TrainingOutcome, train_examples: int,
                           hyperparameters: Optional[dict] = None) -> None:
    """How long training ran and why it stopped, for the report (``budget.TRAINING_RECORD``)."""
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(os.path.join(model_run_dir, budget.TRAINING_RECORD), "w") as f:
        json.dump({"steps": result.steps, "epochs": result.epochs, "stopped_early": result.stopped_early,
                   "best_step": result.best_step, "budget": result.budget,
                   "train_examples_counted": train_examples, "summary": result.describe(),
                   "hyperparameters": (hyperparameters or {}).get("values")}, f)


def _record_gates(model: tf_keras.Model, config: PipelineConfig, eval_once: tf.data.Dataset,
                  model_run_dir: str) -> None:
    """A gated model's mean gate weights on the whole eval split, saved with the model run."""
    weights = mean_gate_weights(model, config, eval_once)
    if weights is None:
        return
    with tf.io.gfile.GFile(f"{model_run_dir}/{GATE_WEIGHTS_FILE}", "w") as f:
        f.write(weights.to_json())
    for line in weights.summary_lines():
        print(line)
