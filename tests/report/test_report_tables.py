"""Table building from plain records: ordering, weakest slice, gates, baseline changes."""

from pipeline.results.eval_results import EvaluatedGate as Gate, GateFailure, MetricRecord
from pipeline.report.tables import build_task_tables, metric_rows, slice_sort_key


REGRESSION = {"y1": "regression", "y2": "regression"}


def _records(task, slice_name, count, r2, mse, diff_r2=None, r2_half_width=0.05):
    records = [MetricRecord(task, slice_name, "example_count", count, False),
               MetricRecord(task, slice_name, "r2", r2, False, r2 - r2_half_width, r2 + r2_half_width),
               MetricRecord(task, slice_name, "mean_squared_error", mse, False, mse * 0.9, mse * 1.1),
               MetricRecord(task, slice_name, "log_cosh", mse, False)]  # a metric without a label
    if diff_r2 is not None:
        records.append(MetricRecord(task, slice_name, "r2", diff_r2, True))
    return records


def test_slices_are_ordered_overall_then_single_features_then_crosses_numerically():
    names = ["segment:a, x_bucket:10", "x_bucket:10", "Overall", "x_bucket:2", "segment:b", "segment:a, x_bucket:2"]
    assert sorted(names, key=slice_sort_key) == [
        "Overall", "segment:b", "x_bucket:2", "x_bucket:10", "segment:a, x_bucket:2", "segment:a, x_bucket:10"]


def test_weakest_slice_failed_gate_and_baseline_change_per_task():
    records = (_records("y1", "Overall", 400, 0.8, 0.05, diff_r2=-0.1) + _records("y1", "segment:a", 200, 0.9, 0.03)
               + _records("y1", "segment:b", 200, 0.4, 0.09) + _records("y2", "Overall", 400, 0.7, 0.06)
               + _records("y2", "segment:a", 200, 0.6, 0.07) + _records("y2", "segment:b", 200, 0.75, 0.05))
    baseline = [MetricRecord("y1", "Overall", "r2", 0.9, False)]
    gates = [Gate("y1", "Overall", "r2", False, 0.5, None), Gate("y1", "Overall", "r2", True, -0.05, None),
             Gate("y2", "Overall", "r2", False, 0.5, None)]
    failures = [GateFailure("y1", "Overall", "r2", "r2 changed by -0.1", is_diff=True)]

    y1, y2 = build_task_tables(records, gates, failures, baseline, task_types=REGRESSION)

    assert [r.slice for r in y1.rows] == ["Overall", "segment:a", "segment:b"]
    # Every metric the Evaluator computed, known ones first, none dropped.
    assert y1.metrics == ["r2", "mean_squared_error", "log_cosh"]
    assert y1.overall.count == 400 and y1.overall.baseline["r2"] == 0.9 and y1.overall.deltas["r2"] == -0.1
    assert y1.weakest.slice == "segment:b" and y2.weakest.slice == "segment:a"
    assert [(g.condition, g.value, g.passed) for g in y1.gates] == [
        ("R² ≥ 0.5", 0.8, True), ("R² change vs baseline ≥ -0.05", -0.1, False)]
    assert not y1.gates_passed and y2.gates_passed

    rows = metric_rows([y1, y2])
    assert len(rows) == 2 * 3 * 3  # task × slice × metric
    assert {"task": "y1", "slice": "Overall", "metric": "r2", "value": 0.8, "lower": 0.8 - 0.05,
            "upper": 0.8 + 0.05, "example_count": 400, "baseline": 0.9, "delta": -0.1} in rows
    assert all(r["lower"] <= r["value"] <= r["upper"] for r in rows if r["lower"] is not None)
    assert {r["metric"] for r in rows if r["lower"] is None} == {"log_cosh"}


def test_a_tiny_slice_is_not_called_the_weakest():
    records = (_records("y1", "Overall", 400, 0.8, 0.05) + _records("y1", "segment:a", 390, 0.6, 0.08)
               + _records("y1", "segment:b", 3, -2.0, 0.9))
    (y1,) = build_task_tables(records, [], [], task_types=REGRESSION)
    assert y1.weakest.slice == "segment:a"
    assert [r.slice for r in y1.rows] == ["Overall", "segment:a", "segment:b"]  # still shown
    tiny = _records("y1", "Overall", 5, 0.8, 0.05) + _records("y1", "segment:b", 3, -2.0, 0.9)
    (only_tiny,) = build_task_tables(tiny, [], [], task_types=REGRESSION)
    assert only_tiny.weakest is None


def test_a_slice_is_the_weakest_only_when_its_interval_lies_below_overall():
    def table(half_width):
        return build_task_tables(_records("y1", "Overall", 400, 0.8, 0.05, r2_half_width=0.01)
                                 + _records("y1", "segment:a", 200, 0.72, 0.06, r2_half_width=half_width)
                                 + _records("y1", "segment:b", 200, 0.79, 0.05, r2_half_width=0.02),
                                 [], [], task_types=REGRESSION)[0]

    assert table(half_width=0.05).weakest.slice == "segment:a"  # upper 0.77 < 0.8
    assert table(half_width=0.09).weakest is None  # upper 0.81: noise can explain it
    assert table(half_width=0.09).has_intervals and table(half_width=0.09).sliced
    # segment:b's interval [0.77, 0.79] lies below overall as well, but segment:a is lower.
    (both,) = build_task_tables(_records("y1", "Overall", 400, 0.8, 0.05, r2_half_width=0.01)
                                + _records("y1", "segment:a", 200, 0.7, 0.06, r2_half_width=0.05)
                                + _records("y1", "segment:b", 200, 0.78, 0.05, r2_half_width=0.01),
                                [], [], task_types=REGRESSION)
    assert both.weakest.slice == "segment:a"


def test_without_intervals_no_slice_is_named_the_weakest():
    records = [MetricRecord("y1", s, "r2", v, False) for s, v in (("Overall", 0.8), ("segment:a", 0.1))]
    (y1,) = build_task_tables(records, [], [], task_types=REGRESSION)
    assert y1.weakest is None and not y1.has_intervals and y1.sliced


def test_a_nan_metric_keeps_its_column_shows_as_undefined_with_its_reason():
    from pipeline.report.tables import format_value

    nan = float("nan")
    records = [MetricRecord("clicked", "Overall", "example_count", 100, False),
               MetricRecord("clicked", "Overall", "auc", 0.9, False),
               MetricRecord("clicked", "Overall", "binary_crossentropy", nan, False),
               MetricRecord("clicked", "segment:a", "example_count", 50, False),
               MetricRecord("clicked", "segment:a", "auc", nan, False),
               MetricRecord("clicked", "segment:a", "binary_crossentropy", 0.4, False)]

    (table,) = build_task_tables(records, [], [], task_types={"clicked": "binary"})

    assert table.metrics == ["auc", "binary_crossentropy"] and table.nan_metrics == ["auc", "binary_crossentropy"]
    assert table.weakest is None  # a NaN AUC is not the weakest slice
    assert [format_value(v) for v in (nan, 0.25, None)] == ["undefined", "0.2500", "–"]
    assert table.undefined_notes[0] == ("AUC is undefined on segment:a: the slice holds one class only (left out "
                                        "of the chart and of the weakest-slice test; a gate on it fails)")
    rows = {(r["slice"], r["metric"]): r for r in metric_rows([table])}
    assert rows[("Overall", "binary_crossentropy")]["value"] == "NaN"
    assert rows[("segment:a", "auc")]["note"] == "undefined: the slice holds one class only"
    assert rows[("Overall", "binary_crossentropy")]["note"].startswith("undefined: a predicted probability")
    assert rows[("segment:a", "binary_crossentropy")]["value"] == 0.4 and "note" not in rows[("segment:a", "binary_crossentropy")]


def test_a_nan_gate_value_fails_with_a_message_that_says_so():
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2, validation_result_pb2

    from pipeline.results.eval_results import _describe_failure

    failure = validation_result_pb2.ValidationFailure(
        metric_key=metrics_for_slice_pb2.MetricKey(name="binary_crossentropy", output_name="clicked"))
    failure.metric_value.double_value.value = float("nan")
    failure.metric_threshold.value_threshold.upper_bound.value = 0.5
    assert _describe_failure(failure).startswith(
        "binary_crossentropy is NaN, which fails its gate: the Evaluator could not compute it (log loss:")


def test_an_interval_is_shown_cut_at_its_metrics_range_and_tested_as_computed():
    from models.tasks import TASK_TYPES
    from pipeline.report.tables import SliceRow

    # Each metric's range is its task type's.
    row = SliceRow("Overall", 100, {"mean_squared_error": 0.01, "r2": 0.97, "mean_label": -2.0},
                   lower={"mean_squared_error": -0.03, "r2": 0.9, "mean_label": -2.5},
                   upper={"mean_squared_error": 0.05, "r2": 1.04, "mean_label": -1.5},
                   task_type=TASK_TYPES["regression"])
    auc_row = SliceRow("Overall", 100, {"auc": 0.98}, lower={"auc": 0.9}, upper={"auc": 1.06},
                       task_type=TASK_TYPES["binary"])
    assert auc_row.interval("auc") == (0.9, 1.0) and row.interval("mean_squared_error") == (0.0, 0.05)
    assert row.interval("r2") == (0.9, 1.0) and row.interval("mean_label") == (-2.5, -1.5)
    assert auc_row.raw_interval("auc") == (0.9, 1.06)
    (table,) = build_task_tables([MetricRecord("y", "Overall", "auc", 0.98, False, 0.9, 1.06),
                                  MetricRecord("y", "Overall", "macro_auc", 0.5, False, -0.1, 1.1)],
                                 [], [], task_types={"y": "multiclass"})
    rows = {r["metric"]: r for r in metric_rows([table])}
    assert (rows["auc"]["lower"], rows["auc"]["upper"]) == (0.9, 1.0)
    assert (rows["macro_auc"]["lower"], rows["macro_auc"]["upper"]) == (0.0, 1.0)
