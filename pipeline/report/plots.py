"""The report's figures, drawn with matplotlib (Agg) and returned as inline PNGs."""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from models.tasks import CALIBRATION, PREDICTED_AGAINST_ACTUAL  # noqa: E402
from models.trainer_outputs import GateGroupWeights  # noqa: E402
from pipeline.results.eval_results import CalibrationBins  # noqa: E402
from pipeline.report.tables import TaskTable  # noqa: E402

CALIBRATION_BINS = 10  # a binary task's calibration curve: ten equal-width probability bins


def _png_base64(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def error_bar_lengths(values: list[float], intervals: list) -> np.ndarray:
    """Matplotlib's xerr: distances from each value down to its lower and up to its upper bound.

    A row without an interval gets no bar; TFMA centres an interval on the
    mean of its samples, so a bound can sit on the wrong side of the point
    estimate by a hair, and is clipped to it.
    """
    lengths = np.zeros((2, len(values)))
    for i, (value, interval) in enumerate(zip(values, intervals)):
        if interval is not None:
            lengths[:, i] = (max(value - interval[0], 0.0), max(interval[1] - value, 0.0))
    return lengths


def metric_by_slice(table: TaskTable) -> str:
    """Horizontal bars of the key metric per slice with their 95% intervals as error bars.

    The overall value is a dashed line, the weakest slice (if any is
    significantly worse) in red.
    """
    # An undefined value (NaN: e.g. the AUC of a slice with one class) is no bar.
    rows = [r for r in table.rows if table.key_metric in r.values and not math.isnan(r.values[table.key_metric])]
    figure, axes = plt.subplots(figsize=(5.5, 0.28 * len(rows) + 1.0))
    values = [r.values[table.key_metric] for r in rows]
    colors = ["#555555" if r.slice == "Overall" else
              "#c0392b" if table.weakest is not None and r.slice == table.weakest.slice else "#2e86c1"
              for r in rows]
    positions = np.arange(len(rows))
    axes.barh(positions, values, color=colors,
              xerr=error_bar_lengths(values, [r.interval(table.key_metric) for r in rows]),
              error_kw={"ecolor": "#222222", "capsize": 2, "linewidth": 1})
    axes.set_yticks(positions, [f"{r.slice} (n={r.count})" for r in rows], fontsize=8)
    axes.invert_yaxis()
    if table.overall is not None:
        axes.axvline(table.overall.values[table.key_metric], color="#555555", linestyle="--", linewidth=1)
    axes.set_xlabel(f"{table.label(table.key_metric)} (bars: 95% interval)" if table.has_intervals
                    else table.label(table.key_metric))
    axes.set_title(f"{table.task}: {table.label(table.key_metric)} by slice", fontsize=10)
    return _png_base64(figure)


def predicted_against_actual(bins: CalibrationBins) -> str:
    """Regression: mean label against mean prediction per narrow prediction bucket."""
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.scatter(bins.mean_predictions, bins.mean_labels, s=np.clip(np.array(bins.counts) * 6, 6, 60),
                 alpha=0.6, color="#2e86c1")
    low = min(min(bins.mean_predictions), min(bins.mean_labels))
    high = max(max(bins.mean_predictions), max(bins.mean_labels))
    axes.plot([low, high], [low, high], color="#555555", linestyle="--", linewidth=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual (mean label)")
    axes.set_title(f"{bins.task}: predicted against actual ({bins.slice})", fontsize=10)
    return _png_base64(figure)


def calibration(bins: CalibrationBins) -> str:
    """Binary: mean label against mean predicted probability in ten probability bins."""
    predictions, labels, counts = (np.array(v) for v in (bins.mean_predictions, bins.mean_labels, bins.counts))
    which = np.minimum((predictions * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    merged = [(np.average(predictions[which == b], weights=counts[which == b]),
               np.average(labels[which == b], weights=counts[which == b]))
              for b in range(CALIBRATION_BINS) if np.any(which == b)]
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.plot(*zip(*merged), marker="o", color="#2e86c1")
    axes.plot([0, 1], [0, 1], color="#555555", linestyle="--", linewidth=1)
    axes.set_xlabel("mean predicted probability")
    axes.set_ylabel("fraction positive")
    axes.set_title(f"{bins.task}: calibration ({bins.slice})", fontsize=10)
    return _png_base64(figure)


# The task type's fit figure (models.tasks) -> how to draw it, its title.
FIT_PLOTS = {
    PREDICTED_AGAINST_ACTUAL: (predicted_against_actual, "Predicted against actual"),
    CALIBRATION: (calibration, "Calibration"),
}


def gate_heatmap(group: GateGroupWeights) -> str:
    """Task x expert mean gate weight; an expert a task's gate does not weigh is left blank."""
    tasks = list(group.tasks)
    values = np.array([[np.nan if w is None else w for w in group.tasks[t]] for t in tasks], dtype=float)
    figure, axes = plt.subplots(figsize=(0.45 * len(group.experts) + 2.0, 0.4 * len(tasks) + 1.4))
    image = axes.imshow(values, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(np.arange(len(group.experts)), group.experts, rotation=60, ha="right", fontsize=7)
    axes.set_yticks(np.arange(len(tasks)), tasks, fontsize=8)
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                      color="white" if value < 0.5 else "black")
    figure.colorbar(image, ax=axes, label="mean gate weight")
    axes.set_title(f"Gate weights on the eval split ({group.name})", fontsize=10)
    return _png_base64(figure)


def training_curves(curves, key_label: str, stopped_early: bool, best_step) -> str:
    """Loss and key metric against training steps, training and validation; early stopping marked."""
    figure, (loss_axes, metric_axes) = plt.subplots(1, 2, figsize=(8, 3))
    panels = ((loss_axes, "loss", curves.train_loss, curves.val_loss),
              (metric_axes, key_label, curves.train_metric, curves.val_metric))
    for axes, label, train, validation in panels:
        for series, name, color in ((train, "training", "#2e86c1"), (validation, "validation", "#e67e22")):
            if series:
                steps, values = zip(*series)
                axes.plot(steps, values, marker="o" if len(series) < 3 else None, markersize=4,
                          color=color, label=name)
        if stopped_early and best_step is not None:
            axes.axvline(best_step, color="#c0392b", linestyle="--", linewidth=1,
                         label=f"early stop: weights of step {best_step}")
        axes.set_xlabel("training step")
        axes.set_ylabel(label)
        axes.legend(fontsize=7)
    figure.suptitle(f"{curves.task}: training curves", fontsize=10)
    return _png_base64(figure)


def key_metric_history(task: str, key_label: str, models, current_execution_id: int) -> str:
    """The task's overall key metric per evaluated model; blessed filled, pushed starred, this run ringed."""
    shown = [m for m in models if task in m.key_metrics]
    positions = np.arange(len(shown))
    values = [m.key_metrics[task] for m in shown]
    figure, axes = plt.subplots(figsize=(4, 2.6))
    axes.plot(positions, values, color="#999999", linewidth=1)
    for x, model, value in zip(positions, shown, values):
        axes.scatter([x], [value], s=40, zorder=3, color="#1e7e34" if model.blessed else "white",
                     edgecolors="#1e7e34" if model.blessed else "#c0392b")
        if model.pushed:
            axes.scatter([x], [value], s=140, marker="*", zorder=4, color="#f1c40f", edgecolors="#555555")
        if model.execution_id == current_execution_id:
            axes.scatter([x], [value], s=220, zorder=2, facecolors="none", edgecolors="#555555")
    axes.set_xticks(positions, [str(m.model_id) for m in shown], fontsize=7)
    axes.set_xlabel("model (artifact id), oldest first; filled: blessed, ★: pushed", fontsize=7)
    axes.set_ylabel(key_label)
    axes.set_title(f"{task}: {key_label} over the last {len(shown)} models", fontsize=10)
    return _png_base64(figure)
