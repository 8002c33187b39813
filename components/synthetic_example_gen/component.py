"""The SyntheticExampleGen component: its spec and constructor (TFX glue only)."""

from __future__ import annotations

import json
from typing import Any, Optional

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.synthetic_example_gen import executor

DATA_CONFIG_KEY = "data_config"


class SyntheticExampleGenSpec(ComponentSpec):
    PARAMETERS = {
        # The generator's parameters (config.SyntheticData) as JSON.
        DATA_CONFIG_KEY: ExecutionParameter(type=str),
        "input_config": ExecutionParameter(type=example_gen_pb2.Input),
        "output_config": ExecutionParameter(type=example_gen_pb2.Output),
        "output_data_format": ExecutionParameter(type=int),
        "output_file_format": ExecutionParameter(type=int),
    }
    INPUTS = {}
    OUTPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples)}


def hash_split(train_buckets: int = 8, eval_buckets: int = 1, test_buckets: int = 1) -> example_gen_pb2.Output:
    """Train/eval/test splits by the hash of each example's id."""
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(
        splits=[
            example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_buckets),
            example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
            example_gen_pb2.SplitConfig.Split(name="test", hash_buckets=test_buckets),
        ],
        partition_feature_name=executor.ID_FEATURE))


class SyntheticExampleGen(base_beam_component.BaseBeamComponent):
    """Generates examples like any ExampleGen: gzipped TFRecords of tf.Example in splits."""

    SPEC_CLASS = SyntheticExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, data_config: dict[str, Any],
                 output_config: Optional[example_gen_pb2.Output] = None):
        output_config = output_config or hash_split(
            data_config.get("train_buckets", 8), data_config.get("eval_buckets", 1), data_config.get("test_buckets", 1))
        super().__init__(spec=SyntheticExampleGenSpec(
            data_config=json.dumps(data_config, sort_keys=True),
            # One logical input; the output config splits it.
            input_config=example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(name="single_split", pattern="synthetic")]),
            output_config=output_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            examples=types.Channel(type=standard_artifacts.Examples),
        ))
