"""The numpy tf.Example encoder against protobuf's own deterministic serialization."""

import numpy as np
import pytest
import tensorflow as tf

from components.synthetic_example_gen import encoding


def _protobuf(int64s, floats, strings):
    n = len(next(iter({**int64s, **floats, **strings}.values())))
    records = []
    for row in range(n):
        example = tf.train.Example()
        feature = example.features.feature
        for name, values in int64s.items():
            feature[name].int64_list.value.append(int(values[row]))
        for name, values in floats.items():
            feature[name].float_list.value.extend(np.asarray(values[row], dtype=np.float32).reshape(-1).tolist())
        for name, values in strings.items():
            feature[name].bytes_list.value.append(str(values[row]).encode())
        records.append(example.SerializeToString(deterministic=True))
    return records


def test_byte_identical_to_protobuf_for_every_kind_of_field():
    rng = np.random.default_rng(0)
    # Ids across varint lengths (1, 2, 3 and 9 bytes) and negative ones (10 bytes).
    ids = np.concatenate([np.arange(120, 135), np.arange(16375, 16390), rng.integers(0, 2 ** 62, 10),
                          -rng.integers(1, 2 ** 40, 10), [0, 2 ** 63 - 1, -2 ** 63]])
    n = len(ids)
    x = rng.normal(size=(n, 7)).astype(np.float32)
    x[0, 0], x[1, 1] = -0.0, np.float32(3.4e38)
    int64s = {"example_id": ids, "count": rng.integers(-5, 300, n)}
    floats = {"x": x, "y10": rng.normal(size=n), "y2": rng.normal(size=(n, 1)), "empty": np.zeros((n, 0)),
              "wide": rng.normal(size=(n, 40))}  # "y10" sorts before "y2"
    strings = {"segment": rng.choice(["a", "bb", "", "ünï", "x" * 200], size=n), "same": np.array(["c"] * n)}
    assert encoding.encode_examples(int64s, floats, strings) == _protobuf(int64s, floats, strings)


def test_long_runs_of_equal_widths_and_short_strings():
    ids = np.arange(100_000, 100_000 + 3000)  # 3-byte varints throughout
    segment = np.array(["a", "b", "c"])[np.arange(3000) % 3]
    floats = {"x": np.linspace(-1, 1, 3000 * 5).reshape(3000, 5)}
    got = encoding.encode_examples({"id": ids}, floats, {"segment": segment})
    assert got == _protobuf({"id": ids}, floats, {"segment": segment})


def test_widths_changing_from_row_to_row_keep_each_record_in_its_row():
    # Text and ids of varying widths in random order: rows are encoded grouped by width, returned in order.
    rng = np.random.default_rng(1)
    n = 2000
    int64s = {"id": rng.permutation(np.concatenate([rng.integers(0, 100, n // 2), rng.integers(2 ** 20, 2 ** 40, n // 2)]))}
    strings = {"grade": rng.choice(["Fair", "Good", "VeryGood", "Ideal", "Premium"], size=n),
               "color": rng.choice(["color_1", "color_10", ""], size=n).astype(object)}
    floats = {"carat": rng.lognormal(size=n)}
    assert encoding.encode_examples(int64s, floats, strings) == _protobuf(int64s, floats, strings)


def test_empty_cells_and_columns_without_values_as_tfxs_csv_reader_writes_them():
    # An empty cell: the feature with its kind's empty list; a column with no value at all: a Feature without a list.
    rng = np.random.default_rng(2)
    n = 500
    int64s, floats = {"count": rng.integers(-3, 2 ** 33, n)}, {"price": rng.normal(size=n)}
    strings = {"grade": rng.choice(["Fair", "VeryGood", ""], size=n)}
    present = {"count": rng.random(n) > 0.3, "price": rng.random(n) > 0.5, "grade": strings["grade"] != ""}
    expected = []
    for row in range(n):
        example = tf.train.Example()
        feature = example.features.feature
        feature["count"].int64_list.value.extend([int(int64s["count"][row])] if present["count"][row] else [])
        feature["price"].float_list.value.extend([float(floats["price"][row])] if present["price"][row] else [])
        feature["grade"].bytes_list.value.extend([strings["grade"][row].encode()] if present["grade"][row] else [])
        feature["empty"].CopyFrom(tf.train.Feature())
        expected.append(example.SerializeToString(deterministic=True))
    assert encoding.encode_examples(int64s, floats, strings, present=present, without_values=["empty"]) == expected
    assert tf.train.Example.FromString(expected[0]).features.feature["empty"].WhichOneof("kind") is None


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2 ** 35, 2 ** 63 - 1, -1])
def test_int64_feature_bytes_is_the_serialized_feature(value):
    expected = tf.train.Feature(int64_list=tf.train.Int64List(value=[value])).SerializeToString(
        deterministic=True)
    assert encoding.int64_feature_bytes(value) == expected


def test_bad_columns_are_refused():
    with pytest.raises(ValueError, match="lengths"):
        encoding.encode_examples({"a": np.arange(3)}, {"b": np.zeros(4)})
    with pytest.raises(ValueError, match="twice"):
        encoding.encode_examples({"a": np.arange(3)}, {"a": np.zeros(3)})
    assert encoding.encode_examples({"a": np.arange(0)}) == []
