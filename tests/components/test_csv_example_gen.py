"""The CSV ExampleGen's reading on a real Beam pipeline: declared types and missing-value tokens."""

from __future__ import annotations

import apache_beam as beam
import tensorflow as tf
from google.protobuf import json_format
from tfx.types import standard_component_specs

from components.csv_example_gen.executor import _CsvToExample, csv_options, read_csv_options


def _options(numeric, categorical, missing) -> dict:
    # As the executor gets it: the CustomConfig proto as JSON.
    return {standard_component_specs.INPUT_BASE_KEY: "",
            standard_component_specs.CUSTOM_CONFIG_KEY: json_format.MessageToJson(
                csv_options(numeric, categorical, missing))}


def test_options_travel_as_json():
    types, missing = read_csv_options(_options(["age"], ["year"], ["?", "NA"]))
    assert types == {"age": "float", "year": "string"} and missing == {b"?", b"NA"}
    assert read_csv_options({}) == ({}, set())


def _examples(tmp_path, text: str, numeric, categorical, missing) -> list:
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    properties = _options(numeric, categorical, missing)
    properties[standard_component_specs.INPUT_BASE_KEY] = str(tmp_path)
    with beam.Pipeline() as pipeline:
        _ = (pipeline | _CsvToExample(properties, "data.csv")
             | beam.Map(lambda e: e.SerializeToString())
             | beam.io.WriteToTFRecord(str(tmp_path / "examples"), shard_name_template=""))
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(tmp_path / "examples"))]


def _values(example, column):
    feature = example.features.feature[column]
    kind = feature.WhichOneof("kind")
    return kind, list(getattr(feature, kind).value) if kind else []


def test_declared_types_and_missing_tokens(tmp_path):
    text = "\ufeffage,tenure,year,city\n25,45.0,2007,a\n42,?,2008,?\n,7.5,2009,b\n"
    examples = _examples(tmp_path, text, ["age", "tenure"], ["year"], ["?"])
    by_age = {tuple(_values(e, "age")[1]): e for e in examples}
    # Whole numbers in a numeric column are floats; a categorical column of numbers is text.
    assert _values(by_age[(25.0,)], "age") == ("float_list", [25.0])
    assert _values(by_age[(25.0,)], "year") == ("bytes_list", [b"2007"])
    # "?" is absent, as an empty cell is, in a numeric column and in an undeclared one.
    assert _values(by_age[(42.0,)], "tenure") == ("float_list", [])
    assert _values(by_age[(42.0,)], "city")[1] == []
    assert _values(by_age[()], "age") == ("float_list", [])


def test_undeclared_columns_keep_inferred_types(tmp_path):
    examples = _examples(tmp_path, "n,t\n1,x\n2,y\n", [], [], [])
    assert sorted(_values(e, "n") for e in examples) == [("int64_list", [1]), ("int64_list", [2])]
