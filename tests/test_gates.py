"""Every gate stops a model: the project's EvalConfig judged by TFMA's own validator.

The EvalConfig is the one the Evaluator gets (``build_eval_config``), completed
the way TFX's Evaluator completes it (candidate and baseline model specs; change
thresholds rubber-stamped without a baseline). Metric values are set per test;
TFMA's ``validate_metrics`` decides, as it does inside the Evaluator.
"""

from __future__ import annotations

import functools
import math

import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_validator

from config import build_config
from components.eval_config import build_eval_config

CONFIG = build_config({"tasks": [
    {"name": "y1", "gate": {"min_r2": 0.5, "max_mse": 0.3, "max_drop": 0.02}},
    {"name": "y2", "type": "binary", "gate": {"min_auc": 0.7, "max_log_loss": 0.6, "max_drop": 0.05}}]})
# Values that pass every gate of CONFIG.
PASSING = {"r2": 0.8, "mean_squared_error": 0.1, "auc": 0.9, "binary_crossentropy": 0.3}


@functools.lru_cache(maxsize=None)
def evaluator_config(has_baseline: bool):
    """The EvalConfig as TFX's Evaluator completes it, and its thresholds by metric key."""
    eval_config = tfma.utils.update_eval_config_with_defaults(
        build_eval_config(CONFIG), has_baseline=has_baseline, rubber_stamp=True)
    return eval_config, tfma.metrics.metric_thresholds_from_metrics_specs(eval_config.metrics_specs,
                                                                          eval_config=eval_config)


def failures(values: dict | None = None, has_baseline: bool = True) -> set:
    """(task, metric, is_diff) of every failed threshold; ``values`` overrides PASSING (diffs default to 0)."""
    values = values or {}
    eval_config, thresholds = evaluator_config(has_baseline)
    metrics = {}
    for key in thresholds:
        if key.model_name == "baseline":
            continue
        default = 0.0 if key.is_diff else PASSING[key.name]
        metrics[key] = values.get((key.output_name, key.name, key.is_diff), default)
    result = metrics_validator.validate_metrics(((), metrics), eval_config)
    found = {(f.metric_key.output_name, f.metric_key.name, f.metric_key.is_diff)
             for s in result.metric_validations_per_slice for f in s.failures}
    assert result.validation_ok == (not found)
    return found


def test_a_good_candidate_passes_every_gate():
    assert failures() == set()
    assert failures(has_baseline=False) == set()


def test_change_gate_alone_stops_a_slightly_worse_candidate():
    # R² 0.8 passes min_r2 0.5; 0.03 below the blessed model is more than max_drop 0.02.
    assert failures({("y1", "r2", True): -0.03}) == {("y1", "r2", True)}
    assert failures({("y1", "r2", True): -0.019}) == set()
    assert failures({("y2", "auc", True): -0.06}) == {("y2", "auc", True)}


def test_change_gate_is_not_applied_without_a_baseline():
    assert failures({("y1", "r2", True): -0.5}, has_baseline=False) == set()


@pytest.mark.parametrize("task, metric, bad, good", [
    ("y1", "r2", 0.49, 0.51),
    ("y1", "mean_squared_error", 0.31, 0.29),
    ("y2", "auc", 0.69, 0.71),
    ("y2", "binary_crossentropy", 0.61, 0.59),
])
def test_each_absolute_gate_stops_a_model_just_past_it(task, metric, bad, good):
    for has_baseline in (True, False):
        assert failures({(task, metric, False): bad}, has_baseline) == {(task, metric, False)}
        assert failures({(task, metric, False): good}, has_baseline) == set()


@pytest.mark.parametrize("task, metric", [("y1", "r2"), ("y1", "mean_squared_error"), ("y2", "auc"),
                                          ("y2", "binary_crossentropy")])
def test_a_nan_metric_fails_its_gate(task, metric):
    assert failures({(task, metric, False): math.nan}) == {(task, metric, False)}


def test_a_nan_change_fails_the_change_gate():
    assert failures({("y1", "r2", True): math.nan}) == {("y1", "r2", True)}
