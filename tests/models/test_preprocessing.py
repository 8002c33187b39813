"""preprocessing_fn through real TFT analyzers on a few in-memory rows."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata

from models.preprocessing import preprocessing_fn
from pipeline.config import build_config

# As CsvExampleGen + SchemaGen make them: a column with missing cells is VarLen,
# a numeric column holding "?" is a string column.
RAW_SPEC = {
    "age": tf.io.VarLenFeature(tf.int64),
    "tenure": tf.io.FixedLenFeature([1], tf.string),
    "city": tf.io.VarLenFeature(tf.string),
    "spend": tf.io.FixedLenFeature([1], tf.float32),
    "income": tf.io.FixedLenFeature([1], tf.string),
    "clicked": tf.io.FixedLenFeature([1], tf.int64),
}
ROWS = [
    {"age": [20], "tenure": [b"1.0"], "city": [b"paris"], "spend": [1.0], "income": [b">50K"], "clicked": [1]},
    {"age": [40], "tenure": [b"?"], "city": [], "spend": [2.0], "income": [b"<=50K"], "clicked": [0]},
    {"age": [], "tenure": [b"3.0"], "city": [b"lyon"], "spend": [3.0], "income": [b"<=50K"], "clicked": [0]},
    {"age": [60], "tenure": [b"5.0"], "city": [b"paris"], "spend": [4.0], "income": [b">50K"], "clicked": [1]},
]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    config = build_config({
        "data": {"source": "csv", "path": "t.csv", "missing_values": ["?"],
                 "features": [{"name": "age"}, {"name": "tenure"},
                              {"name": "city", "type": "categorical", "num_oov_buckets": 2}]},
        "tasks": [{"name": "spend"}, {"name": "income", "type": "binary", "positive": ">50K"},
                  {"name": "clicked", "type": "binary"}],
    })
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(RAW_SPEC)
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (rows, _), _ = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    return {key: np.array([row[key] for row in rows]).ravel() for key in rows[0]}


def test_numeric_is_z_scored_over_present_values_and_missing_is_the_mean(transformed):
    np.testing.assert_allclose(transformed["age_xf"], [-np.sqrt(1.5), 0.0, 0.0, np.sqrt(1.5)], rtol=1e-5)
    # "?" is missing; 1, 3, 5 have mean 3 and variance 8/3.
    np.testing.assert_allclose(transformed["tenure_xf"], [-2 / np.sqrt(8 / 3), 0.0, 0.0, 2 / np.sqrt(8 / 3)],
                               rtol=1e-5)


def test_categorical_indices_reserve_zero_for_missing(transformed):
    # Vocabulary by frequency: paris -> 1, lyon -> 2; a missing city -> 0.
    assert transformed["city_xf"].tolist() == [1, 0, 2, 1]


def test_labels_become_floats_and_string_binaries_become_0_1(transformed):
    assert transformed["spend_xf"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert transformed["income_xf"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert transformed["clicked_xf"].tolist() == [1.0, 0.0, 0.0, 1.0]
