"""DataChoices reads a column a batch at a time; it must give what reading example by example gives."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components import data_choices_component as data_choices

MISSING = {"?"}


def _example(row: dict) -> bytes:
    features = {}
    for name, value in row.items():
        if isinstance(value, float):
            features[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        elif isinstance(value, int):
            features[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            features[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def _rows(count: int, seed: int) -> list[dict]:
    """Rows as ExampleGen writes them: a float column with absent values, a text column with
    spaces, missing tokens and empty cells, an int64 label, and a column whose kind varies."""
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(count):
        row = {"grade": int(rng.randint(0, 5)), "mixed": float(i) if i % 7 else f" {i}.5 "}
        if rng.rand() > 0.1:
            row["price"] = float(np.float32(rng.lognormal(7, 1)))
        row["size"] = rng.choice([" 1.5", "2", "?", "", "x", "3.25 "])
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """An Examples artifact of three gzipped splits, 10,000, 3,000 and 200 rows (several batches);
    a grade (7) and a size ("xl") only in test."""
    root = tmp_path_factory.mktemp("examples")
    test = [{**row, "grade": 7, "size": "xl"} if i % 50 == 0 else row for i, row in enumerate(_rows(200, 2))]
    splits = {"train": _rows(10_000, 0), "eval": _rows(3_000, 1), "test": test}
    for split, rows in splits.items():
        (root / f"Split-{split}").mkdir()
        with tf.io.TFRecordWriter(str(root / f"Split-{split}" / "data.gz"), options="GZIP") as writer:
            for row in rows:
                writer.write(_example(row))
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = json.dumps(list(splits))
    return artifact, splits


def _one_at_a_time(rows: list[dict], column: str) -> list:
    """An independent reading: each example parsed alone, its feature's present values."""
    values = []
    for row in rows:
        feature = tf.train.Example.FromString(_example(row)).features.feature.get(column)
        if feature is not None:
            values += data_choices._present(feature, MISSING)  # noqa: SLF001
    return values


def _as_numbers(values: list) -> list[float]:
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))
        except ValueError:
            pass
    return numbers


@pytest.mark.parametrize("limit", [100_000, 5_000, 4_097])
def test_train_values_equal_the_example_by_example_reading(examples, limit):
    artifact, splits = examples
    columns = ["price", "size", "mixed", "grade", "absent"]
    got = data_choices.train_values(artifact, columns, MISSING, limit=limit)
    first = splits["train"][:limit]
    for column in columns:
        assert got[column] == _as_numbers(_one_at_a_time(first, column)), column
    assert len(got["price"]) == sum("price" in row for row in first)
    assert set(got["size"]) == {1.5, 2.0, 3.25}  # stripped; "?", "" and "x" are not numbers
    assert got["absent"] == []


def test_label_values_are_the_training_splits_read_example_by_example(examples):
    artifact, splits = examples
    columns = ["grade", "size", "mixed"]
    got = data_choices.label_values(artifact, columns, MISSING)
    for column in columns:
        assert got[column] == {str(v) for v in _one_at_a_time(splits["train"], column)}, column
    assert got["grade"] == {"0", "1", "2", "3", "4"}
    assert got["size"] == {"1.5", "2", "x", "3.25"}  # stripped; "?" and "" are missing
    # Classes are what Transform analyzes (train); one seen only in test decides nothing.
    assert "7" not in got["grade"] and "xl" not in got["size"]
