"""The evaluation report's tables, built from plain records (no TFX, no TFMA).

One table per task: a row per slice (overall first) with its example count,
each metric, and the change against the baseline model where there is one;
the gates with their bounds and outcome; and the task's weakest slice by its
key metric (its task type's, e.g. R² or AUC), so a reader sees at a glance
where the model is worst.

A slice is named the weakest only when it is significantly worse: the upper
end of its key metric's confidence interval lies below the overall value.
Otherwise the slices differ no more than sampling noise explains (a random
segment is not weaker, only smaller), and none is named.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional

from models.tasks import TASK_TYPES, TaskType
from pipeline.results.eval_results import OVERALL, EvaluatedGate, GateFailure, MetricRecord

EXAMPLE_COUNT = "example_count"
# A slice this small is too noisy to call the weakest, whatever its interval
# (an AUC on 3 examples, a jackknife with most buckets empty); it still has its row.
MIN_WEAKEST_SLICE_EXAMPLES = 20
NAN = "NaN"
UNDEFINED = "undefined"
# Why a metric has no value on a slice (the Evaluator gives NaN); the report shows the reason
# and leaves the slice out of charts and of the weakest-slice test.
UNDEFINED_REASONS = {
    "auc": "the slice holds one class only", "macro_auc": "some class is absent from the slice or is all of it",
    "r2": "the labels are constant on the slice", "calibration": "the slice has no positive labels",
    "precision": "no prediction above 0.5", "recall": "no positive labels",
    "binary_crossentropy": "a predicted probability of exactly 0 or 1 on the wrong label",
}


def is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def undefined_reason(metric: str) -> str:
    """Why ``metric`` (e.g. ``auc``, ``auc_class_2``) can be undefined on a slice."""
    base = re.sub(r"_class_\d+$", "", metric)
    return UNDEFINED_REASONS.get(base, "the Evaluator could not compute it on this slice")


def format_value(value: Optional[float]) -> str:
    """4 decimals; NaN as 'undefined', a missing value as a dash."""
    if value is None:
        return "–"
    return UNDEFINED if is_nan(value) else f"{value:.4f}"


@dataclass
class SliceRow:
    slice: str
    count: Optional[int]
    values: dict[str, float]
    baseline: dict[str, float] = field(default_factory=dict)
    deltas: dict[str, float] = field(default_factory=dict)  # candidate minus baseline
    lower: dict[str, float] = field(default_factory=dict)  # 95% interval of each value
    upper: dict[str, float] = field(default_factory=dict)
    task_type: Optional[TaskType] = None  # its task's: the range each metric can take

    def raw_interval(self, metric: str) -> Optional[tuple[float, float]]:
        """TFMA's interval as computed (value-centred ± t·s), for the significance test."""
        if metric in self.lower and metric in self.upper:
            return self.lower[metric], self.upper[metric]
        return None

    def interval(self, metric: str) -> Optional[tuple[float, float]]:
        """The interval as shown: cut at the metric's range."""
        raw = self.raw_interval(metric)
        if raw is None:
            return None
        low, high = self.task_type.metric_range(metric) if self.task_type else (-math.inf, math.inf)
        return min(max(raw[0], low), high), max(min(raw[1], high), low)


@dataclass
class GateRow:
    metric: str
    slice: str
    is_diff: bool
    condition: str  # e.g. "R² ≥ 0.5" or "R² change vs baseline ≥ -0.05"
    value: Optional[float]
    passed: bool


@dataclass
class TaskTable:
    task: str
    task_type: TaskType  # from the run's recorded configuration
    key_metric: Optional[str]
    metrics: list[str]  # column order
    rows: list[SliceRow]
    gates: list[GateRow]
    weakest: Optional[SliceRow]  # lowest key metric among the slices significantly below overall

    def label(self, metric: str) -> str:
        """A metric's shown name, e.g. 'r2' -> 'R²' (its task type's)."""
        return self.task_type.metric_label(metric)

    @property
    def has_intervals(self) -> bool:
        return any(row.interval(self.key_metric) for row in self.rows) if self.key_metric else False

    @property
    def no_weakest_reason(self) -> str:
        """Why no slice is named the weakest (empty when one is)."""
        if self.weakest is not None:
            return ""
        if not self.sliced:
            return "no slices configured"
        if not self.has_intervals:
            return "confidence intervals are off, so no slice is judged"
        return "no slice is significantly worse than overall"

    @property
    def sliced(self) -> bool:
        """Whether there are slices besides the overall one."""
        return any(row.slice != OVERALL for row in self.rows)

    @property
    def overall(self) -> Optional[SliceRow]:
        return next((r for r in self.rows if r.slice == OVERALL), None)

    @property
    def gates_passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def nan_metrics(self) -> list[str]:
        """Metrics that are NaN on some slice: the report says so instead of hiding them."""
        return [m for m in self.metrics if any(is_nan(row.values.get(m)) for row in self.rows)]

    @property
    def undefined_notes(self) -> list[str]:
        """One sentence per metric undefined on some slice: where and why."""
        notes = []
        for metric in self.nan_metrics:
            slices = [row.slice for row in self.rows if is_nan(row.values.get(metric))]
            shown = ", ".join(slices[:5]) + (f" and {len(slices) - 5} more" if len(slices) > 5 else "")
            notes.append(f"{self.label(metric)} is undefined on {shown}: {undefined_reason(metric)} "
                         "(left out of the chart and of the weakest-slice test; a gate on it fails)")
        return notes


def slice_sort_key(name: str):
    """Overall first, then single features before crosses, then by value (numbers numerically)."""
    if name == OVERALL:
        return (0, [])
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return (1 + name.count(","), [(isinstance(p, int), p) for p in parts])


def _metric_order(kind: TaskType):
    """Sort key: the type's own order of its metrics, then any other by name."""
    order = kind.metric_order
    return lambda metric: (order.index(metric) if metric in order else len(order), metric)


def _describe_gate(gate: EvaluatedGate, kind: TaskType) -> str:
    label = kind.metric_label(gate.metric)
    what = f"{label} change vs baseline" if gate.is_diff else label
    bounds = []
    if gate.lower_bound is not None:
        bounds.append(f"≥ {gate.lower_bound:.4g}")
    if gate.upper_bound is not None:
        bounds.append(f"≤ {gate.upper_bound:.4g}")
    return f"{what} {' and '.join(bounds)}"


def _gate_rows(task: str, kind: TaskType, gates: list[EvaluatedGate], failures: list[GateFailure],
               rows_by_slice: dict[str, SliceRow]) -> list[GateRow]:
    result = []
    for gate in (g for g in gates if g.task == task):
        failed = any(f.task == task and f.metric == gate.metric and f.is_diff == gate.is_diff
                     and (f.slice == gate.slice or gate.slice != OVERALL) for f in failures)
        row = rows_by_slice.get(gate.slice)
        value = None
        if row is not None:
            value = (row.deltas if gate.is_diff else row.values).get(gate.metric)
        result.append(GateRow(gate.metric, gate.slice, gate.is_diff, _describe_gate(gate, kind), value, not failed))
    order = _metric_order(kind)
    return sorted(result, key=lambda g: (g.is_diff, order(g.metric)))


def build_task_tables(records: list[MetricRecord], gates: list[EvaluatedGate], failures: list[GateFailure],
                      baseline_records: list[MetricRecord] = (),
                      task_order: Optional[list[str]] = None, *,
                      task_types: dict[str, str]) -> list[TaskTable]:
    """Candidate records (with their diffs) and the baseline's, into one table per task.

    ``task_types``: task name -> type name, from the run's recorded configuration; the type
    gives a task's key metric and its metrics' names and ranges. KeyError for a task without one.
    """
    tasks = list(task_order or sorted({r.task for r in records}))
    tables = []
    for task in tasks:
        kind = TASK_TYPES[task_types[task]]
        rows: dict[str, SliceRow] = {}
        for r in (r for r in records if r.task == task):
            row = rows.setdefault(r.slice, SliceRow(r.slice, None, {}, task_type=kind))
            if r.is_diff:
                row.deltas[r.metric] = r.value
            elif r.metric == EXAMPLE_COUNT:
                row.count = int(round(r.value))
            else:
                row.values[r.metric] = r.value
                if r.lower is not None and r.upper is not None:
                    row.lower[r.metric], row.upper[r.metric] = r.lower, r.upper
        for r in (r for r in baseline_records if r.task == task and not r.is_diff):
            if r.slice in rows and r.metric != EXAMPLE_COUNT:
                rows[r.slice].baseline[r.metric] = r.value
        ordered = sorted(rows.values(), key=lambda row: slice_sort_key(row.slice))
        # Every metric the Evaluator computed (the EvalConfig asks for its own metrics only).
        metrics = sorted({m for row in ordered for m in row.values}, key=_metric_order(kind))
        key_metric = kind.key_metric if kind.key_metric in metrics else None
        tables.append(TaskTable(task, kind, key_metric, metrics, ordered,
                                _gate_rows(task, kind, gates, failures, rows), weakest_slice(ordered, key_metric)))
    return tables


# TFMA's intervals are 95% Student-t intervals over its 20 jackknife buckets or
# bootstrap samples (19 degrees of freedom).
INTERVAL_LEVEL = 0.95
INTERVAL_DEGREES_OF_FREEDOM = 19


def significantly_below(row: SliceRow, metric: str, overall: float, comparisons: int = 1) -> bool:
    """Whether the row's whole interval of ``metric`` lies below ``overall`` (False without an interval).

    With ``comparisons`` slices compared at once, the interval is widened
    (Bonferroni) so that the chance of naming any slice when none is worse
    stays at 5%; among 19 random slices, one 95% interval misses by chance
    more often than not.
    """
    interval = row.raw_interval(metric)
    if interval is None or (row.count or 0) < MIN_WEAKEST_SLICE_EXAMPLES:
        return False
    from scipy.stats import t  # local: only the report needs it

    alpha = 1 - INTERVAL_LEVEL
    center, half_width = (interval[0] + interval[1]) / 2, (interval[1] - interval[0]) / 2
    widen = (t.ppf(1 - alpha / (2 * max(1, comparisons)), INTERVAL_DEGREES_OF_FREEDOM)
             / t.ppf(1 - alpha / 2, INTERVAL_DEGREES_OF_FREEDOM))
    return center + half_width * widen < overall


def weakest_slice(rows: list[SliceRow], key_metric: Optional[str]) -> Optional[SliceRow]:
    """The slice with the lowest key metric among those significantly below overall, or None."""
    overall = next((r for r in rows if r.slice == OVERALL), None)
    if key_metric is None or overall is None or key_metric not in overall.values:
        return None
    candidates = [r for r in rows if r.slice != OVERALL and key_metric in r.values
                  and not is_nan(r.values[key_metric]) and r.interval(key_metric) is not None
                  and (r.count or 0) >= MIN_WEAKEST_SLICE_EXAMPLES]
    worse = [r for r in candidates
             if significantly_below(r, key_metric, overall.values[key_metric], comparisons=len(candidates))]
    return min(worse, key=lambda r: r.values[key_metric], default=None)


def metric_rows(tables: list[TaskTable]) -> list[dict]:
    """One record per task × slice × metric, for metrics.json."""
    result = []
    for table in tables:
        for row in table.rows:
            for metric in table.metrics:
                if metric in row.values:
                    value = row.values[metric]
                    record = {"task": table.task, "slice": row.slice, "metric": metric,
                              "value": NAN if is_nan(value) else value,
                              "lower": _json_number((row.interval(metric) or (None, None))[0]),
                              "upper": _json_number((row.interval(metric) or (None, None))[1]),
                              "example_count": row.count,
                              "baseline": _json_number(row.baseline.get(metric)),
                              "delta": _json_number(row.deltas.get(metric))}
                    if is_nan(value):
                        record["note"] = f"undefined: {undefined_reason(metric)}"
                    result.append(record)
    return result


def _json_number(value: Optional[float]):
    return NAN if is_nan(value) else value
