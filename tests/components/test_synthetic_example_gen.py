"""SyntheticExampleGen's executor, run for real on Beam's DirectRunner."""

import json

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import synthetic_data
from components.synthetic_example_gen.component import SyntheticExampleGen
from components.synthetic_example_gen.executor import Executor, to_example_bytes
from pipeline.config import build_config


def _run_executor(tmp_path, name, data_config):
    component = SyntheticExampleGen(data_config=data_config)
    exec_properties = {
        key: proto_utils.proto_to_json(value) if hasattr(value, "DESCRIPTOR") else value
        for key, value in component.exec_properties.items()}
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / name)
    Executor().Do({}, {"examples": [examples]}, exec_properties)
    return examples


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


def test_writes_exactly_num_examples_in_train_and_eval_splits(tmp_path, data_config):
    examples = _run_executor(tmp_path, "a", data_config)
    assert json.loads(examples.split_names) == ["train", "eval"]
    assert examples.span == 0
    train, evaluation = _records(examples, "train"), _records(examples, "eval")
    assert len(train) + len(evaluation) == 600
    assert 0.12 < len(evaluation) / 600 < 0.28  # 4:1 hash buckets
    ids = lambda rs: {tf.train.Example.FromString(r).features.feature["example_id"].int64_list.value[0] for r in rs}
    assert ids(train).isdisjoint(ids(evaluation)) and ids(train) | ids(evaluation) == set(range(600))


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


def test_same_seed_gives_byte_identical_records(tmp_path, data_config):
    first, second = _run_executor(tmp_path, "a", data_config), _run_executor(tmp_path, "b", data_config)
    for split in ("train", "eval"):
        assert sorted(_records(first, split)) == sorted(_records(second, split))


def test_serialization_is_deterministic():
    data = synthetic_data.generate(3, example_dim=4, seed=1)
    encoded = [to_example_bytes(data.ids[i], data.inputs[i], data.y1[i], data.y2[i]) for i in range(3)]
    assert encoded == [to_example_bytes(data.ids[i], data.inputs[i], data.y1[i], data.y2[i]) for i in range(3)]
    assert len(set(encoded)) == 3
