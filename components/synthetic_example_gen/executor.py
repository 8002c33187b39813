"""SyntheticExampleGen's executor: generates shards in parallel with Beam.

The ExampleGen base executor writes the splits (gzipped TFRecords) and sets
split names and formats on the artifact; this executor only supplies the
records and splits them by the hash of each example's id.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Tuple

import apache_beam as beam
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.utils import proto_utils

from components import synthetic_data

ID_FEATURE = "example_id"


def to_example_bytes(example_id: int, inputs, labels: dict[str, float],
                     segment: str = "", x_norm: float | None = None) -> bytes:
    """One tf.Example, serialized deterministically so equal data gives equal bytes.

    ``labels``: label name (y1 .. yK) -> value. ``segment`` and ``x_norm`` are
    slice features (see synthetic_data), written when given; the model does
    not read them.
    """
    example = tf.train.Example()
    feature = example.features.feature
    feature[ID_FEATURE].int64_list.value.append(int(example_id))
    feature["x"].float_list.value.extend(inputs.tolist())
    for name, value in labels.items():
        feature[name].float_list.value.append(float(value))
    if segment:
        feature["segment"].bytes_list.value.append(str(segment).encode())
    if x_norm is not None:
        feature["x_norm"].float_list.value.append(float(x_norm))
    return example.SerializeToString(deterministic=True)


def _shard_records(shard: synthetic_data.Shard, weights: synthetic_data.TaskWeights,
                   seed: int, example_dim: int, binary_labels: List[str]) -> Iterator[Tuple[int, bytes]]:
    data = synthetic_data.generate_shard(shard, weights, seed, example_dim)
    names = synthetic_data.label_names(weights.num_tasks)
    expected = dict(zip(names, synthetic_data.expected_labels(weights)))
    labels = {name: synthetic_data.binarize(data.label(name), expected[name])
              if name in binary_labels else data.label(name) for name in names}
    for i in range(len(data.ids)):
        yield int(data.ids[i]), to_example_bytes(data.ids[i], data.inputs[i],
                                                 {name: labels[name][i] for name in names},
                                                 data.segment[i], data.x_norm[i])


@beam.ptransform_fn
def GenerateKeyedRecords(pipeline: beam.Pipeline, data: Dict[str, Any]) -> beam.PCollection:
    """(example id, serialized tf.Example) for every example, shard by shard."""
    weights = synthetic_data.draw_task_weights(
        data["seed"], data["example_dim"], data["c"], data["correlation"], data["m"],
        data.get("num_tasks", 2))
    shards = synthetic_data.plan_shards(data["num_examples"], data["num_shards"])
    return (pipeline
            | "Shards" >> beam.Create(shards)
            # Lets a distributed runner spread the shards over its workers.
            | "Spread" >> beam.Reshuffle()
            | "Generate" >> beam.FlatMap(_shard_records, weights, data["seed"], data["example_dim"],
                                         data.get("binary_labels", [])))


def _split_index(keyed_record: Tuple[int, bytes], num_partitions: int, buckets: List[int],
                 split_config: example_gen_pb2.SplitConfig) -> int:
    # TFX's own partition function, keyed on the id feature alone, so the split
    # is what ExampleGen's `partition_feature_name` would give.
    key = tf.train.Example()
    key.features.feature[ID_FEATURE].int64_list.value.append(keyed_record[0])
    return base_example_gen_executor._PartitionFn(  # pylint: disable=protected-access
        key, num_partitions, buckets, split_config)


class Executor(base_example_gen_executor.BaseExampleGenExecutor):

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        # Keyed by example id (not bare records): GenerateExamplesByBeam below
        # splits on the id, then drops it.
        return GenerateKeyedRecords

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> Dict[str, beam.PCollection]:
        output_config = proto_utils.json_to_proto(
            exec_properties["output_config"], example_gen_pb2.Output())
        split_config = output_config.split_config
        if not split_config.splits:
            raise ValueError("SyntheticExampleGen needs output splits (output_config.split_config)")
        buckets, total = [], 0
        for split in split_config.splits:
            total += split.hash_buckets
            buckets.append(total)
        data = json.loads(exec_properties["data_config"])
        keyed = pipeline | "GenerateSynthetic" >> self.GetInputSourceToExamplePTransform()(data)
        parts = keyed | "SplitById" >> beam.Partition(_split_index, len(buckets), buckets, split_config)
        return {split.name: parts[i] | f"Records[{split.name}]" >> beam.Values()
                for i, split in enumerate(split_config.splits)}

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        examples.span = 0  # one generated dataset; its parameters are the "version"
        examples.version = 0
