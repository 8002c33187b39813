"""create_pipeline(...): the TFX pipeline, the same for every orchestrator.

ExampleGen (synthetic, CSV or TFRecord) -> StatisticsGen
  -> SchemaGen (or ImportSchemaGen) -> ExampleValidator -> AnomaliesGate
  -> Transform -> Trainer -> (latest blessed model) Evaluator -> Pusher

Module code is named by dotted paths into the installed package, so it runs
unchanged in Beam workers and in a Kubeflow container image.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional

from tfx import v1 as tfx

from components.anomalies_gate import AnomaliesGate
from components.synthetic_example_gen.component import SyntheticExampleGen
from pipeline.baseline import LatestBlessedOtherModelStrategy
from pipeline.config import CsvData, FileSplit, PipelineConfig, SyntheticData
from pipeline.eval_config import build_eval_config

PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"
RUN_FN = "models.trainer.run_fn"

# TFX caches by inputs and parameters; dotted-path code is neither, so its hash
# is added to the modules' custom_config: editing the model code reruns them.
_MODULE_CODE = ("models", "pipeline/config", "components/anomalies_gate.py")


def code_fingerprint() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for entry in _MODULE_CODE:
        for path in sorted((root / entry).rglob("*.py") if (root / entry).is_dir() else [root / entry]):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
    example_gen_class = (tfx.components.CsvExampleGen if data.source == "csv"
                         else tfx.components.ImportExampleGen)
    return example_gen_class(input_base=input_base, input_config=input_config,
                             output_config=output_config)


def create_pipeline(config: PipelineConfig, pipeline_root: str, serving_dir: str,
                    metadata_connection_config=None,
                    beam_pipeline_args: Optional[list[str]] = None,
                    enable_cache: bool = True, for_kubeflow: bool = False) -> tfx.dsl.Pipeline:
    """The pipeline; ``for_kubeflow`` picks the baseline resolver KubeflowV2DagRunner compiles."""
    code_version = {"code_version": code_fingerprint()}

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
        # Only what preprocessing reads, so a training change does not rerun it.
        custom_config={**config.transform_custom_config(), **code_version},
    )
    transform.add_upstream_node(anomalies_gate)
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.training.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.training.eval_steps),
        custom_config={**config.to_custom_config(), **code_version},
    )
    baseline = _baseline_resolver(trainer, for_kubeflow).with_id("baseline_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=build_eval_config(config),
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, example_validator, anomalies_gate, transform,
                    trainer, baseline, evaluator, pusher],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or config.beam_args,
    )


def _baseline_resolver(trainer, for_kubeflow: bool) -> tfx.dsl.Resolver:
    model = tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model)
    blessing = tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing)
    if for_kubeflow:
        # KubeflowV2DagRunner compiles only TFX's own strategies into resolver
        # queries. The baseline is then simply the newest blessed model, which
        # after an unchanged (cached) retrain can be the candidate itself.
        return tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=model, model_blessing=blessing)
    return tfx.dsl.Resolver(strategy_class=LatestBlessedOtherModelStrategy,
                            candidate=trainer.outputs["model"], model=model, model_blessing=blessing)
