"""Transform's analyzer cache (pipeline.analyzer_cache) is keyed by what the preprocessing computes.

tf.Transform names each cache entry by its analyzer and a hash of the graph
path from the raw inputs to that analyzer (op attributes, constants included):
an entry written by one preprocessing is read only by the same computation.
Here, on the project's own ``preprocessing_fn``, with TFT's own key function.
"""

from __future__ import annotations

import functools

import tensorflow as tf
from tensorflow_transform.beam import analysis_graph_builder, analyzer_cache

from config import build_config
from models.preprocessing import preprocessing_fn

SPECS = {name: tf.TensorSpec([None, 1], tf.float32) for name in ("a", "b", "y")}
DATASETS = [analyzer_cache.DatasetKey("span-1"), analyzer_cache.DatasetKey("span-2")]


def _keys(a: dict) -> set[bytes]:
    config = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a", **a}, {"name": "b"}]},
                           "tasks": [{"name": "y"}]})
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    return analysis_graph_builder.get_analysis_cache_entry_keys(fn, SPECS, DATASETS, force_tf_compat_v1=False)


def test_the_same_preprocessing_has_the_same_keys():
    assert _keys({"transform": "z_score"}) == _keys({"transform": "z_score"})


def test_another_computation_before_an_analyzer_changes_its_key_only():
    z_score, clipped, logged = _keys({"transform": "z_score"}), _keys({"clip": [-1.0, 1.0]}), _keys({"transform": "log"})
    assert z_score and clipped != z_score and logged != z_score
    # Features a and b share one analyzer (complete columns z-scored together), whose entry changes;
    # the label is computed alike in all three: its entry is shared.
    assert len(z_score & clipped) == len(z_score & logged) == len(z_score) - 1


def test_complete_z_scored_columns_share_one_cache_entry():
    # tf.Transform reads and writes each entry, per span, as Beam steps of their own (docs/daily-loop.md):
    # a and b have one entry between them, the label's standardized copy one of its own.
    assert len(_keys({"transform": "z_score"})) == 2
    # A column that cannot share (quantile buckets) has its own.
    assert len(_keys({"transform": "quantile"})) == 3


def test_columns_with_missing_cells_share_one_entry_and_the_labels_another():
    config = build_config({"data": {"source": "csv", "path": "t.csv",
                                    "features": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
                           "tasks": [{"name": "y"}, {"name": "z"}]})
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    sparse = tf.SparseTensorSpec([None, None], tf.float32)
    specs = {"a": sparse, "b": sparse, "c": SPECS["a"], "y": sparse, "z": sparse}
    keys = analysis_graph_builder.get_analysis_cache_entry_keys(fn, specs, DATASETS, force_tf_compat_v1=False)
    assert len(keys) == 3  # a and b; c (complete); the labels y and z
