"""``predict_instances`` answers as ``serving_default`` does, on every shipped configuration (no TFX run).

For each ``data/*.yaml``: real TFT analyzers (in-process Beam) over the
configuration's own rows, the configured (untrained) model, the real export
(``models.signatures``), reloaded. Then the same rows go in as serialized
tf.Examples and as a JSON request converted as TF Serving's REST API converts
it (``pipeline.results.rest_instances``): every output is equal. The rows
include missing optional values (left out of the tf.Example; NaN or "" in
JSON), whole numbers written ``25`` and ``25.0``, and unseen categories.
Trained models are checked the same way in ``tests/test_serving_requests_e2e.py``.
"""

from __future__ import annotations

import csv
import functools
import json
import math
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

from components import synthetic_data
from models import features, signatures
from models.builder import build_model
from models.instances_signature import SIGNATURE_NAME
from models.preprocessing import preprocessing_fn
from config import build_config, load_config_file
from config.names import internal_name
from pipeline.results.rest_instances import input_arrays

DATA = Path(__file__).resolve().parents[2] / "data"
CONFIGS = sorted(p.name for p in DATA.glob("*.yaml"))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_table(config, raw: dict):
    """(raw feature spec, rows as dicts of value lists) as CsvExampleGen + SchemaGen make them:
    declared numeric columns float, categorical ones bytes, a column with missing cells VarLen."""
    with open(config.data.path, newline="", encoding="utf-8") as f:
        cells = list(csv.DictReader(f))
    missing = set(config.data.missing_tokens) | {""}
    numeric = {f.name for f in config.features if f.type == "numeric"}
    columns = [f.name for f in config.features] + sorted({t.label for t in config.tasks})
    columns += [f.name for f in config.evaluation.numeric_slice_features if f.name not in columns]
    spec = {}
    for column in columns:
        present = [row[column].strip() for row in cells if row[column].strip() not in missing]
        as_float = column in numeric or (column not in {f.name for f in config.features}
                                         and all(_is_number(v) for v in present))
        dtype = tf.float32 if as_float else tf.string
        optional = len(present) < len(cells)
        spec[column] = tf.io.VarLenFeature(dtype) if optional else tf.io.FixedLenFeature([1], dtype)
    rows = []
    for row in cells:
        out = {}
        for column in columns:
            text = row[column].strip()
            value = [] if text in missing else [float(text) if spec[column].dtype == tf.float32 else text.encode()]
            out[column] = value
        rows.append(out)
    for task in raw["tasks"]:  # the classes the run reads from the data (DataChoices)
        if task.get("type") == "multiclass" and not task.get("classes"):
            task["classes"] = sorted({r[task["name"]][0].decode() for r in rows if r[task["name"]]})
    return spec, rows


def _synthetic_table(config):
    data = synthetic_data.generate(200, seed=config.data.seed, p=config.data.correlation)
    spec = {"x": tf.io.FixedLenFeature([config.data.example_dim], tf.float32)}
    rows = [{"x": list(x)} for x in data.inputs.astype(np.float32)]
    for f in config.evaluation.numeric_slice_features:  # x_norm, bucketized for the Evaluator
        spec[f.name] = tf.io.FixedLenFeature([1], tf.float32)
        for row, value in zip(rows, getattr(data, f.name)):
            row[f.name] = [float(value)]
    for k, task in enumerate(config.tasks):
        label = data.labels[:, k]
        binary = task.label in config.data.binary_labels
        spec[task.label] = tf.io.FixedLenFeature([1], tf.int64 if binary else tf.float32)
        for row, y in zip(rows, label):
            row[task.label] = [int(y > label.mean())] if binary else [float(y)]
    return spec, rows


@functools.lru_cache(maxsize=None)
def exported(name: str, folder: str):
    """(config, rows, loaded SavedModel) for one shipped configuration."""
    raw = load_config_file(DATA / name)
    config = build_config(raw, base_dir=str(DATA))
    if config.data.source == "csv":
        spec, rows = _csv_table(config, raw)
        config = build_config(raw, base_dir=str(DATA))  # with the classes read from the data
    else:
        spec, rows = _synthetic_table(config)
    fn = functools.partial(preprocessing_fn, custom_config=config.transform_custom_config())
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(spec)
    transform_dir = Path(folder) / "transform"
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(Path(folder) / "tmp")):
        transform_fn = (pipeline | beam.Create(rows), metadata) | tft_beam.AnalyzeDataset(fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(transform_dir))
    metadata_io.write_metadata(metadata, str(transform_dir / tft.TFTransformOutput.RAW_METADATA_DIR))
    output = tft.TFTransformOutput(str(transform_dir))
    model = build_model(config, features.model_inputs(config, output.vocabulary_size_by_name))
    model.save(Path(folder) / "model", save_format="tf", signatures=signatures.signatures(model, output, config))
    return config, rows, tf.saved_model.load(str(Path(folder) / "model"))


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory):
    return tmp_path_factory.mktemp("instances")


def _request_rows(config, rows: list[dict]) -> list[dict]:
    """Rows to send: every row with a missing input, the first others, and one with unseen categories."""
    names = [f.name for f in config.features]
    with_missing = [r for r in rows if any(not r[n] for n in names)]
    chosen = (with_missing[:20] + [r for r in rows if r not in with_missing][:20])
    unseen = dict(chosen[0])
    for feature in config.features:
        if feature.type == "categorical":
            unseen[feature.name] = [b"never-seen"]
    return [{n: r[n] for n in names} for r in chosen + [unseen]]


def _example(row: dict) -> bytes:
    """The row as a client sends it to serving_default: floats, bytes, a missing value left out."""
    example = tf.train.Example()
    for name, values in row.items():
        if not values:
            continue
        feature = example.features.feature[name]
        if isinstance(values[0], bytes):
            feature.bytes_list.value.extend(values)
        else:
            feature.float_list.value.extend(values)
    return example.SerializeToString()


def _json_value(values: list, feature, whole_as_int: bool):
    """JSON text of one value: NaN / "" when missing, a whole number as 25 (``whole_as_int``) or 25.0."""
    if feature.type == "categorical":
        return json.dumps(values[0].decode() if values else "")
    numbers = [float(v) for v in values] if values else [math.nan]
    texts = [repr(int(v)) if whole_as_int and v.is_integer() else repr(v) for v in numbers]
    texts = ["NaN" if t == "nan" else t for t in texts]
    return texts[0] if feature.size == 1 else "[" + ", ".join(texts) + "]"


def _json_request(config, rows: list[dict], whole_as_int: bool) -> str:
    instances = ["{" + ", ".join(f"{json.dumps(internal_name(f.name))}: {_json_value(r[f.name], f, whole_as_int)}"
                                 for f in config.features) + "}" for r in rows]
    return '{"signature_name": "%s", "instances": [%s]}' % (SIGNATURE_NAME, ", ".join(instances))


@pytest.mark.slow  # Transform and an export per shipped config
@pytest.mark.parametrize("name", CONFIGS)
def test_json_instances_answer_as_tf_examples_do(name, tmp_module):
    config, rows, loaded = exported(name, str(tmp_module / name))
    sent = _request_rows(config, rows)
    expected = loaded.signatures["serving_default"](examples=tf.constant([_example(r) for r in sent]))
    predict = loaded.signatures[SIGNATURE_NAME]
    specs = predict.structured_input_signature[1]
    assert {n: (s.dtype, s.shape.as_list()) for n, s in specs.items()} == {
        internal_name(f.name): (tf.float32 if f.type == "numeric" else tf.string,
                                [None] if f.size == 1 else [None, f.size]) for f in config.features}
    for whole_as_int in (False, True):
        body = json.loads(_json_request(config, sent, whole_as_int))
        answered = predict(**{k: tf.constant(v) for k, v in input_arrays(body["instances"], specs).items()})
        assert sorted(answered) == sorted(t.name for t in config.tasks)
        for task in answered:
            np.testing.assert_array_equal(answered[task].numpy(), expected[task].numpy(), err_msg=task)
    # The rows differ, and so do the answers: the inputs reach the model.
    first = expected[config.tasks[0].name].numpy()
    assert len({tuple(np.round(v, 6)) for v in first}) > 1
