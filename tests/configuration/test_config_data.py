"""The configuration's data, feature and task sections (pure: no TFX)."""

from pathlib import Path

import pytest

from config import (ConfigError, CsvData, FileSplit, PipelineConfig, SyntheticData,
                             build_config, load_config_file)

from conftest import REPO


def csv_config(**overrides):
    raw = {
        "data": {"source": "csv", "path": "table.csv",
                 "features": [{"name": "age"}, {"name": "city", "type": "categorical", "embedding_dim": 4}]},
        "tasks": [{"name": "spend"}, {"name": "rich", "type": "binary", "label": "income", "positive": ">50K"}],
    }
    raw.update(overrides)
    return raw


def test_csv_config_resolves_paths_against_the_config_folder():
    config = build_config(csv_config(), base_dir="/data/project")
    assert isinstance(config.data, CsvData)
    assert config.data.path == "/data/project/table.csv"
    assert config.data.split_patterns() == {"all": "/data/project/table.csv"}
    assert [f.type for f in config.features] == ["numeric", "categorical"]
    rich = config.tasks[1]
    assert (rich.label, rich.positive, rich.output_activation) == ("income", [">50K"], "sigmoid")


def test_existing_splits_are_files_or_globs():
    raw = csv_config()
    del raw["data"]["path"]
    raw["data"]["split"] = {"train": "train/*.csv", "eval": "eval.csv"}
    config = build_config(raw, base_dir="/d")
    assert isinstance(config.data.split, FileSplit)
    assert config.data.split_patterns() == {"train": "/d/train/*.csv", "eval": "/d/eval.csv"}
    # Without a test file, the Evaluator scores eval (the split early stopping read).
    assert config.evaluation_split == "eval"
    raw["data"]["split"]["test"] = "test.csv"
    config = build_config(raw, base_dir="/d")
    assert config.data.split_patterns() == {"train": "/d/train/*.csv", "eval": "/d/eval.csv", "test": "/d/test.csv"}
    assert config.evaluation_split == "test"


@pytest.mark.parametrize("raw, buckets", [({}, (8, 1, 1)), (csv_config(), (4, 1, 1))],
                         ids=["synthetic", "csv hash split"])
def test_a_hash_split_holds_out_a_test_split_the_evaluator_scores(raw, buckets):
    config = build_config(raw)
    split = config.data if isinstance(config.data, SyntheticData) else config.data.split
    assert (split.train_buckets, split.eval_buckets, split.test_buckets) == buckets
    assert config.evaluation_split == "test"


def test_transform_config_carries_missing_tokens_and_label_encoding():
    raw = csv_config()
    raw["data"]["missing_values"] = ["?"]
    custom = build_config(raw).transform_custom_config()
    assert custom["missing_values"] == ["?"]
    assert custom["labels"] == [
        {"name": "spend", "column": "spend", "type": "regression", "positive": [], "missing_label": "mask",
         "classes": []},
        {"name": "rich", "column": "income", "type": "binary", "positive": [">50K"], "missing_label": "mask",
         "classes": []}]
    assert custom["example_weight"] is None


def test_data_without_source_is_the_synthetic_generator():
    config = build_config({"data": {"num_examples": 500}})
    assert isinstance(config.data, SyntheticData) and config.data.num_examples == 500


def test_shipped_synthetic_config_is_the_default():
    raw = load_config_file(REPO / "data" / "synthetic.yaml")
    assert build_config(raw, base_dir=str(REPO / "data")) == PipelineConfig()


def test_shipped_sample_config_is_valid():
    config = build_config(load_config_file(REPO / "data" / "sample.yaml"), base_dir=str(REPO / "data"))
    assert [t.type for t in config.tasks] == ["regression", "binary", "binary"]
    assert Path(config.data.path).is_file()


def test_synthetic_binary_label_needs_a_binary_task():
    config = build_config({"data": {"binary_labels": ["y2"]},
                           "tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    assert config.data.binary_labels == ["y2"]
    with pytest.raises(ConfigError,
                       match="synthetic label 'y2' is written as 0/1, so the task type must be binary, not regression"):
        build_config({"data": {"binary_labels": ["y2"]}})
    # Without binary_labels, a binary task's synthetic label is written as 0/1.
    implied = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    assert implied.data.binary_labels == ["y2"]


@pytest.mark.parametrize("change, message", [
    ({"tasks": [{"name": "a", "label": "spend"}, {"name": "a", "label": "age"}]},
     "duplicate task names: a"),
    ({"tasks": [{"name": "spend", "type": "ranking"}]},
     "tasks.0.type: task type must be 'regression' or 'binary' or 'multiclass' or 'count', got 'ranking'"),
    ({"tasks": [{"name": "age"}]},
     "label column 'age' is also listed as a model input; remove it from data.features"),
    ({"tasks": []}, "tasks: List should have at least 1 item"),
    ({"tasks": [{"name": "spend", "positive": "yes"}]}, "positive is for binary tasks"),
    ({"data": {"source": "parquet", "path": "x"}}, "'parquet' found using 'source' does not match"),
    ({"data": {"source": "csv", "features": [{"name": "a"}]}}, "path is required"),
    ({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}, {"name": "a"}]}},
     "features listed twice: a"),
    ({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a", "embedding_dim": 3}]}},
     "embedding_dim is for categorical features"),
])
def test_bad_config_is_one_clear_line(change, message):
    with pytest.raises(ConfigError) as err:
        build_config(csv_config(**change))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
