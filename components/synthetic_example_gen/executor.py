"""SyntheticExampleGen's executor: generates and writes shards in parallel with Beam.

Its output is what TFX's ExampleGen writes (gzipped TFRecords of tf.Example
in ``Split-<name>`` folders; split names, payload and file format on the
artifact), split by the hash of each example's id as ExampleGen's
``partition_feature_name`` splits. The work is done a shard at a time: a
shard's examples are generated, serialized (``encoding``, in numpy), given
their splits and written to one file per split, so Beam handles shards, not
records. Within a file the records are in id order; the same seed and shard
count give byte-identical files.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import uuid
from typing import Any, Dict, List, Optional, Sequence

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.utils import proto_utils

from components import synthetic_data
from components.synthetic_example_gen import encoding

ID_FEATURE = "example_id"


def examples_bytes(ids: np.ndarray, inputs: np.ndarray, labels: Dict[str, np.ndarray],
                   segment: Optional[np.ndarray] = None, x_norm: Optional[np.ndarray] = None) -> List[bytes]:
    """Serialized tf.Examples, one per id; what ``SerializeToString(deterministic=True)`` gives.

    ``labels``: label name (y1 .. yK) -> values. ``segment`` and ``x_norm``
    are slice features (see synthetic_data), written when given; the model
    does not read them.
    """
    floats = {"x": inputs, **labels}
    if x_norm is not None:
        floats["x_norm"] = x_norm
    return encoding.encode_examples(int64s={ID_FEATURE: ids}, floats=floats,
                                    strings={"segment": segment} if segment is not None else None)


def to_example_bytes(example_id: int, inputs, labels: Dict[str, float],
                     segment: str = "", x_norm: Optional[float] = None) -> bytes:
    """One example, serialized by protobuf itself: what ``examples_bytes`` gives for it.

    For one record at a time (about 20 µs); ``examples_bytes`` serializes a
    shard at 1 to 2 µs a record.
    """
    example = tf.train.Example()
    feature = example.features.feature
    feature[ID_FEATURE].int64_list.value.append(int(example_id))
    feature["x"].float_list.value.extend(np.asarray(inputs, dtype=np.float32).tolist())
    for name, value in labels.items():
        feature[name].float_list.value.append(float(value))
    if segment:
        feature["segment"].bytes_list.value.append(str(segment).encode())
    if x_norm is not None:
        feature["x_norm"].float_list.value.append(float(x_norm))
    return example.SerializeToString(deterministic=True)


def shard_records(shard: synthetic_data.Shard, weights: synthetic_data.TaskWeights, seed: int,
                  example_dim: int, binary_labels: Sequence[str]) -> tuple[np.ndarray, List[bytes]]:
    """A shard's example ids and serialized examples, in id order."""
    data = synthetic_data.generate_shard(shard, weights, seed, example_dim)
    names = synthetic_data.label_names(weights.num_tasks)
    expected = dict(zip(names, synthetic_data.expected_labels(weights)))
    labels = {name: synthetic_data.binarize(data.label(name), expected[name])
              if name in binary_labels else data.label(name) for name in names}
    return data.ids, examples_bytes(data.ids, data.inputs, labels, data.segment, data.x_norm)


def bucket_bounds(split_config: example_gen_pb2.SplitConfig) -> List[int]:
    """Cumulative hash buckets of the splits, as ExampleGen counts them."""
    bounds, total = [], 0
    for split in split_config.splits:
        total += split.hash_buckets
        bounds.append(total)
    return bounds


def split_of_ids(ids: np.ndarray, bounds: List[int]) -> np.ndarray:
    """Each id's split index: ExampleGen's hash partition on the id feature.

    ExampleGen hashes the serialized feature (sha256, as an integer, modulo
    the total buckets) and takes the split whose cumulative bucket count is
    first above it.
    """
    total = bounds[-1]
    buckets = [int.from_bytes(hashlib.sha256(encoding.int64_feature_bytes(i)).digest(), "big") % total
               for i in ids.tolist()]
    return np.array([bisect.bisect(bounds, b) for b in buckets], dtype=np.int64)


def file_name(shard: synthetic_data.Shard, num_shards: int) -> str:
    return f"{write_split.DEFAULT_TF_RECORD_FILE_NAME}-{shard.index:05d}-of-{num_shards:05d}.gz"


def write_records(path: str, records: Sequence[bytes]) -> None:
    """A gzipped TFRecord file, all or nothing: written beside ``path``, then renamed into place."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with tf.io.TFRecordWriter(tmp, options="GZIP") as writer:
        for record in records:
            writer.write(record)
    tf.io.gfile.rename(tmp, path, overwrite=True)


class _WriteShard(beam.DoFn):
    """Generates one shard and writes its examples, one file per split."""

    def __init__(self, data: Dict[str, Any], weights: synthetic_data.TaskWeights, split_uris: List[str],
                 bounds: List[int]):
        self._data, self._weights, self._split_uris, self._bounds = data, weights, split_uris, bounds
        self._num_instances = beam.metrics.Metrics.counter(write_split.METRICS_NAMESPACE, "num_instances")

    def process(self, shard: synthetic_data.Shard):
        data = self._data
        ids, records = shard_records(shard, self._weights, data["seed"], data["example_dim"],
                                     data.get("binary_labels", []))
        which = split_of_ids(ids, self._bounds).tolist()
        for index, uri in enumerate(self._split_uris):
            write_records(os.path.join(uri, file_name(shard, data["num_shards"])),
                          [record for record, split in zip(records, which) if split == index])
        self._num_instances.inc(len(records))
        yield len(records)


def split_config_of(exec_properties: Dict[str, Any]) -> example_gen_pb2.SplitConfig:
    output_config = proto_utils.json_to_proto(exec_properties["output_config"], example_gen_pb2.Output())
    split_config = output_config.split_config
    if not split_config.splits:
        raise ValueError("SyntheticExampleGen needs output splits (output_config.split_config)")
    if split_config.partition_feature_name != ID_FEATURE:
        raise ValueError(f"SyntheticExampleGen splits by the hash of {ID_FEATURE!r}: set "
                         f"output_config.split_config.partition_feature_name to it "
                         f"(it is {split_config.partition_feature_name!r}); see component.hash_split")
    return split_config


class Executor(base_beam_executor.BaseBeamExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        split_config = split_config_of(exec_properties)
        split_names = [split.name for split in split_config.splits]
        data = json.loads(exec_properties["data_config"])
        weights = synthetic_data.draw_task_weights(
            data["seed"], data["example_dim"], data["c"], data["correlation"], data["m"],
            data.get("num_tasks", 2))
        shards = synthetic_data.plan_shards(data["num_examples"], data["num_shards"])

        examples = artifact_utils.get_single_instance(output_dict["examples"])
        examples.split_names = artifact_utils.encode_split_names(split_names)
        split_uris = [artifact_utils.get_split_uri([examples], name) for name in split_names]
        for uri in split_uris:
            tf.io.gfile.makedirs(uri)
        with self._make_beam_pipeline() as pipeline:
            _ = (pipeline
                 | "Shards" >> beam.Create(shards)
                 # Lets a distributed runner spread the shards over its workers.
                 | "Spread" >> beam.Reshuffle()
                 | "GenerateAndWrite" >> beam.ParDo(
                     _WriteShard(data, weights, split_uris, bucket_bounds(split_config))))

        examples_utils.set_payload_format(
            examples, exec_properties.get("output_data_format", example_gen_pb2.FORMAT_TF_EXAMPLE))
        examples_utils.set_file_format(examples, write_split.to_file_format_str(
            exec_properties.get("output_file_format", example_gen_pb2.FORMAT_TFRECORDS_GZIP)))
        examples.span = 0  # one generated dataset; its parameters are the "version"
        examples.version = 0

