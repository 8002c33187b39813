"""The Evaluator's slice groups: the same metrics, plots and gates as TFMA's per-example extractors.

The unit tests cover the grouping. The end-to-end test runs TFX's real
Evaluator executor twice on the default run's trained model and eval split,
once with TFMA's default extractors and once with ``models.slice_groups``,
and compares every slice's metrics, plot and the blessing.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest

from models import slice_groups
from config import build_config
from components.eval_config import EVALUATOR_MODULE, build_eval_config


def test_group_rows_keeps_first_appearance_order_and_row_order():
    groups = slice_groups.group_rows(["b", "a", "b", "c", "a", "b"])
    assert list(groups) == ["b", "a", "c"]
    assert [rows.tolist() for rows in groups.values()] == [[0, 2, 5], [1, 4], [3]]


def test_take_rows_selects_rows_of_batch_arrays_and_lists_only():
    batch = {"labels": {"y1": np.arange(4.0), "y2": np.arange(4.0) * 10},
             "predictions": np.arange(8.0).reshape(4, 2), "names": ["a", "b", "c", "d"],
             "model_scalar": np.float32(3.0), "other_length": np.arange(3)}
    taken = slice_groups.take_rows(batch, np.array([3, 1]), batch_size=4)
    assert taken["labels"]["y1"].tolist() == [3.0, 1.0]
    assert taken["labels"]["y2"].tolist() == [30.0, 10.0]
    assert taken["predictions"].tolist() == [[6.0, 7.0], [2.0, 3.0]]
    assert taken["names"] == ["d", "b"]
    assert taken["model_scalar"] == np.float32(3.0)
    assert taken["other_length"].tolist() == [0, 1, 2]  # not a per-row value of this batch


def test_slicing_columns_and_specs_follow_the_eval_config():
    eval_config = build_eval_config(build_config({}))
    assert slice_groups.slicing_columns(eval_config) == {"segment", "x_norm_bucket"}
    assert len(slice_groups.slice_specs(eval_config)) == len(eval_config.slicing_specs)


def test_every_task_type_takes_groups_and_other_metrics_are_refused():
    assert slice_groups.metrics_not_grouped(build_eval_config(build_config({}))) == []
    mixed = build_config({"data": {"binary_labels": ["y2"]},
                          "tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    assert slice_groups.metrics_not_grouped(build_eval_config(mixed)) == []
    eval_config = build_eval_config(mixed)
    eval_config.metrics_specs[0].metrics.add(class_name="MeanSquaredError")
    assert slice_groups.metrics_not_grouped(eval_config) == ["MeanSquaredError"]
    with pytest.raises(ValueError, match="MeanSquaredError"):
        slice_groups.custom_extractors(None, eval_config)


def _artifact(output_dir: Path, component: str, key: str) -> Path:
    return Path(max(glob.glob(str(output_dir / "pipeline_root" / component / key / "*")),
                    key=lambda p: int(Path(p).name)))


def _flat_metrics(result) -> dict:
    """(slice, output, metric) -> value, for every metric of every slice."""
    values = {}
    for slice_key, by_output in result.slicing_metrics:
        for output, by_sub_key in by_output.items():
            for name, value in by_sub_key[""].items():
                values[(slice_key, output, name)] = value
    return values


def _point(value: dict) -> float:
    return value["boundedValue"]["value"] if "boundedValue" in value else value["doubleValue"]


@pytest.mark.e2e
def test_grouped_evaluator_equals_tfma_per_example(default_run, tmp_path):
    import tensorflow_model_analysis as tfma

    from bench.evaluator import run_evaluator

    out = default_run.output_dir
    model = _artifact(out, "Trainer", "model")
    examples = _artifact(out, "SyntheticExampleGen", "examples")
    config = build_config({})
    results = {}
    for name, module_path in (("per_example", None), ("grouped", EVALUATOR_MODULE)):
        run_evaluator(model, examples, tmp_path / name, config, baseline=False, beam_args=[],
                      module_path=module_path)
        results[name] = (tfma.load_eval_result(str(tmp_path / name / "evaluation")),
                         (tmp_path / name / "blessing").iterdir())

    ours, theirs = (_flat_metrics(results[name][0]) for name in ("grouped", "per_example"))
    assert ours.keys() == theirs.keys()
    assert len({key[0] for key in ours}) > 10  # the overall slice and every feature slice
    for key, value in theirs.items():
        # Predictions come from the same model on other batch compositions: float32 noise only.
        assert _point(ours[key]) == pytest.approx(_point(value), rel=1e-6, abs=1e-6), key
        if "boundedValue" in value:  # confidence intervals in both (their resampling differs)
            bounds = ours[key]["boundedValue"]
            assert bounds["lowerBound"] <= bounds["value"] <= bounds["upperBound"], key
    # Each example counted once per slice: the segments' counts add up to the overall count.
    for output in {key[1] for key in ours}:
        overall = _point(ours[((), output, "example_count")])
        by_segment = [_point(value) for (slice_key, out_name, metric), value in ours.items()
                      if out_name == output and metric == "example_count"
                      and len(slice_key) == 1 and slice_key[0][0] == "segment"]
        assert overall > 0 and sum(by_segment) == overall

    plots = {name: {slice_key: by_output for slice_key, by_output in results[name][0].plots}
             for name in results}
    assert plots["grouped"].keys() == plots["per_example"].keys()
    for slice_key, by_output in plots["per_example"].items():
        for output, by_sub_key in by_output.items():
            theirs_buckets = by_sub_key[""]["calibrationHistogramBuckets"]["buckets"]
            ours_buckets = plots["grouped"][slice_key][output][""]["calibrationHistogramBuckets"]["buckets"]
            assert len(ours_buckets) == len(theirs_buckets)
            assert sum(b.get("numWeightedExamples", 0.0) for b in ours_buckets) == \
                sum(b.get("numWeightedExamples", 0.0) for b in theirs_buckets)

    blessed = {name: sorted(path.name for path in results[name][1]) for name in results}
    assert blessed["grouped"] == blessed["per_example"]


def test_row_codes_are_equal_exactly_where_every_column_is():
    segment = np.array([[b"a"], [b"b"], [b"a"], [b"a"]])
    bucket = np.array([1, 1, 1, 2])
    codes = slice_groups.row_codes([segment, bucket], batch_size=4).tolist()
    pairs = list(zip(segment.ravel().tolist(), bucket.tolist()))
    for i in range(4):
        for j in range(4):
            assert (codes[i] == codes[j]) == (pairs[i] == pairs[j]), (i, j)
    # Not one plain value per row (a list, or two values a row): the caller compares rows instead.
    assert slice_groups.row_codes([[b"a"], [b"b"]], batch_size=2) is None
    assert slice_groups.row_codes([np.zeros((2, 2))], batch_size=2) is None


def test_the_evaluator_step_limits_array_printing_in_its_worker():
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from models import tfma_fixes

    before = np.get_printoptions()
    np.set_printoptions(threshold=1000)  # numpy's default: what a fresh worker starts with
    try:
        from tensorflow_model_analysis import constants

        batches = [{constants.INPUT_KEY: []}]  # an empty batch: no groups
        with beam.Pipeline() as p:  # in-process: the step's setup runs in this process
            out = p | beam.Create(batches) | beam.ParDo(slice_groups._SliceGroupsFn([], set()))
            assert_that(out, equal_to([]))
        assert np.get_printoptions()["threshold"] == tfma_fixes.PRINT_THRESHOLD
    finally:
        np.set_printoptions(**before)
