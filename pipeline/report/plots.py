"""The report's figures, drawn with matplotlib (Agg) and returned as inline PNGs."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.config.task_types import CALIBRATION, PREDICTED_AGAINST_ACTUAL  # noqa: E402
from pipeline.results.eval_results import CalibrationBins  # noqa: E402
from pipeline.report.tables import TaskTable, metric_label  # noqa: E402

CALIBRATION_BINS = 10  # a binary task's calibration curve: ten equal-width probability bins


def _png_base64(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def metric_by_slice(table: TaskTable) -> str:
    """Horizontal bars of the key metric per slice; the overall value as a line, the weakest in red."""
    rows = [r for r in table.rows if table.key_metric in r.values]
    figure, axes = plt.subplots(figsize=(5.5, 0.28 * len(rows) + 1.0))
    values = [r.values[table.key_metric] for r in rows]
    colors = ["#555555" if r.slice == "Overall" else
              "#c0392b" if table.weakest is not None and r.slice == table.weakest.slice else "#2e86c1"
              for r in rows]
    positions = np.arange(len(rows))
    axes.barh(positions, values, color=colors)
    axes.set_yticks(positions, [f"{r.slice} (n={r.count})" for r in rows], fontsize=8)
    axes.invert_yaxis()
    if table.overall is not None:
        axes.axvline(table.overall.values[table.key_metric], color="#555555", linestyle="--", linewidth=1)
    axes.set_xlabel(metric_label(table.key_metric))
    axes.set_title(f"{table.task}: {metric_label(table.key_metric)} by slice", fontsize=10)
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


# The task type's fit figure (pipeline.config.task_types) -> how to draw it, its title.
FIT_PLOTS = {
    PREDICTED_AGAINST_ACTUAL: (predicted_against_actual, "Predicted against actual"),
    CALIBRATION: (calibration, "Calibration"),
}
