"""The Trainer's pure parts: undoing the label scaling, early stopping with the best weights."""

from __future__ import annotations

import numpy as np
import pytest
import tf_keras

from models.callbacks import BestWeights
from models.signatures import label_scale


def test_label_scale_is_read_back_from_two_points():
    mean, std = 250.0, 40.0
    assert label_scale((0 - mean) / std, (1 - mean) / std) == pytest.approx((mean, std))


class _Losses(tf_keras.callbacks.Callback):
    """Feeds a scripted eval loss to the callbacks after each check, and moves the weights."""

    def __init__(self, losses, best):
        super().__init__()
        self.losses, self.best = losses, best

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.losses[epoch]
        self.model.layers[-1].set_weights([np.full((1, 1), float(epoch + 1)), np.zeros(1)])
        self.best.on_epoch_end(epoch, logs)


def _fit(losses, patience, steps_per_execution=1):
    model = tf_keras.Sequential([tf_keras.Input(shape=(1,)), tf_keras.layers.Dense(1)])
    model.compile("sgd", "mse", steps_per_execution=steps_per_execution)
    best = BestWeights(patience)
    best.set_model(model)
    # 4 steps a check: with 3 steps a call, calls of 3 and 1 steps; the check still comes after 4.
    model.fit(np.zeros((4, 1)), np.zeros((4, 1)), batch_size=1, epochs=len(losses), verbose=0,
              callbacks=[_Losses(losses, best)])
    best.on_train_end()
    return best, float(model.layers[-1].get_weights()[0][0, 0])


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_stops_after_patience_checks_without_improvement_and_restores_the_best(steps_per_execution):
    best, weight = _fit([5.0, 3.0, 4.0, float("nan"), 3.5, 1.0], patience=3,
                        steps_per_execution=steps_per_execution)
    assert best.checks_run == 5 and best.best_check == 2 and weight == 2.0


def test_a_budget_that_ends_first_still_keeps_the_best_weights():
    best, weight = _fit([5.0, 1.0, 2.0], patience=10)
    assert best.checks_run == 3 and best.best_check == 2 and weight == 2.0


def test_without_early_stopping_the_last_weights_stay():
    best, weight = _fit([5.0, 1.0, 2.0], patience=None)
    assert best.checks_run == 3 and best.best_check is None and weight == 3.0


def test_planned_passes_counts_only_as_far_as_the_in_memory_choice_needs(tmp_path):
    import tensorflow as tf

    from models.input_pipeline import MIN_PASSES_IN_MEMORY, planned_passes

    path = str(tmp_path / "train.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for i in range(10):
            writer.write(str(i).encode())
    assert planned_passes([path], counted=10, limit=None, planned_examples=30) == 3.0  # exact count
    assert planned_passes([path], counted=4, limit=4, planned_examples=30) == 3.0  # counted on: all 10
    # 15 planned: counting stops at 8 (= 15 // 2 + 1), enough to know it is under 2 passes.
    assert planned_passes([path], counted=4, limit=4, planned_examples=15) == 15 / 8 < MIN_PASSES_IN_MEMORY


def test_label_scales_are_each_labels_mean_and_std_in_the_transform_graph(tmp_path):
    # Two regression labels, standardized together by one analyzer (models.preprocessing): each
    # label's (mean, std) read off the real transform graph equals numpy's over its own values.
    import functools

    import apache_beam as beam
    import tensorflow as tf
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

    from config import build_config
    from models.preprocessing import preprocessing_fn
    from models.signatures import label_scales

    config = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "x"}]},
                           "tasks": [{"name": "price"}, {"name": "rooms"}, {"name": "sold", "type": "binary"}]})
    spec = {name: tf.io.FixedLenFeature([1], tf.float32) for name in ("x", "price", "rooms", "sold")}
    price, rooms = [100.0, 250.0, 400.0, 50.0], [1.0, 2.0, 2.0, 7.0]
    rows = [{"x": [float(i)], "price": [p], "rooms": [r], "sold": [float(i % 2)]}
            for i, (p, r) in enumerate(zip(price, rooms))]
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    raw_metadata = dataset_metadata.DatasetMetadata.from_feature_spec(spec)
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        transform_fn = (pipeline | beam.Create(rows), raw_metadata) | tft_beam.AnalyzeDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path / "graph"))
    metadata_io.write_metadata(raw_metadata, str(tmp_path / "graph" / "metadata"))  # as TFX's Transform does
    scales = label_scales(tft.TFTransformOutput(str(tmp_path / "graph")), config)
    assert set(scales) == {"price", "rooms"}  # a binary label is not standardized
    assert scales["price"] == pytest.approx((np.mean(price), np.std(price)), rel=1e-5)
    assert scales["rooms"] == pytest.approx((np.mean(rooms), np.std(rooms)), rel=1e-5)
