"""preprocessing_fn through real TFT analyzers on a few in-memory rows."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata

from models.preprocessing import preprocessing_fn
from config import build_config

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


TRANSFORM_SPEC = {
    "gain": tf.io.FixedLenFeature([1], tf.float32),
    "debt": tf.io.VarLenFeature(tf.float32),
    "rank": tf.io.FixedLenFeature([1], tf.float32),
    "raw": tf.io.FixedLenFeature([1], tf.float32),
    "price": tf.io.FixedLenFeature([1], tf.float32),
}
TRANSFORM_ROWS = [
    {"gain": [0.0], "debt": [-10.0], "rank": [1.0], "raw": [7.0], "price": [100.0]},
    {"gain": [0.0], "debt": [], "rank": [2.0], "raw": [-3.0], "price": [200.0]},
    {"gain": [99.0], "debt": [0.0], "rank": [3.0], "raw": [0.5], "price": [300.0]},
    {"gain": [9999.0], "debt": [10.0], "rank": [4.0], "raw": [1e6], "price": [400.0]},
]


@pytest.fixture(scope="module")
def transformed_by_option(tmp_path_factory):
    config = build_config({
        "data": {"source": "csv", "path": "t.csv",
                 "features": [{"name": "gain", "transform": "log"},
                              {"name": "debt", "transform": "log", "clip": [-5, 5]},
                              {"name": "rank", "transform": "quantile", "quantile_buckets": 4},
                              {"name": "raw", "transform": "none"}]},
        "tasks": [{"name": "price"}],
    })
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(TRANSFORM_SPEC)
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (rows, _), _ = (TRANSFORM_ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    return {key: np.array([row[key] for row in rows]).ravel() for key in rows[0]}


def _z(values):
    values = np.asarray(values, dtype=float)
    return (values - values.mean()) / values.std()


def test_log_is_signed_log1p_then_z_score(transformed_by_option):
    np.testing.assert_allclose(transformed_by_option["gain_xf"], _z(np.log1p([0, 0, 99, 9999])), rtol=1e-5)


def test_clip_comes_first_and_a_missing_value_becomes_the_mean(transformed_by_option):
    present = np.sign([-5.0, 0.0, 5.0]) * np.log1p(np.abs([-5.0, 0.0, 5.0]))
    expected = _z(present)
    np.testing.assert_allclose(transformed_by_option["debt_xf"], [expected[0], 0.0, expected[1], expected[2]],
                               rtol=1e-5, atol=1e-6)


def test_quantile_maps_buckets_to_0_1_and_none_passes_values(transformed_by_option):
    np.testing.assert_allclose(transformed_by_option["rank_xf"], [0, 1 / 3, 2 / 3, 1], rtol=1e-5)
    np.testing.assert_allclose(transformed_by_option["raw_xf"], [7.0, -3.0, 0.5, 1e6])


def test_a_regression_label_is_kept_and_standardized_for_training(transformed_by_option):
    assert transformed_by_option["price_xf"].tolist() == [100.0, 200.0, 300.0, 400.0]
    np.testing.assert_allclose(transformed_by_option["price_scaled_xf"], _z([100, 200, 300, 400]), rtol=1e-5)


def test_binary_labels_are_not_standardized(transformed):
    assert "income_scaled_xf" not in transformed and "spend_scaled_xf" in transformed


PARTIAL_SPEC = {
    "bill-length mm": tf.io.FixedLenFeature([1], tf.float32),
    "species": tf.io.VarLenFeature(tf.string),
    "sex": tf.io.VarLenFeature(tf.string),
    "mass": tf.io.VarLenFeature(tf.string),
    "w": tf.io.VarLenFeature(tf.float32),
}
PARTIAL_ROWS = [
    {"bill-length mm": [1.0], "species": [b"Gentoo"], "sex": [b"male"], "mass": [b"10"], "w": [2.0]},
    {"bill-length mm": [2.0], "species": [b"Adelie"], "sex": [b"NA"], "mass": [b"20"], "w": []},
    {"bill-length mm": [3.0], "species": [b"Chinstrap"], "sex": [b"female"], "mass": [b"NA"], "w": [1.0]},
    {"bill-length mm": [4.0], "species": [b"Adelie"], "sex": [], "mass": [b"40"], "w": [0.0]},
    {"bill-length mm": [5.0], "species": [b"Emperor"], "sex": [b"male"], "mass": [b"50"], "w": [1.0]},
]


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    config = build_config({
        "data": {"source": "csv", "path": "t.csv", "missing_values": ["NA"], "example_weight": "w",
                 "features": [{"name": "bill-length mm"}]},
        "tasks": [{"name": "species", "type": "multiclass", "classes": ["Adelie", "Chinstrap", "Gentoo"]},
                  {"name": "sex", "type": "binary", "positive": "male"},
                  {"name": "mass", "missing_label": "drop_row"}],
    })
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(PARTIAL_SPEC)
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (rows, _), _ = (PARTIAL_ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    return {key: np.array([row[key] for row in rows]).ravel() for key in rows[0]}


def test_a_column_name_with_spaces_and_hyphens_gets_a_safe_output_name(partial):
    np.testing.assert_allclose(partial["bill_length_mm_xf"], (np.arange(1, 6) - 3) / np.sqrt(2), rtol=1e-5)


def test_multiclass_labels_are_class_indices_and_an_unknown_class_is_missing(partial):
    assert partial["species_xf"].tolist() == [2, 0, 1, 0, 0]
    # Emperor is not a class: weight 0 (and row 3's mass is missing: drop_row zeroes every task).
    assert partial["species__weight_xf"].tolist() == [2.0, 1.0, 0.0, 0.0, 0.0]


def test_a_missing_label_weighs_0_for_its_task_and_drop_row_for_every_task(partial):
    assert partial["sex_xf"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]
    # Row 2: no sex (mask) -> only sex is 0; row 3: no mass (drop_row) -> 0 everywhere;
    # row 4: example weight 0; a missing example weight (row 2) counts as 1.
    assert partial["sex__weight_xf"].tolist() == [2.0, 0.0, 0.0, 0.0, 1.0]
    assert partial["mass__weight_xf"].tolist() == [2.0, 1.0, 0.0, 0.0, 1.0]


def test_a_label_is_standardized_over_its_present_values_only(partial):
    present = np.array([10.0, 20.0, 40.0, 50.0])  # the NA row is left out of mean and variance
    expected = (present - present.mean()) / present.std()
    np.testing.assert_allclose(partial["mass_scaled_xf"][[0, 1, 3, 4]], expected, rtol=1e-5)
    assert partial["mass_xf"][2] == 0.0 and partial["mass_scaled_xf"][2] == 0.0


def test_the_log_of_a_value_does_not_depend_on_its_place_in_the_batch():
    """Batches differ between runs and orchestrators; float32 log1p differed in the last bit with them."""
    from models.preprocessing import signed_log1p

    values = np.random.RandomState(0).lognormal(6, 1.5, 200).astype(np.float32)
    whole = signed_log1p(tf.constant(values)).numpy()
    one_by_one = np.array([signed_log1p(tf.constant(values[i:i + 1])).numpy()[0] for i in range(len(values))])
    assert np.array_equal(whole, one_by_one)


COMPLETE_SPEC = {
    "a": tf.io.FixedLenFeature([1], tf.float32),
    "b": tf.io.FixedLenFeature([1], tf.int64),
    "c": tf.io.FixedLenFeature([1], tf.float32),
    "v": tf.io.FixedLenFeature([2], tf.float32),
    "q": tf.io.FixedLenFeature([1], tf.float32),
    "y": tf.io.FixedLenFeature([1], tf.float32),
}
COMPLETE_ROWS = [
    {"a": [1.0], "b": [10], "c": [-100.0], "v": [0.0, 5.0], "q": [1.0], "y": [1.0]},
    {"a": [2.0], "b": [30], "c": [0.5], "v": [1.0, 5.5], "q": [2.0], "y": [2.0]},
    {"a": [4.0], "b": [20], "c": [3.0], "v": [3.0, 4.0], "q": [3.0], "y": [4.0]},
    {"a": [8.0], "b": [60], "c": [99.0], "v": [8.0, 7.5], "q": [4.0], "y": [8.0]},
]


def test_complete_columns_z_scored_together_each_keep_their_own_statistics(tmp_path):
    # One elementwise analyzer scales every complete z-scored column (models.preprocessing.z_score_together);
    # each column, a vector's each value, is scaled by its own mean and variance, after its own clip and log.
    config = build_config({
        "data": {"source": "csv", "path": "t.csv",
                 "features": [{"name": "a"}, {"name": "b", "transform": "log"}, {"name": "c", "clip": [-1, 3]},
                              {"name": "v", "size": 2}, {"name": "q", "transform": "quantile",
                                                         "quantile_buckets": 4}]},
        "tasks": [{"name": "y"}],
    })
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(COMPLETE_SPEC)
    with tft_beam.Context(temp_dir=str(tmp_path)):
        (rows, _), _ = (COMPLETE_ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    column = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    np.testing.assert_allclose(column["a_xf"].ravel(), _z([1, 2, 4, 8]), rtol=1e-5)
    np.testing.assert_allclose(column["b_xf"].ravel(), _z(np.log1p([10, 30, 20, 60])), rtol=1e-5)
    np.testing.assert_allclose(column["c_xf"].ravel(), _z([-1, 0.5, 3, 3]), rtol=1e-5)
    assert column["v_xf"].shape == (4, 2)
    np.testing.assert_allclose(column["v_xf"][:, 0], _z([0, 1, 3, 8]), rtol=1e-5)
    np.testing.assert_allclose(column["v_xf"][:, 1], _z([5, 5.5, 4, 7.5]), rtol=1e-5)
    np.testing.assert_allclose(column["q_xf"].ravel(), [0, 1 / 3, 2 / 3, 1], rtol=1e-5)


def test_columns_with_missing_cells_and_labels_are_z_scored_each_over_its_own_present_values(tmp_path):
    # Columns with missing cells share one elementwise analyzer, the regression labels another
    # (models.preprocessing.z_scored_over_present): each by the mean and variance of its own present values.
    spec = {"m": tf.io.VarLenFeature(tf.float32), "n": tf.io.FixedLenFeature([1], tf.string),
            "y": tf.io.VarLenFeature(tf.float32), "z": tf.io.VarLenFeature(tf.float32)}
    rows = [{"m": [1.0], "n": [b"10"], "y": [1.0], "z": []},
            {"m": [], "n": [b"?"], "y": [3.0], "z": [100.0]},
            {"m": [5.0], "n": [b"40"], "y": [], "z": [300.0]},
            {"m": [9.0], "n": [b"50"], "y": [8.0], "z": [200.0]}]
    config = build_config({"data": {"source": "csv", "path": "t.csv", "missing_values": ["?"],
                                    "features": [{"name": "m"}, {"name": "n", "transform": "log"}]},
                           "tasks": [{"name": "y"}, {"name": "z"}]})
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    with tft_beam.Context(temp_dir=str(tmp_path)):
        (out, _), _ = (rows, dataset_metadata.DatasetMetadata.from_feature_spec(spec)) | \
            tft_beam.AnalyzeAndTransformDataset(fn)
    column = {key: np.array([row[key] for row in out]).ravel() for key in out[0]}
    m, n, y, z = _z([1, 5, 9]), _z(np.log1p([10, 40, 50])), _z([1, 3, 8]), _z([100, 300, 200])
    np.testing.assert_allclose(column["m_xf"], [m[0], 0.0, m[1], m[2]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(column["n_xf"], [n[0], 0.0, n[1], n[2]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(column["y_scaled_xf"], [y[0], y[1], 0.0, y[2]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(column["z_scaled_xf"], [0.0, z[0], z[1], z[2]], rtol=1e-5, atol=1e-6)
