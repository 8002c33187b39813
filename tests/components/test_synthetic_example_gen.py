"""SyntheticExampleGen's executor, run for real on Beam's DirectRunner."""

import json

import pytest
import tensorflow as tf
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import synthetic_data
from components.synthetic_example_gen.component import SyntheticExampleGen
from components.synthetic_example_gen.executor import Executor, examples_bytes, to_example_bytes
from config import build_config


def _run_executor(tmp_path, name, data_config):
    component = SyntheticExampleGen(data_config=data_config)
    exec_properties = {
        key: proto_utils.proto_to_json(value) if hasattr(value, "DESCRIPTOR") else value
        for key, value in component.exec_properties.items()}
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / name)
    Executor().Do({}, {"examples": [examples]}, exec_properties)
    return examples


def _output_config(component) -> example_gen_pb2.Output:
    value = component.exec_properties["output_config"]
    return value if isinstance(value, example_gen_pb2.Output) else proto_utils.json_to_proto(
        value, example_gen_pb2.Output())


def _records(examples, split):
    files = sorted(tf.io.gfile.glob(f"{examples.uri}/Split-{split}/*.gz"))
    records = []
    for path in files:
        records.extend(r.numpy() for r in tf.data.TFRecordDataset(path, compression_type="GZIP"))
    return records


@pytest.fixture(scope="module")
def data_config():
    return build_config({"data": {"num_examples": 600, "example_dim": 8, "num_shards": 3,
                                  "seed": 4}}).data.model_dump(mode="json")


def test_writes_exactly_num_examples_in_train_eval_and_test_splits(tmp_path, data_config):
    examples = _run_executor(tmp_path, "a", data_config)
    assert json.loads(examples.split_names) == ["train", "eval", "test"]
    assert examples.span == 0
    splits = [_records(examples, split) for split in ("train", "eval", "test")]
    assert sum(map(len, splits)) == 600
    for held_out in splits[1:]:
        assert 0.05 < len(held_out) / 600 < 0.15  # 8:1:1 hash buckets
    ids = [{tf.train.Example.FromString(r).features.feature["example_id"].int64_list.value[0] for r in rs}
           for rs in splits]
    assert sum(map(len, ids)) == 600 and set().union(*ids) == set(range(600))  # disjoint, and every id


def test_examples_carry_inputs_and_labels_of_the_generator(tmp_path, data_config):
    examples = _run_executor(tmp_path, "a", data_config)
    expected = synthetic_data.generate(600, example_dim=8, p=0.8, seed=4, num_shards=3)
    for record in _records(examples, "eval")[:20]:
        feature = tf.train.Example.FromString(record).features.feature
        i = feature["example_id"].int64_list.value[0]
        assert list(feature["x"].float_list.value) == pytest.approx(expected.inputs[i].tolist())
        assert feature["y1"].float_list.value[0] == pytest.approx(float(expected.y1[i]))
        assert feature["y2"].float_list.value[0] == pytest.approx(float(expected.y2[i]))
        assert feature["segment"].bytes_list.value[0].decode() == expected.segment[i]
        assert feature["x_norm"].float_list.value[0] == pytest.approx(float(expected.x_norm[i]))


def test_same_seed_gives_byte_identical_files(tmp_path, data_config):
    first, second = _run_executor(tmp_path, "a", data_config), _run_executor(tmp_path, "b", data_config)
    for split in ("train", "eval", "test"):
        names = sorted(p.name for p in (tmp_path / "a" / f"Split-{split}").iterdir())
        assert names == sorted(p.name for p in (tmp_path / "b" / f"Split-{split}").iterdir())
        assert len(names) == 3  # one file a shard
        for name in names:
            assert ((tmp_path / "a" / f"Split-{split}" / name).read_bytes()
                    == (tmp_path / "b" / f"Split-{split}" / name).read_bytes())
        assert _records(first, split) == _records(second, split)


def _protobuf_record(data, i, labels):
    """Example i as protobuf serializes it, built field by field from the generator's arrays."""
    example = tf.train.Example()
    feature = example.features.feature
    feature["example_id"].int64_list.value.append(int(data.ids[i]))
    feature["x"].float_list.value.extend(data.inputs[i].tolist())
    for name, values in labels.items():
        feature[name].float_list.value.append(float(values[i]))
    feature["segment"].bytes_list.value.append(str(data.segment[i]).encode())
    feature["x_norm"].float_list.value.append(float(data.x_norm[i]))
    return example.SerializeToString(deterministic=True)


def test_every_record_is_the_protobuf_serialization_in_exampleGens_split(tmp_path):
    config = build_config({"data": {"num_examples": 400, "example_dim": 5, "num_shards": 2, "seed": 9,
                                    "num_tasks": 3, "binary_labels": ["y3"], "correlation": 0.5}}).data
    examples = _run_executor(tmp_path, "a", config.model_dump(mode="json"))
    data = synthetic_data.generate(400, example_dim=5, p=0.5, seed=9, num_shards=2, num_tasks=3)
    weights = synthetic_data.draw_task_weights(9, 5, 0.3, 0.5, 5, num_tasks=3)
    labels = {"y1": data.y1, "y2": data.y2,
              "y3": synthetic_data.binarize(data.label("y3"), synthetic_data.expected_labels(weights)[2])}
    split_config = _output_config(SyntheticExampleGen(data_config=config.model_dump(mode="json"))).split_config
    seen = []
    bounds = [8, 9, 10]  # the default 8:1:1 buckets, cumulative
    assert [s.hash_buckets for s in split_config.splits] == [8, 1, 1]
    for index, split in enumerate(("train", "eval", "test")):
        for record in _records(examples, split):
            parsed = tf.train.Example.FromString(record)
            i = parsed.features.feature["example_id"].int64_list.value[0]
            assert record == _protobuf_record(data, i, labels)
            # TFX's own partition of ExampleGen output on `partition_feature_name`.
            assert base_example_gen_executor._PartitionFn(parsed, 3, bounds, split_config) == index
            seen.append(i)
    assert sorted(seen) == list(range(400))


def test_split_on_another_feature_is_refused_naming_the_field(tmp_path, data_config):
    component = SyntheticExampleGen(data_config=data_config)
    output_config = _output_config(component)
    output_config.split_config.ClearField("partition_feature_name")
    exec_properties = {**component.exec_properties, "output_config": proto_utils.proto_to_json(output_config)}
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "x")
    with pytest.raises(ValueError, match="partition_feature_name"):
        Executor().Do({}, {"examples": [examples]}, exec_properties)


def test_serialization_is_deterministic():
    data = synthetic_data.generate(3, example_dim=4, seed=1)
    encoded = [to_example_bytes(data.ids[i], data.inputs[i], {"y1": data.y1[i], "y2": data.y2[i]})
               for i in range(3)]
    assert encoded == [to_example_bytes(data.ids[i], data.inputs[i], {"y2": data.y2[i], "y1": data.y1[i]})
                       for i in range(3)]
    assert len(set(encoded)) == 3
    # The one-record form (protobuf) and the shard form (numpy) give the same bytes.
    data = synthetic_data.generate(50, example_dim=4, seed=1, num_tasks=3)
    labels = {name: data.label(name) for name in ("y1", "y2", "y3")}
    assert examples_bytes(data.ids, data.inputs, labels, data.segment, data.x_norm) == [
        to_example_bytes(data.ids[i], data.inputs[i], {k: v[i] for k, v in labels.items()}, data.segment[i],
                         data.x_norm[i]) for i in range(50)]
