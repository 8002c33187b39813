"""create_pipeline(...): the TFX pipeline, the same for every orchestrator.

ExampleGen (synthetic, CSV or TFRecord) -> StatisticsGen
  -> SchemaGen (or ImportSchemaGen) -> ExampleValidator -> AnomaliesGate
  -> (the served model's data statistics) DriftCheck
  -> Transform -> (with tuning.enabled) Tuner -> Trainer -> (latest blessed model) Evaluator -> Pusher

Module code is named by dotted paths into the installed package, so it runs
unchanged in Beam workers and in a Kubeflow container image.
"""

from __future__ import annotations

import json
import os
from typing import Optional

from tfx import v1 as tfx
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec

from components.anomalies_gate import AnomaliesGate
from components.atomic_pusher.component import AtomicPusher
from components.csv_example_gen import executor as csv_executor
from components.drift_check import DriftCheck
from components.synthetic_example_gen.component import SyntheticExampleGen
from pipeline.baseline import BaselineResolver, StatisticsResolver
from pipeline.config import CsvData, FileSplit, PipelineConfig, SyntheticData
from pipeline.eval_config import EVALUATOR_MODULE, build_eval_config
from pipeline.fingerprint import code_fingerprint

PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"
RUN_FN = "models.trainer.run_fn"
TUNER_FN = "models.tuning.tuner_fn"


def _file_input(data: CsvData) -> tuple[str, tfx.proto.Input, Optional[tfx.proto.Output]]:
    """ExampleGen's input_base, its split patterns (relative to it) and output splits."""
    patterns = data.split_patterns()
    input_base = os.path.commonpath([os.path.dirname(p) for p in patterns.values()])
    input_config = tfx.proto.Input(splits=[
        tfx.proto.Input.Split(name=name, pattern=os.path.relpath(pattern, input_base))
        for name, pattern in patterns.items()])
    if isinstance(data.split, FileSplit):
        return input_base, input_config, None  # the input splits are the output splits
    output_config = tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
        tfx.proto.SplitConfig.Split(name="train", hash_buckets=data.split.train_buckets),
        tfx.proto.SplitConfig.Split(name="eval", hash_buckets=data.split.eval_buckets)]))
    return input_base, input_config, output_config


def _example_gen(data):
    if isinstance(data, SyntheticData):
        return SyntheticExampleGen(data_config=data.model_dump(mode="json"))
    input_base, input_config, output_config = _file_input(data)
    if data.source == "csv":
        # Column names as the header gives them, without a byte-order mark or the
        # spaces around them (components.csv_example_gen).
        return FileBasedExampleGen(
            input_base=input_base, input_config=input_config, output_config=output_config,
            custom_executor_spec=executor_spec.BeamExecutorSpec(csv_executor.Executor)).with_id("CsvExampleGen")
    return tfx.components.ImportExampleGen(input_base=input_base, input_config=input_config,
                                           output_config=output_config)


def create_pipeline(config: PipelineConfig, pipeline_root: str, serving_dir: str,
                    baseline_resolver: BaselineResolver,
                    statistics_resolver: Optional[StatisticsResolver] = None,
                    metadata_connection_config=None,
                    beam_pipeline_args: Optional[list[str]] = None,
                    evaluator_beam_args: Optional[list[str]] = None,
                    enable_cache: bool = True) -> tfx.dsl.Pipeline:
    """The pipeline, the same for every orchestrator.

    Args:
        config: the validated configuration; Transform gets
            ``config.transform_custom_config()`` and the Trainer
            ``config.to_custom_config()`` as ``custom_config``, each with a
            ``code_version`` key (the code fingerprint) so editing module code
            reruns them.
        pipeline_root: where the components write their artifacts (a local
            path or a URI the orchestrator's pods can reach).
        serving_dir: where the Pusher writes blessed models, one numbered
            folder per push.
        baseline_resolver: builds the Resolver of the model the Evaluator
            compares with, from the Trainer's model channel; the runner passes
            one its orchestrator supports (``pipeline.baseline``).
        statistics_resolver: builds the Resolver of the statistics the drift
            check compares the run's statistics with (id
            ``baseline_statistics_resolver``); None, or ``drift.enabled:
            false`` in the config, leaves the drift check out.
        metadata_connection_config: ML Metadata connection; None lets the
            orchestrator supply it.
        beam_pipeline_args: arguments for every Beam-based component;
            defaults to ``config.beam_args``.
        evaluator_beam_args: the Evaluator's own, after those (the last of
            a repeated argument wins).
        enable_cache: reuse the results of unchanged components.

    Returns:
        The ``tfx.dsl.Pipeline``: ExampleGen, StatisticsGen, SchemaGen (or
        ImportSchemaGen), ExampleValidator, AnomaliesGate, (with a statistics
        resolver) its resolver and DriftCheck, Transform, (with
        ``tuning.enabled``) Tuner, Trainer, the
        baseline resolver (id ``baseline_model_resolver``), Evaluator and
        Pusher.
    """
    # The code Transform and Trainer run (and what it imports), for their cache keys.
    code_version = {"code_version": code_fingerprint(
        PREPROCESSING_FN.rpartition(".")[0], RUN_FN.rpartition(".")[0], TUNER_FN.rpartition(".")[0],
        AnomaliesGate.__module__)}

    example_gen = _example_gen(config.data)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if config.data.schema_file:
        # A curated schema: the data is validated against it, not against itself.
        schema_gen = tfx.components.ImportSchemaGen(schema_file=config.data.schema_file)
    else:
        schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"],
                                              infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"])
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        # StatisticsGen's statistics are the pipeline's; Transform's own pre- and
        # post-transform statistics were two more passes over the data that nothing read.
        disable_statistics=True,
        # Only what preprocessing reads, so a training change does not rerun it.
        custom_config={**config.transform_custom_config(), **code_version},
    )
    transform.add_upstream_node(anomalies_gate)
    drift_nodes = []
    if statistics_resolver is not None and config.drift.enabled:
        previous = statistics_resolver(statistics_gen.outputs["statistics"]).with_id(
            "baseline_statistics_resolver")
        drift_check = DriftCheck(statistics=statistics_gen.outputs["statistics"],
                                 baseline_statistics=previous.outputs["statistics"],
                                 thresholds=json.dumps(config.drift_thresholds(), sort_keys=True))
        drift_check.add_upstream_node(anomalies_gate)  # data that breaks its schema is reported as that
        transform.add_upstream_node(drift_check)
        drift_nodes = [previous, drift_check]
    tuner_nodes, best_hyperparameters = [], None
    if config.tuning.enabled:
        # Trials train as the Trainer does; the best one's hyperparameters go to the Trainer.
        tuner = tfx.components.Tuner(
            tuner_fn=TUNER_FN,
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            schema=schema_gen.outputs["schema"],
            train_args=tfx.proto.TrainArgs(num_steps=config.training.train_steps),
            eval_args=tfx.proto.EvalArgs(num_steps=config.training.eval_steps),
            custom_config={**config.to_custom_config(), **code_version},
        )
        tuner_nodes, best_hyperparameters = [tuner], tuner.outputs["best_hyperparameters"]
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=best_hyperparameters,
        train_args=tfx.proto.TrainArgs(num_steps=config.training.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.training.eval_steps),
        custom_config={**config.to_custom_config(), **code_version},
    )
    baseline = baseline_resolver(trainer.outputs["model"]).with_id("baseline_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=build_eval_config(config),
        # Per-slice groups of examples instead of one example at a time, where the metrics allow it.
        module_path=EVALUATOR_MODULE,
    )
    if evaluator_beam_args:
        evaluator = evaluator.with_beam_pipeline_args(evaluator_beam_args)
    # A version appears in serving_dir whole or not at all (written beside it, then renamed).
    pusher = AtomicPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)),
    ).with_id("Pusher")
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, example_validator, anomalies_gate, *drift_nodes,
                    transform, *tuner_nodes, trainer, baseline, evaluator, pusher],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or config.beam_args,
    )
