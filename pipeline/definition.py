"""create_pipeline(...): the TFX pipeline, the same for every orchestrator.

ExampleGen (synthetic, CSV or TFRecord) -> StatisticsGen
  -> SchemaGen (or ImportSchemaGen) -> ExampleValidator -> AnomaliesGate
  -> (against the served model's data statistics, the newest Pusher output) DriftCheck -> DataChoices -> ComponentConfigs
  -> Transform -> (with tuning.enabled) Tuner -> Trainer -> (latest blessed model) Evaluator -> Pusher

What the data decides (``auto`` transforms, the classes of multiclass tasks)
is decided by DataChoices while the pipeline runs, from the data part of the
configuration only, and reaches Transform as a run-time parameter;
ComponentConfigs applies the decisions to the whole configuration for the
Tuner, the Trainer, the Evaluator and the Pusher. Every orchestrator runs the
same decisions on the same data, and a training change reruns neither
DataChoices nor Transform.

Module code is named by dotted paths into the installed package, so it runs
unchanged in Beam workers and in a Kubeflow container image.
"""

from __future__ import annotations

import json
import os
from typing import Optional

import tensorflow_model_analysis as tfma
# TFX's modules, not tfx.v1: importing tfx.v1 also imports its Google Cloud extensions
# (AI Platform, BigQuery clients), 3 s and 140 MB more in every run's process.
from tfx.components import ExampleValidator, SchemaGen, StatisticsGen, Trainer, Transform, Tuner
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution import canned_resolver_functions
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, pusher_pb2, range_config_pb2, trainer_pb2, transform_pb2
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from components.anomalies_gate import AnomaliesGate
from components import span_properties
from components.atomic_pusher.component import AtomicPusher
from components.component_configs import ComponentConfigs
from components.csv_example_gen import executor as csv_executor
from components.data_choices_component import DataChoices
from components.drift_check import DriftCheck
from components.evaluator import Evaluator
from components.synthetic_example_gen.component import SyntheticExampleGen
from pipeline.baseline import (PUSHER_ID, BaselineResolver, ServedModelResolver,
                               local_served_model_resolver)
from config import DataSource, FileSplit, PipelineConfig
from config.data_decisions import data_view
from components.eval_config import EVALUATOR_MODULE, evaluator_code_modules
from pipeline.analyzer_cache import analyzer_cache_resolver
from pipeline.fingerprint import code_fingerprint

PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"
RUN_FN = "models.trainer.run_fn"
TUNER_FN = "models.tuning.tuner_fn"
# The splits of each step (config.evaluation_split is the Evaluator's): the Trainer fits on train;
# its early stopping and best weights, and the Tuner's ranking of trials, read eval.
TRAIN_SPLITS = ["train"]
EARLY_STOPPING_SPLITS = ["eval"]
# Transform analyzes the training split and writes no transformed examples: the Trainer and the Tuner
# apply its graph to the window's raw examples (models.input_pipeline).
TRANSFORM_SPLITS = transform_pb2.SplitsConfig(analyze=TRAIN_SPLITS)

# Component -> the modules whose code (with the project modules they import) is that component's
# cache key. StatisticsGen, SchemaGen and ExampleValidator run TFX's code only.
CODE_MODULES = {
    "SyntheticExampleGen": (SyntheticExampleGen.EXECUTOR_SPEC.executor_class.__module__,),
    "CsvExampleGen": (csv_executor.__name__,),
    "ImportExampleGen": (span_properties.__name__,),  # TFX's reader; the project's executor stamps spans
    "AnomaliesGate": (AnomaliesGate.__module__,),
    "ComponentConfigs": (ComponentConfigs.__module__,),
    "DataChoices": (DataChoices.__module__,),
    "DriftCheck": (DriftCheck.__module__,),
    "Transform": (PREPROCESSING_FN.rpartition(".")[0],),
    "Trainer": (RUN_FN.rpartition(".")[0],),
    "Tuner": (TUNER_FN.rpartition(".")[0],),
    # The executor; the modules TFMA loads by name come from the configuration (code_modules).
    "Evaluator": (Evaluator.__module__,),
    "Pusher": (AtomicPusher.EXECUTOR_SPEC.executor_class.__module__,),
}
# Imported by a component's modules but never run by it: not in its key. Transform validates only
# the feature and label parts of the configuration (config.data, config.tasks), never the model's
# (architectures), the Tuner's, or the Keras metrics a task type builds for the Trainer.
NOT_RUN = {
    "Transform": ("config.architectures", "config.tuning", "models.metrics"),
}


def code_modules(config: PipelineConfig) -> dict[str, tuple[str, ...]]:
    """``CODE_MODULES`` with the Evaluator's extractor and metric modules, which its EvalConfig
    and ``module_path`` name as text (so no import leads to them)."""
    return {**CODE_MODULES, "Evaluator": (*CODE_MODULES["Evaluator"], *evaluator_code_modules(config))}


def module_code_versions(config: PipelineConfig) -> dict[str, str]:
    """Component -> the fingerprint of the code it runs (``pipeline.fingerprint``), one per component."""
    return {component: code_fingerprint(*modules, exclude=NOT_RUN.get(component, ()))
            for component, modules in code_modules(config).items()}


def _with_code_version(node, version: str):
    """``node`` with the fingerprint of its code as a parameter of its own (``code_version``):
    TFX's components with a project executor have no parameter the code could be added to."""
    node.exec_properties["code_version"] = version
    return node


def _file_input(data: DataSource) -> tuple[str, example_gen_pb2.Input, Optional[example_gen_pb2.Output]]:
    """ExampleGen's input_base, its split patterns (relative to it) and output splits."""
    patterns = data.split_patterns()
    # A {SPAN} folder is part of the pattern: TFX's driver resolves it, input_base is fixed.
    input_base = _common_folder([os.path.dirname(p.partition("{")[0]) for p in patterns.values()])
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name=name, pattern=os.path.relpath(pattern, input_base))
        for name, pattern in patterns.items()])
    if isinstance(data.split, FileSplit):
        return input_base, input_config, None  # the input splits are the output splits
    output_config = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=data.split.train_buckets),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=data.split.eval_buckets),
        example_gen_pb2.SplitConfig.Split(name="test", hash_buckets=data.split.test_buckets)]))
    return input_base, input_config, output_config


def _common_folder(folders: list[str]) -> str:
    """The deepest folder holding all of ``folders``; a URI keeps its scheme (gs://bucket/...)."""
    scheme, sep, _ = folders[0].partition("://")
    if not sep:
        return os.path.commonpath(folders)
    return f"{scheme}://" + os.path.commonpath([f.partition("://")[2] for f in folders])


def _synthetic_example_gen(config: PipelineConfig, range_config=None):
    return SyntheticExampleGen(data_config=config.data.model_dump(mode="json"))


def _csv_example_gen(config: PipelineConfig, range_config=None):
    # Column names as the header gives them, without a byte-order mark or the
    # spaces around them; missing-value tokens absent, numeric columns floats,
    # categorical ones text, whatever the cells look like (components.csv_example_gen).
    categorical = [f.name for f in config.features if f.type == "categorical"]
    numeric = [f.name for f in (*config.features, *config.evaluation.numeric_slice_features)
               if f.type == "numeric" and f.name not in categorical]
    input_base, input_config, output_config = _file_input(config.data)
    return FileBasedExampleGen(
        input_base=input_base, input_config=input_config, output_config=output_config,
        range_config=range_config,
        custom_config=csv_executor.csv_options(numeric, categorical, config.data.missing_tokens),
        custom_executor_spec=executor_spec.BeamExecutorSpec(csv_executor.Executor)).with_id("CsvExampleGen")


def _tfrecord_example_gen(config: PipelineConfig, range_config=None):
    input_base, input_config, output_config = _file_input(config.data)
    # TFX's ImportExampleGen reading, with an executor that also stamps each artifact's span
    # (ImportExampleGen itself takes no executor of one's own).
    return FileBasedExampleGen(
        input_base=input_base, input_config=input_config, output_config=output_config, range_config=range_config,
        custom_executor_spec=executor_spec.BeamExecutorSpec(span_properties.ImportExecutor)).with_id("ImportExampleGen")


# data.source -> the ExampleGen that reads it.
EXAMPLE_GENS = {"synthetic": _synthetic_example_gen, "csv": _csv_example_gen, "tfrecord": _tfrecord_example_gen}


def create_example_gen(config: PipelineConfig, span: Optional[int] = None):
    """The pipeline's ExampleGen; ``span``: fixed to that span (else TFX's driver reads the newest)."""
    range_config = None if span is None else range_config_pb2.RangeConfig(
        static_range=range_config_pb2.StaticRange(start_span_number=span, end_span_number=span))
    example_gen = EXAMPLE_GENS[config.data.source](config, range_config)
    return _with_code_version(example_gen, code_fingerprint(*CODE_MODULES[example_gen.id]))


def _window_spans(config: PipelineConfig) -> int:
    """How many spans Transform and the Trainer read (sources without spans: 1)."""
    return getattr(config.data, "window_spans", 1)


def _window_examples(config: PipelineConfig, example_gen):
    """The Examples Transform analyzes: the newest ``data.window_spans`` spans, one artifact per span.

    TFX's rolling range over every run's artifacts of the ExampleGen (a plain
    Channel, not this run's output): the newest artifact of each span wins, and
    fewer spans than the window still run. One span: this run's artifact.
    """
    window_spans = _window_spans(config)
    if window_spans == 1:
        return example_gen.outputs["examples"]
    every_run = Channel(type=standard_artifacts.Examples,
                        producer_component_id=example_gen.id, output_key="examples")
    return canned_resolver_functions.rolling_range(every_run, num_spans=window_spans, min_spans=1)


def _set_at_run_time(node, exec_property: str, value_channel) -> None:
    """Sets ``node``'s ``exec_property`` to a value an upstream component outputs while the pipeline runs.

    TFX resolves such a placeholder on every orchestrator (a Kubeflow task output
    parameter); the components' constructors take only values known now.
    """
    node.exec_properties[exec_property] = value_channel.future()[0].value


def warm_start_resolver() -> Resolver:
    """The newest blessed model (the one served), for the Trainer's ``base_model`` (``training.warm_start``)."""
    return Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model, producer_component_id="Trainer"),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing, producer_component_id="Evaluator"),
    ).with_id("warm_start_model_resolver")


def _schema_checks(statistics_gen, schema_gen, code_versions: dict[str, str]) -> tuple:
    """ExampleValidator against ``schema_gen``'s schema, and the gate that stops the run on its anomalies."""
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"],
                                   code_version=code_versions["AnomaliesGate"])
    return example_validator, anomalies_gate


def _drift_checks(config: PipelineConfig, statistics_gen, serving_dir: str,
                  served_model_resolver: ServedModelResolver, code_versions: dict[str, str], after=None) -> list:
    """The served model's resolver and the DriftCheck of ``statistics_gen``'s data against that model's
    data (none with ``drift.enabled: false``); ``after``: a node the check waits for."""
    if not config.drift.enabled:
        return []
    # Its result depends on which model is served: that model is its input, so a push reruns it.
    served_model = served_model_resolver().with_id("served_model_resolver")
    drift_check = DriftCheck(statistics=statistics_gen.outputs["statistics"],
                             served_model=served_model.outputs["served_model"],
                             serving_dir=serving_dir,
                             thresholds=json.dumps(config.drift_thresholds(), sort_keys=True),
                             code_version=code_versions["DriftCheck"])
    if after is not None:
        drift_check.add_upstream_node(after)  # data that breaks its schema is reported as that
    return [served_model, drift_check]


def span_check_nodes(config: PipelineConfig, span: int, serving_dir: str,
                     served_model_resolver: ServedModelResolver = local_served_model_resolver) -> list:
    """The nodes that read one older span of the window and check it before anything trains on it.

    The same nodes (same ids, so the same ML Metadata contexts and cache) as
    the pipeline's for its newest span: the ExampleGen fixed to ``span``, its
    StatisticsGen, ExampleValidator and its gate against a curated schema
    (``data.schema_file``; a schema the pipeline infers comes from the newest
    span, which only the pipeline reads), and the drift check against the
    served model's data.
    """
    code_versions = module_code_versions(config)
    example_gen = create_example_gen(config, span=span)
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    nodes, gate = [example_gen, statistics_gen], None
    if config.data.schema_file:
        schema_gen = ImportSchemaGen(schema_file=config.data.schema_file)
        nodes += [schema_gen, *(_schema_checks(statistics_gen, schema_gen, code_versions))]
        gate = nodes[-1]
    return nodes + _drift_checks(config, statistics_gen, serving_dir, served_model_resolver, code_versions,
                                 after=gate)


def create_pipeline(config: PipelineConfig, pipeline_root: str, serving_dir: str,
                    baseline_resolver: BaselineResolver,
                    metadata_connection_config=None,
                    beam_pipeline_args: Optional[list[str]] = None,
                    evaluator_beam_args: Optional[list[str]] = None,
                    enable_cache: bool = True,
                    served_model_resolver: ServedModelResolver = local_served_model_resolver,
                    ) -> Pipeline:
    """The pipeline, the same for every orchestrator.

    Args:
        config: the validated configuration; DataChoices makes the
            decisions it leaves to the data, then Transform gets
            ``transform_custom_config()`` and the Trainer (through
            ComponentConfigs) ``to_custom_config()`` of the decided configuration as
            ``custom_config``, each with a ``code_version`` key: the
            fingerprint of the code that component runs
            (``module_code_versions``), so editing it reruns that component
            and what depends on its outputs, and nothing else.
        pipeline_root: where the components write their artifacts (a local
            path or a URI the orchestrator's pods can reach).
        serving_dir: where the Pusher writes blessed models, one numbered
            folder per push.
        baseline_resolver: builds the Resolver of the model the Evaluator
            compares with, from the Trainer's model channel; the runner passes
            one its orchestrator supports (``pipeline.baseline``).
        metadata_connection_config: ML Metadata connection; None lets the
            orchestrator supply it.
        beam_pipeline_args: arguments for every Beam-based component;
            defaults to ``config.beam_args``.
        evaluator_beam_args: the Evaluator's own, after those (the last of
            a repeated argument wins).
        enable_cache: reuse the results of unchanged components.
        served_model_resolver: builds the Resolver of the served model (the
            newest Pusher output), the drift check's input; the runner passes
            one its orchestrator supports (``pipeline.baseline``).

    Returns:
        The ``Pipeline``: ExampleGen, StatisticsGen, SchemaGen (or
        ImportSchemaGen), ExampleValidator, AnomaliesGate, DataChoices, ComponentConfigs,
        (unless ``drift.enabled: false``) the served model's resolver (id
        ``served_model_resolver``) and DriftCheck (its baseline: that model's
        data statistics), (with ``data.window_spans`` above 1) the analyzer
        cache's resolver (id ``analyzer_cache_resolver``), Transform, (with
        ``tuning.enabled``) Tuner, (with
        ``training.warm_start``) the warm start's resolver (id
        ``warm_start_model_resolver``), Trainer, the baseline
        resolver (id ``baseline_model_resolver``), Evaluator and Pusher.
    """
    code_versions = module_code_versions(config)

    example_gen = create_example_gen(config)
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    if config.data.schema_file:
        # A curated schema: the data is validated against it, not against itself.
        schema_gen = ImportSchemaGen(schema_file=config.data.schema_file)
    else:
        schema_gen = SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator, anomalies_gate = _schema_checks(statistics_gen, schema_gen, code_versions)
    # Decisions the configuration leaves to the data, made from the examples as this run reads them,
    # given only what they and Transform read: a training change reruns neither.
    data_choices = DataChoices(
        examples=example_gen.outputs["examples"],
        data_config=json.dumps(data_view(config).model_dump(mode="json"), sort_keys=True),
        transform_extra=json.dumps({"code_version": code_versions["Transform"],
                                    **config.transform_model_settings()}, sort_keys=True),
        code_version=code_versions["DataChoices"],
    )
    # The whole configuration with those decisions, for the components after Transform.
    component_configs = ComponentConfigs(
        statistics=statistics_gen.outputs["statistics"],
        pipeline_config=json.dumps(config.model_dump(mode="json"), sort_keys=True),
        choices="",  # DataChoices' output, set below
        # A Tuner trains as the Trainer does: with one, its code is in the key too.
        trainer_extra=json.dumps({"code_version": code_versions["Trainer"],
                                  **({"tuner_code_version": code_versions["Tuner"]} if config.tuning.enabled else {})},
                                 sort_keys=True),
        code_version=code_versions["ComponentConfigs"],
    )
    _set_at_run_time(component_configs, "choices", data_choices.outputs["choices"])
    data_choices.add_upstream_node(anomalies_gate)  # data that breaks its schema is reported as that
    window_examples = _window_examples(config, example_gen)
    # A window of spans: the spans an earlier run analyzed are read from its analyzer cache.
    cache_nodes = [analyzer_cache_resolver(window_examples)] if _window_spans(config) > 1 else []
    for node in cache_nodes:
        node.add_upstream_node(example_gen)  # it compares caches with the window holding this run's span
    transform = Transform(
        examples=window_examples,
        analyzer_cache=cache_nodes[0].outputs["analyzer_cache"] if cache_nodes else None,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        # StatisticsGen's statistics are the pipeline's; Transform's own pre- and
        # post-transform statistics were two more passes over the data that nothing read.
        disable_statistics=True,
        # Its analyzers (means, vocabularies) see the training split only. A transformed copy of the
        # window would be rewritten every run (the window's means change): training transforms as it reads.
        splits_config=TRANSFORM_SPLITS,
        materialize=False,
    )
    _set_at_run_time(transform, "custom_config", data_choices.outputs["transform_config"])
    transform.add_upstream_node(example_gen)  # the window holds this run's span
    drift_nodes = _drift_checks(config, statistics_gen, serving_dir, served_model_resolver, code_versions,
                                after=anomalies_gate)
    if drift_nodes:
        drift_check = drift_nodes[-1]
        data_choices.add_upstream_node(drift_check)  # decisions only for data the check accepted
        transform.add_upstream_node(drift_check)
    tuner_nodes, best_hyperparameters = [], None
    if config.tuning.enabled:
        # Trials train as the Trainer does; the best one's hyperparameters go to the Trainer.
        tuner = Tuner(
            tuner_fn=TUNER_FN,
            examples=window_examples,
            transform_graph=transform.outputs["transform_graph"],
            schema=schema_gen.outputs["schema"],
            train_args=trainer_pb2.TrainArgs(splits=TRAIN_SPLITS, num_steps=config.training.train_steps),
            eval_args=trainer_pb2.EvalArgs(splits=EARLY_STOPPING_SPLITS, num_steps=config.training.eval_steps),
        )
        # The decided configuration, as the Trainer gets it (its key holds the Tuner's code too).
        _set_at_run_time(tuner, "custom_config", component_configs.outputs["trainer_config"])
        tuner_nodes, best_hyperparameters = [tuner], tuner.outputs["best_hyperparameters"]
    # Warm start: the newest blessed model is the Trainer's base_model, so lineage shows what it started from.
    warm_start_nodes = [warm_start_resolver()] if config.training.warm_start else []
    trainer = Trainer(
        run_fn=RUN_FN,
        base_model=warm_start_nodes[0].outputs["model"] if warm_start_nodes else None,
        examples=window_examples,  # the window Transform analyzed, raw: lineage shows the spans it trained on
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=best_hyperparameters,
        train_args=trainer_pb2.TrainArgs(splits=TRAIN_SPLITS, num_steps=config.training.train_steps),
        eval_args=trainer_pb2.EvalArgs(splits=EARLY_STOPPING_SPLITS, num_steps=config.training.eval_steps),
    )
    _set_at_run_time(trainer, "custom_config", component_configs.outputs["trainer_config"])
    baseline = baseline_resolver(trainer.outputs["model"]).with_id("baseline_model_resolver")
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=tfma.EvalConfig(),  # built by ComponentConfigs: per-class metrics need the classes
        # The held-out split no training decision saw (config.evaluation_split).
        example_splits=[config.evaluation_split],
        # Per-slice groups of examples instead of one example at a time, where the metrics allow it.
        module_path=EVALUATOR_MODULE,
    ).with_id("Evaluator")
    _with_code_version(evaluator, code_versions["Evaluator"])
    _set_at_run_time(evaluator, "eval_config", component_configs.outputs["eval_config"])
    if evaluator_beam_args:
        evaluator = evaluator.with_beam_pipeline_args(evaluator_beam_args)
    # A version appears in serving_dir whole or not at all (written beside it, then renamed),
    # with the statistics of its data beside it: the baseline of later drift checks.
    pusher = AtomicPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=serving_dir)),
    ).with_id(PUSHER_ID)
    _with_code_version(pusher, code_versions["Pusher"])
    _set_at_run_time(pusher, "custom_config", component_configs.outputs["pusher_config"])
    return Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, example_validator, anomalies_gate, data_choices,
                    component_configs,
                    *drift_nodes,
                    *cache_nodes, transform, *tuner_nodes, *warm_start_nodes, trainer, baseline, evaluator, pusher],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or config.beam_args,
    )
