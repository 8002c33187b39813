"""Weakest slices from TFMA's own confidence intervals, on predictions with a known hard slice.

TFMA evaluates stored predictions (no model) with the project's per-task
metrics, slices and interval options, in-process; the report's tables are
built from what it wrote. ``segment`` is drawn at random, so no segment may be
named the weakest; ``region:hard`` gets three times the prediction noise, so
it must be.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from scipy import stats

from config import build_config
from components.eval_config import build_eval_config
from pipeline.report.tables import build_task_tables, significantly_below
from pipeline.results import eval_results

N = 4000
HARD_NOISE, NOISE = 0.6, 0.2


def _examples(path, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=N)
    segment = rng.choice(["a", "b", "c"], size=N)
    region = np.where(rng.random(N) < 0.15, "hard", "easy")
    prediction = y + rng.normal(size=N) * np.where(region == "hard", HARD_NOISE, NOISE)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i in range(N):
            example = tf.train.Example()
            example.features.feature["y1"].float_list.value.append(y[i])
            example.features.feature["y1_prediction"].float_list.value.append(prediction[i])
            example.features.feature["segment"].bytes_list.value.append(segment[i].encode())
            example.features.feature["region"].bytes_list.value.append(region[i].encode())
            writer.write(example.SerializeToString())
    return y, prediction, segment, region


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    work = tmp_path_factory.mktemp("significance")
    y, prediction, segment, region = _examples(work / "data.tfrecord")
    config = build_config({
        "tasks": [{"name": "y1", "gate": {"min_r2": 0.5}}],
        "evaluation": {"slice_features": [{"name": "segment"}, {"name": "region"}],
                       "slices": [["segment"], ["region"]]}})
    eval_config = build_eval_config(config)
    # Stored predictions instead of a model: the same metrics, slices and interval options.
    eval_config.model_specs[0].CopyFrom(tfma.ModelSpec(label_keys={"y1": "y1"},
                                                       prediction_keys={"y1": "y1_prediction"}))
    for metric in eval_config.metrics_specs[0].metrics:  # no baseline to compare with here
        metric.ClearField("per_slice_thresholds")
    output = work / "evaluation"
    tfma.run_model_analysis(eval_config=eval_config, data_location=str(work / "data.tfrecord"),
                            output_path=str(output))
    records = eval_results.load_metric_records(str(output))
    (table,) = build_task_tables(records, [], [], task_types={"y1": "regression"})
    return table, records, (y, prediction, segment, region)


def test_every_metric_on_every_slice_has_an_interval_around_its_value(evaluated):
    table, records, _ = evaluated
    assert len(table.rows) == 1 + 3 + 2
    for row in table.rows:
        for metric in table.metrics:
            low, high = row.interval(metric)
            assert low < high, (row.slice, metric)
            assert low <= row.values[metric] <= high, (row.slice, metric)
    assert all(r.lower is not None for r in records if r.metric != "example_count")


def test_interval_width_matches_the_standard_error_of_the_squared_errors(evaluated):
    """MSE is a mean: its 95% half-width is about t * sd(squared error) / sqrt(n)."""
    table, _, (y, prediction, _, region) = evaluated
    for row, mask in ((table.overall, np.ones(N, bool)), (next(r for r in table.rows if r.slice == "region:hard"),
                                                          region == "hard")):
        squared = (prediction[mask] - y[mask]) ** 2
        assert row.values["mean_squared_error"] == pytest.approx(squared.mean(), rel=1e-4)
        expected = stats.t.ppf(0.975, 19) * squared.std(ddof=1) / np.sqrt(mask.sum())
        low, high = row.interval("mean_squared_error")
        # A 20-bucket jackknife estimates the standard error to within about ±16% (1 sd).
        assert 0.6 * expected < (high - low) / 2 < 1.5 * expected, row.slice


def test_a_random_segment_is_not_the_weakest_but_the_harder_slice_is(evaluated):
    table, _, _ = evaluated
    overall = table.overall.values["r2"]
    segments = [r for r in table.rows if r.slice.startswith("segment:")]
    assert len(segments) == 3
    assert not any(significantly_below(r, "r2", overall) for r in segments)
    assert table.weakest is not None and table.weakest.slice == "region:hard"
    assert table.weakest.interval("r2")[1] < overall
