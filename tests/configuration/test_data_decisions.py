"""What the data decides: the auto transform of numeric features and the classes of multiclass tasks."""

from __future__ import annotations

import numpy as np
import pytest

from config import ConfigError, build_config
from pipeline.preflight.data_checks import check_data
from config.data_decisions import apply_decisions, choose_transform, data_view, decide_classes, decide_transforms


def test_mostly_zeros_non_negative_is_log():
    rng = np.random.RandomState(0)
    values = np.concatenate([np.zeros(900), rng.lognormal(7, 2, 99), [5e5]])
    assert choose_transform(values) == ("log", "non-negative, 90% zeros, max 5e+05")


def test_a_far_maximum_or_a_long_tail_is_log():
    rng = np.random.RandomState(0)
    outlier = np.append(rng.uniform(1, 2, 999), 1000.0)
    ratio = 1000.0 / np.percentile(outlier, 99)  # about 500
    assert choose_transform(outlier) == ("log", f"non-negative, max/p99 = {ratio:.3g} > 10")
    # A long tail without a single far outlier: the 99th percentile is far above the median.
    long_tail = np.exp(np.linspace(0, 8, 1000))
    ratio = np.percentile(long_tail, 99) / np.percentile(long_tail, 50)  # about 50; max/p99 about 1.1
    assert choose_transform(long_tail) == ("log", f"non-negative, p99/median = {ratio:.3g} > 20")


def test_normal_negative_binary_and_empty_columns_are_z_scored():
    rng = np.random.RandomState(0)
    assert choose_transform(rng.normal(size=1000))[0] == "z_score"
    assert choose_transform(rng.uniform(0, 1, 1000))[0] == "z_score"
    assert choose_transform([-1.0, 0.0, 0.0, 0.0, 5e6]) == ("z_score", "has negative values")
    assert choose_transform([0, 0, 0, 1]) == ("z_score", "two values")
    assert choose_transform([]) == ("z_score", "no values to inspect")


def _csv(tmp_path, rows):
    path = tmp_path / "t.csv"
    path.write_text("gain,age,city,y\n" + "".join(f"{g},{a},{c},{y}\n" for g, a, c, y in rows))
    return path


def test_decide_transforms_decides_auto_keeps_explicit_and_records_it():
    rng = np.random.RandomState(0)
    gain = [0.0 if i % 10 else round(float(rng.lognormal(8, 2)), 2) for i in range(300)]
    config = build_config({"data": {"source": "csv", "path": "t.csv",
                                    "features": [{"name": "gain"}, {"name": "age", "transform": "quantile"},
                                                 {"name": "city", "type": "categorical"}]},
                           "tasks": [{"name": "y"}]})
    resolved, choices = decide_transforms(config, {"gain": gain})
    assert [(c.column, c.transform) for c in choices] == [("gain", "log"), ("age", "quantile")]
    assert choices[0].line().startswith("  gain: log (non-negative, 90% zeros")
    assert choices[1].line() == "  age: quantile (set in the config)"
    assert [f.transform for f in resolved.features] == ["log", "quantile", "auto"]
    assert config.features[0].transform == "auto"  # the given config is not changed


def test_synthetic_inputs_are_z_scored():
    _, choices = decide_transforms(build_config({}), {})
    assert [(c.column, c.transform, c.reason) for c in choices] == [
        ("x", "z_score", "synthetic inputs are standard normal")]


def _multiclass(classes=None):
    task = {"name": "species", "type": "multiclass", **({"classes": classes} if classes else {})}
    return build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}]},
                         "tasks": [task]})


def test_classes_are_the_sorted_distinct_values_unless_listed():
    assert decide_classes(_multiclass(), {"species": {"b", "a", "c"}}).tasks[0].classes == ["a", "b", "c"]
    assert decide_classes(_multiclass(["x", "y"]), {}).tasks[0].classes == ["x", "y"]


def test_a_label_with_one_class_is_one_line_naming_column_task_and_fix():
    with pytest.raises(ConfigError) as error:
        decide_classes(_multiclass(), {"species": {"a"}})
    assert str(error.value) == ("label column 'species' of multiclass task 'species' holds 1 class(es) ['a'] "
                                "in the examples; a multiclass task needs at least two: use a column with "
                                "several, or drop the task")


def test_a_log_transform_on_a_string_column_is_one_line_naming_file_column_and_fix(tmp_path):
    path = _csv(tmp_path, [(1.0, 30, "a", 1.0), ("none", 40, "b", 2.0)])
    config = build_config({"data": {"source": "csv", "path": str(path),
                                    "features": [{"name": "gain", "transform": "log"}]},
                           "tasks": [{"name": "y"}]})
    with pytest.raises(ConfigError) as error:
        check_data(config)
    assert str(error.value) == (
        f"{path} line 3: column 'gain' (transform: log, which needs numbers) holds 'none'; declare it in "
        "data.missing_values if it means missing, or make 'gain' categorical")


def test_transform_options_are_validated():
    with pytest.raises(ConfigError, match="transform and clip are for numeric features"):
        build_config({"data": {"source": "csv", "path": "t.csv",
                               "features": [{"name": "c", "type": "categorical", "transform": "log"}]},
                      "tasks": [{"name": "y"}]})
    with pytest.raises(ConfigError, match=r"clip must be \[low, high\] with low < high, got \[5.0, 1.0\]"):
        build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a", "clip": [5, 1]}]},
                      "tasks": [{"name": "y"}]})
    with pytest.raises(ConfigError, match="give training.epochs or training.train_steps, not both"):
        build_config({"training": {"epochs": 3, "train_steps": 100}})


def _own_csv_config(**sections):
    return build_config({"data": {"source": "csv", "path": "t.csv",
                                  "features": [{"name": "gain"}, {"name": "city", "type": "categorical"}]},
                         "tasks": [{"name": "species", "type": "multiclass", "label": "y"}],
                         "evaluation": {"slice_features": [{"name": "city"}]}, **sections})


def test_the_data_view_drops_what_neither_the_decisions_nor_transform_read():
    config = _own_csv_config()
    retrained = _own_csv_config(training={"train_steps": 77, "learning_rate": 0.01},
                                model={"architecture": "mmoe"}, drift={"enabled": False})
    assert data_view(retrained) == data_view(config)  # so DataChoices and Transform stay cached
    assert data_view(config).transform_custom_config() == config.transform_custom_config()
    changed_data = _own_csv_config(data={"source": "csv", "path": "t.csv", "missing_values": ["?"],
                                         "features": [{"name": "gain"}, {"name": "city", "type": "categorical"}]})
    assert data_view(changed_data) != data_view(config)


def test_the_decisions_of_the_data_view_apply_to_the_whole_configuration():
    config = _own_csv_config(training={"train_steps": 77})
    view, _ = decide_transforms(data_view(config), {"gain": [0.0] * 90 + [10.0 ** k for k in range(10)]})
    view = decide_classes(view, {"y": {"b", "a"}})
    decided = apply_decisions(config, view)
    assert [f.transform for f in decided.features] == ["log", "auto"]
    assert decided.tasks[0].classes == ["a", "b"]
    assert decided.training == config.training  # the rest is the whole configuration's
    assert config.features[0].transform == "auto" and not config.tasks[0].classes  # not changed
