"""The ``tuning:`` section and how a trial's hyperparameters change the configuration (no TensorFlow)."""

from __future__ import annotations

import pytest

from config import ConfigError, build_config
from config.tuning import apply_hyperparameters, describe, trained_config

VALUES = {"architecture": "mmoe", "width": 64, "learning_rate": 0.003, "dropout": 0.2}


def test_tuning_is_off_by_default_and_the_search_space_has_four_entries():
    config = build_config({})
    assert config.tuning.enabled is False
    assert config.tuning.max_trials == 10 and config.tuning.max_minutes is None
    space = config.tuning.search_space
    assert space.architecture == ["shared_bottom", "mmoe"]
    assert space.width == [16, 32, 64, 128]
    assert space.learning_rate == [3e-4, 1e-3, 3e-3, 1e-2]
    assert space.dropout == [0.0, 0.1, 0.2, 0.3]


def test_an_mmoe_choice_sets_experts_towers_dropout_and_the_learning_rate():
    config = build_config({"model": {"l2": 0.01, "task_activation": "tanh"}})
    tuned = apply_hyperparameters(config, VALUES)
    assert tuned.model.architecture == "mmoe"
    assert tuned.model.expert_units == [64]
    assert tuned.model.expert_dropout == 0.2
    assert tuned.model.task_units == [21, 11]  # round(64 / 3), round(64 / 6)
    assert tuned.training.learning_rate == 0.003
    # Settings outside the search space stay as configured.
    assert tuned.model.l2 == 0.01 and tuned.model.task_activation == "tanh"
    assert tuned.tasks == config.tasks and tuned.data == config.data


def test_a_shared_bottom_choice_drops_the_configured_experts():
    # An MMoE configuration with a knob shared_bottom does not read: the tuned
    # configuration must still validate.
    config = build_config({"model": {"architecture": "mmoe", "num_experts": 8}})
    tuned = apply_hyperparameters(config, {**VALUES, "architecture": "shared_bottom", "width": 32})
    assert tuned.model.architecture == "shared_bottom"
    assert tuned.model.bottom_units == [32, 16]
    assert tuned.model.task_units == [11, 5]
    assert tuned.model.bottom_dropout == 0.2
    assert "num_experts" not in tuned.model.model_dump()  # shared_bottom has no experts setting


def test_a_trial_keeps_the_numeric_encoding_transform_computed():
    # Transform encoded the inputs over these bins once; every trial's model must read them so.
    config = build_config({"model": {"numeric_embedding": "piecewise_linear", "piecewise_linear_bins": 12}})
    for architecture in ("shared_bottom", "mmoe"):
        tuned = apply_hyperparameters(config, {**VALUES, "architecture": architecture})
        assert (tuned.model.numeric_embedding, tuned.model.encoding_bins) == ("piecewise_linear", 12)
        assert tuned.transform_model_settings() == config.transform_model_settings() == {"piecewise_linear_bins": 12}


def test_the_trainer_config_is_unchanged_without_a_tuner():
    config = build_config({})
    assert trained_config(config, None) is config
    assert trained_config(config, {"space": [], "values": VALUES}).model.architecture == "mmoe"


def test_describe_names_each_value_in_search_space_order():
    assert describe({"dropout": 0.1, "learning_rate": 0.001, "architecture": "mmoe", "width": 64}) == \
        "architecture mmoe, width 64, learning_rate 0.001, dropout 0.1"


@pytest.mark.parametrize("tuning, message", [
    ({"max_trials": 0}, "max_trials"),
    ({"max_minutes": -1}, "max_minutes"),
    ({"search_space": {"width": [0]}}, "widths must be at least 2"),
    ({"search_space": {"dropout": [1.0]}}, "dropout rates must be in [0, 1)"),
    ({"search_space": {"architecture": ["ple"]}}, "architecture"),
    ({"search_space": {"depth": [2]}}, "depth"),
    ({"trials": 3}, "trials"),
])
def test_bad_tuning_values_are_rejected_naming_the_field(tuning, message):
    with pytest.raises(ConfigError) as error:
        build_config({"tuning": tuning})
    assert message in str(error.value)


def test_ensemble_size_is_kept_unless_searched():
    config = build_config({"model": {"ensemble_size": 8}})
    assert config.tuning.search_space.ensemble_size is None  # not searched by default
    assert apply_hyperparameters(config, VALUES).model.ensemble_size == 8
    assert apply_hyperparameters(config, {**VALUES, "ensemble_size": 4}).model.ensemble_size == 4
    assert describe({**VALUES, "ensemble_size": 4}).endswith("dropout 0.2, ensemble_size 4")
    with pytest.raises(ConfigError, match="ensemble sizes must be at least 1"):
        build_config({"tuning": {"search_space": {"ensemble_size": [0, 4]}}})
