"""Model builders by architecture, and the per-task compile step.

A builder takes the configuration and the input spec (input name -> ModelInput) and
returns a tf_keras model with one output per task, named by the task. Each
architecture of the configuration (``config.architectures``, which
also holds its settings) registers its builder here under the same name, and,
if it has gates, where they are; the Trainer does not change.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Callable, Optional

import tensorflow as tf
import tf_keras

from models.tasks import task_type
from models import mmoe, ple
from models.blocks import GateGroup
from models.features import ModelInput
from models.shared_bottom import build_shared_bottom
from models.task_weighting import uncertainty_losses
from config import PipelineConfig

# The default L2 penalty on every kernel is this over the number of training
# examples: it matters on a table of hundreds of rows and vanishes on a million
# (docs/model-quality.md, "Why these defaults", has the evidence).
L2_PER_EXAMPLE = 5.0

# A builder's contract. Args: the configuration (``config.model`` its settings,
# ``config.tasks`` its heads) and the inputs (transformed input name -> ModelInput).
# Returns: an uncompiled tf_keras model whose inputs are named by those names
# and whose outputs are a dict with one entry per task, named by the task, of
# shape [batch, task.output_size] with the task's ``output_activation``.
ModelBuilder = Callable[[PipelineConfig, dict[str, ModelInput]], tf_keras.Model]


@dataclass(frozen=True)
class Architecture:
    """How to build an architecture and, for a gated one, where its gates are (to record what they learn)."""

    build: ModelBuilder
    gate_groups: Optional[Callable[[PipelineConfig], list[GateGroup]]] = None


# Name (as in config.architectures.ARCHITECTURES) -> its builder.
BUILDERS: dict[str, Architecture] = {
    "shared_bottom": Architecture(build_shared_bottom),
    "omoe": Architecture(mmoe.build_mixture_of_experts, mmoe.gate_groups),
    "mmoe": Architecture(mmoe.build_mixture_of_experts, mmoe.gate_groups),
    "ple": Architecture(ple.build_ple, ple.gate_groups),
}


def _architecture(config: PipelineConfig) -> Architecture:
    name = config.model.architecture
    if name not in BUILDERS:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(BUILDERS)}")
    return BUILDERS[name]


def gate_groups(config: PipelineConfig) -> list[GateGroup]:
    """The model's gates by expert group; none for an ungated architecture."""
    groups = _architecture(config).gate_groups
    return groups(config) if groups else []


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
    architecture = _architecture(config)
    l2 = l2_strength(config, train_examples)
    config = config.model_copy(update={"model": config.model.model_copy(update={"l2": l2})})
    model = architecture.build(config, model_inputs)
    missing = set(config.task_names) - set(model.output_names)
    if missing:
        raise ValueError(f"{config.model.architecture} built no output for tasks {sorted(missing)}")
    return model


def compile_model(model: tf_keras.Model, config: PipelineConfig,
                  project_metrics: bool = True, steps_per_execution: int = 1) -> tf_keras.Model:
    """Per-task loss and metrics (from the task-type registry), loss weights; Adam.

    With ``training.task_weighting: uncertainty`` each loss is weighted by a
    learned log variance too (``models.task_weighting``). ``project_metrics=False``
    compiles with plain losses and none of this project's metric classes, for a
    model that must load where ``models`` was never imported.
    ``steps_per_execution``: training steps a call of the
    compiled training function (the Trainer's fit runs several,
    ``models.trainer.STEPS_PER_EXECUTION``); with more than one, Keras needs
    data of known size, and ``train_on_batch`` does not work.
    """
    losses = {t.name: task_type(t.type).keras_loss for t in config.tasks}
    if project_metrics and config.training.task_weighting == "uncertainty":
        losses = uncertainty_losses(model, config)
    model.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate=config.training.learning_rate),
        loss=losses,
        loss_weights={t.name: t.loss_weight for t in config.tasks},
        # Weighted by the per-task sample weights: rows without a task's label do not count.
        weighted_metrics={t.name: task_type(t.type).keras_metrics(project_metrics)
                          for t in config.tasks},
        steps_per_execution=steps_per_execution,
    )
    # AutoGraph converts every function a tf.function calls unless its module is on TensorFlow's
    # do-not-convert list, which names `keras` but not `tf_keras`: the first fit converted Keras'
    # whole step (losses, metrics, optimizer), 17.7 s of CPU of a 200-step fit against 4.7 s
    # unconverted (docs/performance.md). The steps have no tensor-dependent Python control flow:
    # they trace to the same graph (bit-identical training). Keras' loop over them is replaced below.
    for step in ("train_step", "test_step", "predict_step"):
        setattr(model, step, tf.autograph.experimental.do_not_convert(getattr(model, step)))
    if steps_per_execution > 1:
        _loop_steps_without_autograph(model)
    _create_step_variables(model)
    return model


def _loop_steps_without_autograph(model: tf_keras.Model) -> None:
    """Gives ``model`` training and evaluation functions that loop over its steps in a ``tf.while_loop``.

    Keras writes its loop over the ``steps_per_execution`` steps of a call as a Python
    ``for`` over ``tf.range``, which AutoGraph converts (with Keras' step code around it),
    and since the loop's outputs are undefined before it, AutoGraph traces the step once
    more to learn their structure: each fit traced the training step twice. Here the
    outputs start as the metrics' current results, which have that structure, and the
    loop is written as TensorFlow runs it. Same steps, same order, same counters: the
    training is bit-identical (tests/models/test_model_training.py). For one process
    on one device, as the Trainer and the Tuner train (no distribution coordinator).
    """
    def loop(step, counter):
        def one_step(iterator):
            outputs = step(next(iterator))
            with tf.control_dependencies(tf.nest.flatten(outputs)[:1]):
                counter.assign_add(1)
            return outputs

        def run(iterator):
            _, outputs = tf.while_loop(lambda i, _: i < model._steps_per_execution,
                                       lambda i, _: (i + 1, one_step(iterator)),
                                       (tf.constant(0, tf.int64), model.get_metrics_result()))
            return outputs
        return tf.function(run, reduce_retracing=True, autograph=False)

    def make_train_function(force=False):
        if model.train_function is None or force:
            model.train_function = loop(model.train_step, model._train_counter)
        return model.train_function

    def make_test_function(force=False):
        if model.test_function is None or force:
            model.test_function = loop(model.test_step, model._test_counter)
        return model.test_function

    model.make_train_function, model.make_test_function = make_train_function, make_test_function


def _create_step_variables(model: tf_keras.Model) -> None:
    """Creates the optimizer's slots and the loss and metric trackers of ``model``'s steps.

    Keras creates them lazily, in the first call of the compiled training function, and a
    ``tf.function`` whose first call creates variables is traced a second time without
    creating them: the Trainer's fit traced its training step twice, about 1 CPU s of each
    fit (docs/performance.md). Created here, the step is traced once, to the same graph.
    Building the trackers needs only the outputs' structure, not a batch.
    """
    model.optimizer.build(model.trainable_variables)
    outputs = tf.nest.map_structure(lambda t: tf.zeros([1, *t.shape[1:]], t.dtype), model.output)
    model.compiled_loss.build(outputs)
    model.compiled_metrics.build(outputs, outputs)


def call_as_written(model: tf_keras.Model) -> tf_keras.Model:
    """``model``, its ``call`` traced without AutoGraph wherever it is traced, as its steps are.

    ``model.save`` traces the call for Keras' default signature and its layers'
    saved functions; AutoGraph converted the model's and every layer's code for
    them, about 0.7 CPU s of each save (docs/performance.md). Training already
    traces the same call unconverted (``compile_model``), so the graph is the same.
    """
    model.call = types.MethodType(tf.autograph.experimental.do_not_convert(type(model).call), model)
    return model


def save_network(network: tf_keras.Model, path, signatures=None) -> None:
    """Saves ``network`` as a SavedModel, as the Trainer exports it.

    Its signatures (the served ones, or Keras' default) are traced; the traces of every
    layer's own call, which Keras adds so that it can revive a model without its code,
    are not (``save_traces=False``): they were most of a save, about 2.9 of its 3.2 CPU s
    (docs/performance.md). Servers, TFMA and this project call the signatures only;
    ``tf_keras.models.load_model`` still rebuilds the network from its configuration once
    ``models`` is imported (its layers are registered). Without ``signatures``,
    ``serving_default`` is the network's call on its inputs, as Keras' default is.
    """
    network = call_as_written(network)
    if signatures is None:
        specs = {name: tf.TensorSpec(t.shape, t.dtype, name=name) for name, t in zip(network.input_names, network.inputs)}
        signatures = tf.function(lambda inputs: network(inputs, training=False),
                                 autograph=False).get_concrete_function(specs)
    network.save(path, save_format="tf", save_traces=False, signatures=signatures)
