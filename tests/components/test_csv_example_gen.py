"""The CSV ExampleGen's reading on a real Beam pipeline: declared types and missing-value tokens."""

from __future__ import annotations

import json

import pytest
import tensorflow as tf
from google.protobuf import json_format
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs

from components.csv_example_gen.executor import Executor, csv_options, read_csv_options


def _options(numeric, categorical, missing) -> dict:
    # As the executor gets it: the CustomConfig proto as JSON.
    return {standard_component_specs.INPUT_BASE_KEY: "",
            standard_component_specs.CUSTOM_CONFIG_KEY: json_format.MessageToJson(
                csv_options(numeric, categorical, missing))}


def _run(executor, input_base, output_dir, properties: dict, hash_split: bool) -> dict[str, list[bytes]]:
    """Runs an ExampleGen executor as the component would; split name -> its records (as written)."""
    if hash_split:  # one pattern, split 2:1 by each record's hash
        inputs = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single", pattern="*.csv")])
        outputs = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
            example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=2),
            example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1)]))
    else:
        inputs = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="train", pattern="*.csv")])
        outputs = example_gen_pb2.Output()
    examples = standard_artifacts.Examples()
    examples.uri = str(output_dir)
    executor.Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, {
        **properties, standard_component_specs.INPUT_BASE_KEY: str(input_base),
        standard_component_specs.INPUT_CONFIG_KEY: json_format.MessageToJson(inputs),
        standard_component_specs.OUTPUT_CONFIG_KEY: json_format.MessageToJson(outputs),
        standard_component_specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE})
    return {split: [r.numpy() for r in tf.data.TFRecordDataset(
                sorted(tf.io.gfile.glob(f"{output_dir}/Split-{split}/*")), compression_type="GZIP")]
            for split in json.loads(examples.split_names)}


def _examples(tmp_path, text: str, numeric, categorical, missing) -> list:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data.csv").write_text(text, encoding="utf-8")
    splits = _run(Executor(), tmp_path / "data", tmp_path / "examples", _options(numeric, categorical, missing),
                  hash_split=False)
    return [tf.train.Example.FromString(r) for r in splits["train"]]


def test_options_travel_as_json():
    types, missing = read_csv_options(_options(["age"], ["year"], ["?", "NA"]))
    assert types == {"age": "float", "year": "string"} and missing == {b"?", b"NA"}
    assert read_csv_options({}) == ({}, set())


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


# Cells TFX's own reader takes (no spaces around cells, no missing tokens): every type, empty cells,
# quoted commas, doubled quotes and line breaks, a blank line, an int beyond int64 (text), nan and inf,
# a column without any value, non-ASCII text.
TRICKY = (
    "id,count,ratio,mixed,label,note,big,special,nothing\n"
    + "".join(f"{i},{i * 7 % 13},{i / 8},{i if i % 3 else i + 0.5},{'ab'[i % 2]}{i % 4},"
              f"{'' if i % 5 == 0 else 'plain'},{i},{'nan' if i % 6 == 0 else i},\n" for i in range(300))
    + '300,,1e-3,2,"a,b","say ""hi""",99999999999999999999,inf,\n'
    + '\n'
    + '301,4,-0.0,3,"two\nlines",ünï,1,-inf,\n')


@pytest.mark.parametrize("hash_split", [True, False])
def test_records_and_splits_are_tfxs_own_readers(tmp_path, hash_split):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data.csv").write_text(TRICKY, encoding="utf-8")
    properties = {standard_component_specs.CUSTOM_CONFIG_KEY: None}
    ours = _run(Executor(), tmp_path / "data", tmp_path / "ours", properties, hash_split)
    theirs = _run(tfx_csv_executor.Executor(), tmp_path / "data", tmp_path / "tfx", properties, hash_split)
    # TFX writes its protos in map order; the same examples, each in the same split:
    for split in theirs:
        assert sorted(ours[split]) == sorted(tf.train.Example.FromString(r).SerializeToString(deterministic=True)
                                             for r in theirs[split]), split
    assert sum(map(len, ours.values())) == 302
    if hash_split:
        assert 0 < len(ours["eval"]) < len(ours["train"])
    every = [tf.train.Example.FromString(r) for records in ours.values() for r in records]
    row = next(e for e in every if _values(e, "id")[1] == [300])
    assert _values(row, "label") == ("bytes_list", [b"a,b"]) and _values(row, "note") == ("bytes_list", [b'say "hi"'])
    assert _values(row, "big") == ("bytes_list", [b"99999999999999999999"])  # beyond int64: the column is text
    assert _values(row, "count") == ("int64_list", []) and _values(row, "nothing") == (None, [])
