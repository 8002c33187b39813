"""The quality benchmark's tables: public data, multi-task, one fixed train/eval split each.

Pure pandas/numpy (no TFX). Each dataset is a table, the model inputs (numeric
or categorical), and its tasks. Every dataset has at least two tasks, so the
pipeline trains a real multi-task model:

| dataset | rows | tasks |
| --- | --- | --- |
| ``diabetes`` (scikit-learn, unscaled) | 442 | ``progression`` (regression, the disease progression score, 25-346); ``high_progression`` (binary: progression above 140, about the median) |
| ``breast_cancer`` (scikit-learn) | 569 | ``malignant`` (binary); ``worst_area`` (regression, 185-4254; removed from the inputs) |
| ``breast_cancer_heavy`` | 569 | as ``breast_cancer``, with ``worst_perimeter`` replaced by a heavy-tailed column: 90% zeros, the rest log-normal and rising with the original value |
| ``penguins`` (``palmerpenguins``, rows with a missing value dropped) | 333 | ``body_mass_g`` (regression); ``sex`` (binary, ``male``) |

The synthetic default is the pipeline's own data, read back from its ExampleGen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EVAL_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class BenchTask:
    name: str  # also the label column
    type: str  # regression | binary (multiclass later)
    positive: str | None = None  # a binary label's value meaning 1, when not 0/1


@dataclass
class BenchDataset:
    name: str
    table: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    tasks: list[BenchTask]
    notes: str = ""
    train: pd.DataFrame = field(init=False)
    eval: pd.DataFrame = field(init=False)

    def __post_init__(self):
        self.train, self.eval = split(self.table)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def split(table: pd.DataFrame, eval_fraction: float = EVAL_FRACTION, seed: int = SPLIT_SEED):
    """A fixed random train/eval split (the same for every model)."""
    order = np.random.RandomState(seed).permutation(len(table))
    n_eval = int(round(len(table) * eval_fraction))
    return (table.iloc[order[n_eval:]].reset_index(drop=True),
            table.iloc[order[:n_eval]].reset_index(drop=True))


def _column_name(name: str) -> str:
    return name.strip().replace(" ", "_")


def diabetes() -> BenchDataset:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    table = bunch.data.rename(columns=_column_name)
    table["progression"] = bunch.target.astype(float)
    table["high_progression"] = (bunch.target > 140).astype(int)
    return BenchDataset("diabetes", table, list(bunch.data.columns), [],
                        [BenchTask("progression", "regression"), BenchTask("high_progression", "binary")],
                        "progression and progression > 140")


def breast_cancer() -> BenchDataset:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    table = bunch.data.rename(columns=_column_name)
    table["malignant"] = (bunch.target == 0).astype(int)  # scikit-learn codes malignant as 0
    numeric = [c for c in table.columns if c not in ("worst_area", "malignant")]
    return BenchDataset("breast_cancer", table, numeric, [],
                        [BenchTask("malignant", "binary"), BenchTask("worst_area", "regression")],
                        "malignant; worst_area (not an input)")


def heavy_tailed(values: np.ndarray, seed: int = 1, zero_fraction: float = 0.9,
                 sigma: float = 2.0, scale: float = 1000.0) -> np.ndarray:
    """A heavy-tailed copy of a column: ``zero_fraction`` zeros, the rest log-normal.

    The non-zero values are ``scale * exp(sigma * z)`` with ``z`` the column's
    z-score, so they keep the column's order (and its signal) while spanning
    several orders of magnitude, like a capital-gain column.
    """
    values = np.asarray(values, dtype=float)
    z = (values - values.mean()) / values.std()
    heavy = scale * np.exp(sigma * z)
    zero = np.random.RandomState(seed).rand(len(values)) < zero_fraction
    return np.where(zero, 0.0, heavy).round(2)


def breast_cancer_heavy() -> BenchDataset:
    data = breast_cancer()
    table = data.table.copy()
    table["worst_perimeter"] = heavy_tailed(table["worst_perimeter"].to_numpy())
    return BenchDataset("breast_cancer_heavy", table, data.numeric, [], data.tasks,
                        "breast_cancer with worst_perimeter 90% zeros, the rest log-normal")


def penguins() -> BenchDataset:
    from palmerpenguins import load_penguins

    table = load_penguins().dropna().reset_index(drop=True)
    table["body_mass_g"] = table["body_mass_g"].astype(float)
    return BenchDataset("penguins", table,
                        ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "year"],
                        ["island"],
                        [BenchTask("body_mass_g", "regression"), BenchTask("sex", "binary", positive="male")],
                        "body_mass_g; sex (species is multiclass: later)")


DATASETS = {
    "diabetes": diabetes,
    "breast_cancer": breast_cancer,
    "breast_cancer_heavy": breast_cancer_heavy,
    "penguins": penguins,
}
SYNTHETIC = "synthetic"
ALL = [*DATASETS, SYNTHETIC]


def binary_labels(column: pd.Series, task: BenchTask) -> np.ndarray:
    """0/1 labels of a binary task, as the pipeline encodes them."""
    if task.positive is not None:
        return (column.astype(str).str.strip() == task.positive).to_numpy(dtype=int)
    return column.to_numpy(dtype=int)
