"""Error paths of the configuration and the data checks, each with its message (no TFX)."""

from __future__ import annotations

import pytest

from config import ConfigError, build_config, load_config_file
from pipeline.preflight.data_checks import check_data

CSV_DATA = {"source": "csv", "features": [{"name": "age"}]}


@pytest.mark.parametrize("raw, message", [
    ({"tasks": [{"name": "y1", "gate": {"min_r2": 1.01}}, {"name": "y2"}]}, "min_r2 must be at most 1, got 1.01"),
    ({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary", "gate": {"min_r2": 0.5}}]},
     "task 'y2' is binary: use min_auc/max_log_loss gates, not min_r2/max_mse"),
    ({"data": {**CSV_DATA, "path": "a.csv", "split": {"train": "t.csv", "eval": "e.csv"}},
      "tasks": [{"name": "spend"}]},
     "give either path (split by hash) or split.train/split.eval (existing splits), not both"),
    ({"evaluation": {"slice_features": [{"name": "region"}, {"name": "region"}], "slices": [["region"]]}},
     "duplicate slice features: region"),
])
def test_config_error_names_the_problem(raw, message):
    with pytest.raises(ConfigError) as info:
        build_config(raw)
    assert message in str(info.value)


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("tasks: [{name: y1\n")
    with pytest.raises(ConfigError, match=f"{path} is not valid YAML"):
        load_config_file(path)


def test_a_string_in_a_regression_label_names_file_line_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age,spend\n30,1.5\n40,lots\n")
    config = build_config({"data": {**CSV_DATA, "path": str(path)}, "tasks": [{"name": "spend"}]})
    with pytest.raises(ConfigError) as info:
        check_data(config)
    assert str(info.value) == (f"{path}: label column 'spend' of regression task 'spend' holds non-numbers "
                               "('lots'); use a numeric column or make the task binary with its positive value(s)")


def test_a_missing_schema_file_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("age,spend\n30,1.5\n")
    config = build_config({"data": {**CSV_DATA, "path": str(path), "schema_file": str(tmp_path / "nope.pbtxt")},
                           "tasks": [{"name": "spend"}]})
    with pytest.raises(ConfigError, match=f"data.schema_file {tmp_path / 'nope.pbtxt'} does not exist"):
        check_data(config)
