"""Counts: a non-negative integer per example (visits, clicks, defects), fitted by Poisson log
likelihood on an exponential output, on the counts' own scale; gated on R² as regression is,
and scored by the served-model check with the mean Poisson deviance."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from config.task_kinds import CountKind
from models.tasks.base import register, text_values
from models.tasks.regression import Regression


def mean_poisson_deviance(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Mean of 2·(y·log(y/μ) − (y − μ)) over examples (0 for a perfect rate; y·log(y/μ) is 0 at y = 0).

    NaN without examples, or where a predicted rate is not positive (no Poisson rate)."""
    y, mu = np.asarray(labels, np.float64).ravel(), np.asarray(predictions, np.float64).ravel()
    if not len(y) or np.any(mu <= 0):
        return math.nan
    log_term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(np.mean(2.0 * (log_term - (y - mu))))


@register
class Count(CountKind, Regression):
    """Regression's evaluation (its metrics from sums, the R² gate, the predicted-against-actual
    plot) with the Poisson loss and count labels."""

    keras_loss = "poisson"
    likelihood_scale = 1.0  # the Poisson loss is the count's negative log likelihood (up to a constant)
    report_columns = (("R²", "r2"), ("Poisson deviance", "mean_poisson_deviance"), ("MSE", "mean_squared_error"),
                      ("MAE", "mean_absolute_error"), ("RMSE", "root_mean_squared_error"))
    metric_ranges = {**Regression.metric_ranges, "mean_poisson_deviance": (0.0, math.inf)}
    serving_metric = "mean_poisson_deviance"

    def label_problem(self, values: set[str], positive: Sequence[str] = (),
                      classes: Sequence[str] = ()) -> Optional[str]:
        numbers = super().label_problem(values, positive, classes)
        if numbers is not None:
            return numbers
        bad = {v for v in values if float(v) < 0 or not float(v).is_integer()}
        if bad:
            return (f"holds values that are not counts ({text_values(bad)}); a count task needs "
                    "non-negative whole numbers: use a count column or make the task a regression")
        return None

    def score(self, labels: np.ndarray, predictions: np.ndarray) -> float:
        return mean_poisson_deviance(labels, predictions)
