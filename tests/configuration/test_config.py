"""The configuration: defaults, derived values and clear errors (no TFX needed)."""

import re

import pytest

from config import ConfigError, PipelineConfig, build_config, default_num_shards, load_config_file


def test_defaults_are_the_two_task_synthetic_setup():
    config = build_config()
    assert config.task_names == ["y1", "y2"]
    assert [t.type for t in config.tasks] == ["regression", "regression"]
    assert [t.label for t in config.tasks] == ["y1", "y2"]
    assert config.data.correlation == 0.8 and config.data.example_dim == 100
    assert config.model.bottom_units == [32, 16] and config.model.task_units == [10, 5]
    # Every task gets an absolute gate, or TFMA would write no blessing.
    assert all(t.gate.min_r2 == 0.5 for t in config.tasks)


def test_binary_task_defaults_to_sigmoid_and_an_auc_gate():
    task = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]}).tasks[1]
    assert task.output_activation == "sigmoid"
    assert task.gate.min_auc == 0.7 and task.gate.min_r2 is None
    assert task.key_metric == "auc"


@pytest.mark.parametrize("raw, message", [
    ({"data": {"correlation": 1.5}}, "correlation must be in [-1, 1], got 1.5"),
    ({"tasks": [{"name": "y1", "type": "classification"}]},
     "task type must be 'regression' or 'binary' or 'multiclass' or 'count', got 'classification'"),
    ({"tasks": [{"name": "y1"}, {"name": "y1"}]}, "duplicate task names: y1"),
    ({"tasks": []}, "tasks"),
    ({"tasks": [{"name": "y3"}]}, "no label named 'y3'"),
    ({"tasks": [{"name": "y1", "type": "binary", "output_activation": "linear"}]}, "needs output_activation 'sigmoid'"),
    ({"tasks": [{"name": "y1", "gate": {"min_auc": 0.8}}]}, "use min_r2/max_mse gates"),
    ({"training": {"train_steps": 0}}, "training.train_steps"),
    ({"model": {"bottom_units": [32, 0]}}, "layer sizes must be positive"),
    ({"model": {"bottom_activation": "relux"}}, "model.bottom_activation"),
    ({"modle": {}}, "modle: unknown setting"),
    ({"data": {"num_examples": 20, "num_shards": 50}}, "num_shards (50) cannot exceed num_examples (20)"),
])
def test_bad_values_are_reported_with_field_and_value(raw, message):
    with pytest.raises(ConfigError) as excinfo:
        build_config(raw)
    assert message in str(excinfo.value)


def test_shard_count_follows_example_count():
    assert build_config().data.num_shards == default_num_shards(3000) == 1
    assert default_num_shards(1_000_000) == 20
    assert build_config({"data": {"num_shards": 4}}).data.num_shards == 4


def test_custom_config_round_trip():
    config = build_config({"tasks": [{"name": "y1", "loss_weight": 2.0}, {"name": "y2", "type": "binary"}]})
    assert PipelineConfig.from_custom_config(config.to_custom_config()) == config


def test_transform_config_holds_only_what_preprocessing_reads():
    # Training or gate changes must not invalidate Transform's cache.
    a = build_config()
    b = build_config({"training": {"train_steps": 5}, "tasks": [{"name": "y1", "gate": {"min_r2": 0.9}},
                                                                {"name": "y2"}]})
    assert a.transform_custom_config() == b.transform_custom_config()


def test_yaml_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  seed: 3\ntasks:\n  - name: y1\n")
    assert build_config(load_config_file(path)).data.seed == 3
    path.write_text("- just a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config_file(path)
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize("evaluation, message", [
    ({"slices": [["nope"]]}, "slice ['nope'] must name distinct slice features"),
    ({"slices": [[]]}, "slice [] must name distinct slice features"),
    ({"slice_features": [{"name": "y1"}], "slices": []}, "slice feature 'y1' is a label column"),
    ({"regression_plot_range": [1, 0]}, "regression_plot_range must be [low, high] with low < high"),
])
def test_bad_slice_configuration_is_one_clear_error(evaluation, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_config({"evaluation": evaluation})


def test_synthetic_data_slices_by_default_other_data_only_when_configured():
    assert build_config().evaluation.slices == [["segment"], ["x_norm"], ["segment", "x_norm"]]
    configured = build_config({"evaluation": {"slice_features": [{"name": "segment"}], "slices": [["segment"]]}})
    assert configured.evaluation.slices == [["segment"]]
    csv = build_config({"data": {"source": "csv", "path": "t.csv", "features": [{"name": "a"}]},
                        "tasks": [{"name": "y"}]})
    assert csv.evaluation.slices == [] and csv.evaluation.slice_features == []
