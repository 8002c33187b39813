"""The Trainer's input pipeline on real gzipped TFRecords: the examples, in the seeded shuffle's order."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models import features
from models.input_pipeline import SHUFFLE_BUFFER
from models.input_pipeline import make_dataset as _dataset
from config import build_config

CONFIG = build_config({"data": {"example_dim": 6}})
ROWS, BATCH = 300, 16
FILES = (range(0, 170), range(170, ROWS))
# The order the examples are read in: the files interleaved, a record from each in turn.
READ_ORDER = [i for pair in zip(*FILES) for i in pair] + list(FILES[0][len(FILES[1]):])


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    """Two gzipped files of transformed examples (and a column the model does not read); the columns."""
    rng = np.random.default_rng(5)
    columns = {"x_xf": rng.normal(size=(ROWS, 6)).astype(np.float32),
               "x_norm_bucket": rng.integers(0, 4, size=(ROWS, 1))}
    for task, label in features.training_labels(CONFIG).items():
        columns[label] = rng.normal(size=(ROWS, 1)).astype(np.float32)
    for task, weight in features.label_weights(CONFIG).items():
        columns[weight] = (rng.random(size=(ROWS, 1)) > 0.2).astype(np.float32)
    folder = tmp_path_factory.mktemp("transformed")
    for part, rows in enumerate(FILES):
        with tf.io.TFRecordWriter(str(folder / f"part-{part}.gz"), options="GZIP") as writer:
            for i in rows:
                example = tf.train.Example()
                for name, values in columns.items():
                    feature = example.features.feature[name]
                    if values.dtype == np.float32:
                        feature.float_list.value.extend(values[i].tolist())
                    else:
                        feature.int64_list.value.extend(values[i].tolist())
                writer.write(example.SerializeToString())
    spec = {name: tf.io.FixedLenFeature([values.shape[1]], tf.float32 if values.dtype == np.float32 else tf.int64)
            for name, values in columns.items()}
    return str(folder / "part-*.gz"), spec, columns


def _as_fit_input(batch):
    inputs = {"x_xf": batch["x_xf"]}
    labels = {task: batch[label] for task, label in features.training_labels(CONFIG).items()}
    weights = {task: batch[weight] for task, weight in features.label_weights(CONFIG).items()}
    return inputs, labels, weights


def _take(dataset, n):
    return [tf.nest.map_structure(lambda t: t.numpy(), batch) for batch in dataset.take(n)]


def _assert_same(got, expected):
    tf.nest.assert_same_structure(got, expected)
    for a, b in zip(tf.nest.flatten(got), tf.nest.flatten(expected)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("in_memory", [True, False])
def test_training_batches_are_the_examples_in_the_seeded_shuffle_order(transformed, in_memory):
    pattern, spec, columns = transformed
    n = 3 * ROWS // BATCH  # three passes: each reshuffled
    tf_keras.utils.set_random_seed(11)
    got = _take(_dataset(pattern, spec, CONFIG, BATCH, in_memory=in_memory), n)
    # The reference: the examples themselves, as read, shuffled by the same seeded shuffle.
    tf_keras.utils.set_random_seed(11)
    model_columns = {name: values[READ_ORDER] for name, values in columns.items() if name != "x_norm_bucket"}
    reference = (tf.data.Dataset.from_tensor_slices(model_columns).shuffle(SHUFFLE_BUFFER).repeat()
                 .batch(BATCH).map(_as_fit_input))
    _assert_same(got, _take(reference, n))
    first_pass = np.concatenate([batch[0]["x_xf"] for batch in got])[:ROWS]
    assert sorted(map(tuple, first_pass)) == sorted(map(tuple, columns["x_xf"]))  # every example once a pass


@pytest.mark.parametrize("in_memory", [True, False])
def test_one_pass_is_every_example_once_in_the_order_read(transformed, in_memory):
    pattern, spec, columns = transformed
    got = _take(_dataset(pattern, spec, CONFIG, BATCH, one_pass=True, in_memory=in_memory), 1000)
    assert len(got) == -(-ROWS // BATCH)
    inputs, labels, weights = (np.concatenate(part) for part in zip(*[
        (b[0]["x_xf"], b[1]["y1"], b[2]["y2"]) for b in got]))
    np.testing.assert_array_equal(inputs, columns["x_xf"][READ_ORDER])
    np.testing.assert_array_equal(labels, columns[features.training_labels(CONFIG)["y1"]][READ_ORDER])
    np.testing.assert_array_equal(weights, columns[features.label_weights(CONFIG)["y2"]][READ_ORDER])


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Two gzipped files of raw examples (y2 missing in every seventh row), and a real Transform
    output of ``models.preprocessing`` analyzed over them (in-process Beam); the raw columns."""
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

    from models.preprocessing import preprocessing_fn

    rng = np.random.default_rng(8)
    x = rng.normal(3.0, 2.0, size=(ROWS, 6)).astype(np.float32)
    y1 = rng.normal(-1.0, 5.0, size=ROWS).astype(np.float32)
    y2 = rng.normal(size=ROWS).astype(np.float32)
    y2_present = np.arange(ROWS) % 7 != 0
    rows = [{"x": x[i].tolist(), "x_norm": [float(np.linalg.norm(x[i]))],  # a slice column the model skips
             "y1": [float(y1[i])], "y2": [float(y2[i])] if y2_present[i] else []} for i in range(ROWS)]
    spec = {"x": tf.io.FixedLenFeature([6], tf.float32), "x_norm": tf.io.FixedLenFeature([1], tf.float32),
            "y1": tf.io.FixedLenFeature([1], tf.float32), "y2": tf.io.VarLenFeature(tf.float32)}
    folder = tmp_path_factory.mktemp("raw")
    for part, indices in enumerate(FILES):
        with tf.io.TFRecordWriter(str(folder / f"part-{part}.gz"), options="GZIP") as writer:
            for i in indices:
                example = tf.train.Example()
                for name, values in rows[i].items():
                    example.features.feature[name].float_list.value.extend(values)
                writer.write(example.SerializeToString())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(spec)
    fn = lambda inputs: preprocessing_fn(inputs, custom_config=CONFIG.transform_custom_config())  # noqa: E731
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(folder / "tmp")):
        transform_fn = (pipeline | beam.Create(rows), metadata) | tft_beam.AnalyzeDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(folder / "transform"))
    metadata_io.write_metadata(metadata, str(folder / "transform" / tft.TFTransformOutput.RAW_METADATA_DIR))
    return str(folder / "part-*.gz"), tft.TFTransformOutput(str(folder / "transform")), (x, y1, y2, y2_present)


def _standardized(values):
    return (values - values.mean(axis=0)) / values.std(axis=0)


def test_raw_examples_pass_through_the_transform_graph_in_the_order_read(raw):
    """What the Trainer reads: the raw examples, standardized as an independent numpy computation gives."""
    pattern, output, (x, y1, y2, y2_present) = raw
    got = _take(_dataset(pattern, output.transformed_feature_spec(), CONFIG, BATCH, one_pass=True,
                         transform=output), 1000)
    inputs, labels, weights = (tf.nest.map_structure(lambda *parts: np.concatenate(parts), *part)
                               for part in zip(*got))
    order = np.array(READ_ORDER)
    np.testing.assert_allclose(inputs["x_xf"], _standardized(x)[order], atol=1e-5)
    np.testing.assert_allclose(np.ravel(labels["y1"]), _standardized(y1)[order], atol=1e-5)
    present = y2_present[order]
    np.testing.assert_array_equal(np.ravel(weights["y2"]), present.astype(np.float32))
    np.testing.assert_array_equal(np.ravel(weights["y1"]), np.ones(ROWS, np.float32))
    np.testing.assert_allclose(np.ravel(labels["y2"])[present], _standardized(y2[y2_present])[
        np.argsort(np.argsort(order[present]))], atol=1e-5)


@pytest.mark.parametrize("in_memory", [True, False])
def test_training_on_raw_examples_reads_each_transformed_example_once_a_pass(raw, in_memory):
    pattern, output, (x, *_) = raw
    tf_keras.utils.set_random_seed(11)
    got = _take(_dataset(pattern, output.transformed_feature_spec(), CONFIG, BATCH, in_memory=in_memory,
                         transform=output), -(-ROWS // BATCH) * 2)
    read = np.concatenate([batch[0]["x_xf"] for batch in got])
    for first in (read[:ROWS], read[ROWS:2 * ROWS]):
        np.testing.assert_allclose(np.array(sorted(map(tuple, first))),
                                   np.array(sorted(map(tuple, _standardized(x)))), atol=1e-5)


@pytest.mark.parametrize("count_batch", [4096, 16])
@pytest.mark.parametrize("limit, expected", [(None, ROWS), (7, 7), (ROWS + 50, ROWS), (170, 170)])
def test_count_examples_counts_every_record_up_to_the_limit(transformed, monkeypatch, count_batch, limit, expected):
    from models import input_pipeline

    monkeypatch.setattr(input_pipeline, "COUNT_BATCH", count_batch)  # several batches and a partial one
    pattern = transformed[0]
    assert input_pipeline.count_examples([pattern], limit) == expected
