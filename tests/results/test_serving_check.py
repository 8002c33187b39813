"""The scores the serving check prints."""

import numpy as np
import pytest

import tensorflow as tf

from config import build_config
from models.tasks.binary import auc_score
from models.tasks.multiclass import accuracy_score
from models.tasks.regression import r2_score
from pipeline.results.serving_check import label_value


def test_r2():
    y = np.array([1.0, 2.0, 3.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(3, 2.0)) == pytest.approx(0.0)


def test_auc_counts_ordered_pairs_and_ties():
    y = np.array([0, 0, 1, 1])
    assert auc_score(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc_score(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auc_score(y, np.full(4, 0.5)) == 0.5
    assert np.isnan(auc_score(np.zeros(3), np.zeros(3)))


def test_raw_labels_become_what_the_model_learns():
    tasks = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}]},
                          "tasks": [{"name": "spend"}, {"name": "churned", "type": "binary", "positive": "yes"},
                                    {"name": "purchased", "type": "binary"}]}).tasks
    spend, churned, purchased = tasks
    assert label_value(tf.train.Feature(float_list=tf.train.FloatList(value=[2.5])), spend) == 2.5
    assert label_value(tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"yes"])), churned) == 1.0
    assert label_value(tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"no"])), churned) == 0.0
    assert label_value(tf.train.Feature(int64_list=tf.train.Int64List(value=[1])), purchased) == 1.0
    assert np.isnan(label_value(tf.train.Feature(), spend))


def test_accuracy_takes_the_most_probable_class():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    assert accuracy_score(np.array([0, 2, 1]), probabilities) == pytest.approx(2 / 3)


def test_a_class_label_becomes_its_index_and_an_unknown_class_is_missing():
    (species,) = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}]},
                               "tasks": [{"name": "species", "type": "multiclass"}]}).tasks
    classes = ["Adelie", "Chinstrap", "Gentoo"]
    assert label_value(tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"Gentoo"])), species, classes) == 2
    assert np.isnan(label_value(tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"Emperor"])), species,
                                classes))


def test_a_missing_value_token_is_a_missing_label():
    spend, churned = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}]},
                                   "tasks": [{"name": "spend"}, {"name": "churned", "type": "binary",
                                                                 "positive": "yes"}]}).tasks
    na = tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"NA"]))
    assert np.isnan(label_value(na, spend, missing_values={"NA"}))
    assert np.isnan(label_value(na, churned, missing_values={"NA"}))
