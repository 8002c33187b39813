"""The drift comparison on statistics computed by TFDV from real tables (no TFX needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

from components.data_drift import (INFINITY_NORM, JENSEN_SHANNON, Drift, DriftThresholds, comparator_for,
                                   describe, drifted, measure)
from config import build_config

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.csv"
COLUMNS = ["age", "visits", "tenure_months", "region", "device", "plan", "spend", "purchased", "churned"]
DEFAULTS = DriftThresholds(0.1, 0.1, {c: None for c in COLUMNS})


def statistics(frame: pd.DataFrame, tmp_path: Path, name: str):
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return tfdv.generate_statistics_from_csv(str(path))


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def halves(sample, tmp_path_factory):
    """Statistics of the sample's first 1,000 rows (the baseline) and of its other 1,000."""
    folder = tmp_path_factory.mktemp("halves")
    return statistics(sample.iloc[:1000], folder, "first"), statistics(sample.iloc[1000:], folder, "second")


def test_another_sample_of_the_same_table_has_not_drifted(halves):
    first, second = halves
    measured = measure(second, first, DEFAULTS, "train")
    assert {d.column for d in measured} == set(COLUMNS)  # every column compared
    assert {d.column: d.comparator for d in measured}["region"] == INFINITY_NORM
    assert {d.column: d.comparator for d in measured}["spend"] == JENSEN_SHANNON
    assert drifted(measured) == [], measured
    assert all(d.split == "train" and d.threshold == 0.1 for d in measured)


def test_a_shifted_numeric_column_is_caught_alone(sample, halves, tmp_path):
    first, _ = halves
    shifted = sample.iloc[1000:].copy()
    shifted["spend"] = (shifted["spend"].astype(float) * 1.5).round(3).astype(str)
    found = drifted(measure(statistics(shifted, tmp_path, "shifted"), first, DEFAULTS))
    assert [(d.column, d.comparator) for d in found] == [("spend", JENSEN_SHANNON)]
    assert 0.1 < found[0].distance <= 1


def test_a_vanished_category_is_caught_by_its_former_share(sample, halves, tmp_path):
    first, _ = halves
    second = sample.iloc[1000:]
    without_north = second[second["region"] != "north"]
    found = drifted(measure(statistics(without_north, tmp_path, "no_north"), first, DEFAULTS))
    region = [d for d in found if d.column == "region"]
    assert [d.comparator for d in region] == [INFINITY_NORM]
    # L-infinity: the largest change in any value's share, computed here independently.
    before = sample.iloc[:1000]["region"].replace("", np.nan).value_counts(normalize=True)
    after = without_north["region"].replace("", np.nan).value_counts(normalize=True)
    expected = (after.reindex(before.index.union(after.index), fill_value=0)
                - before.reindex(before.index.union(after.index), fill_value=0)).abs().max()
    assert region[0].distance == pytest.approx(expected, abs=1e-6)
    assert expected > 0.15  # "north" held about a fifth of the rows


def test_a_columns_own_threshold_and_skip(sample, halves, tmp_path):
    first, _ = halves
    shifted = sample.iloc[1000:].copy()
    shifted["spend"] = (shifted["spend"].astype(float) * 1.5).round(3).astype(str)
    current = statistics(shifted, tmp_path, "shifted")
    distance = next(d.distance for d in measure(current, first, DEFAULTS) if d.column == "spend")
    raised = DriftThresholds(0.1, 0.1, {**DEFAULTS.columns, "spend": round(distance + 0.01, 3)})
    assert drifted(measure(current, first, raised)) == []
    lowered = DriftThresholds(0.1, 0.1, {**DEFAULTS.columns, "spend": round(distance - 0.01, 3)})
    assert [d.column for d in drifted(measure(current, first, lowered))] == ["spend"]
    skipped = DriftThresholds(0.1, 0.1, {c: None for c in COLUMNS if c != "spend"})
    assert "spend" not in {d.column for d in measure(current, first, skipped)}


def test_the_comparator_follows_the_statistics_type(halves):
    first, _ = halves
    by_name = {f.path.step[0]: f for f in first.datasets[0].features}
    assert comparator_for(by_name["age"]) == JENSEN_SHANNON
    assert comparator_for(by_name["purchased"]) == JENSEN_SHANNON  # 0/1 integers: numeric statistics
    assert comparator_for(by_name["churned"]) == INFINITY_NORM  # "yes"/"no"


def test_a_threshold_is_exceeded_only_above_it():
    assert not Drift("train", "age", JENSEN_SHANNON, 0.1, 0.1).drifted
    assert Drift("train", "age", JENSEN_SHANNON, 0.1001, 0.1).drifted
    thresholds = DriftThresholds(0.1, 0.2, {"age": None, "region": 0.3})
    assert thresholds.threshold("age", JENSEN_SHANNON) == 0.1
    assert thresholds.threshold("age", INFINITY_NORM) == 0.2
    assert thresholds.threshold("region", INFINITY_NORM) == 0.3
    assert thresholds.threshold("region", JENSEN_SHANNON) == 0.3


def test_the_configuration_gives_the_thresholds():
    config = build_config({"drift": {"jensen_shannon_divergence": 0.2, "infinity_norm": 0.15,
                                     "thresholds": {"y1": 0.4}, "skip": ["segment"]}})
    thresholds = DriftThresholds.from_json(config.drift_thresholds())
    assert thresholds == DriftThresholds(0.2, 0.15, {"x": None, "y1": 0.4, "y2": None, "x_norm": None})
    assert DriftThresholds.from_json(thresholds.to_json()) == thresholds


def test_the_message_names_each_column_its_distances_threshold_and_the_fixes():
    message = describe([Drift("train", "y1", JENSEN_SHANNON, 0.2712, 0.1),
                        Drift("eval", "y1", JENSEN_SHANNON, 0.3049, 0.1),
                        Drift("train", "region", INFINITY_NORM, 0.2, 0.15)])
    assert message.startswith("the data has drifted from the data of the model being served: ")
    assert "y1: Jensen-Shannon divergence 0.271 (train), 0.305 (eval) above the threshold 0.1" in message
    assert "region: L-infinity distance 0.2 (train) above the threshold 0.15" in message
    assert "raise drift.thresholds.y1, drift.thresholds.region or set drift.enabled: false" in message
    assert "another --output-dir" in message
    assert "\n" not in message
