"""Writes data/sample.csv: a small made-up customer table with three labels.

    python data/make_sample.py   # same seed, same file, byte for byte

Inputs: age, visits, tenure_months, balance (numeric), region, device, plan
(categorical). ``balance`` is heavy-tailed (mostly zero, a long log-normal
tail), the kind of column whose ``auto`` transform is ``log``. Labels: spend (regression), purchased (0/1) and churned
("yes"/"no"). Some cells are missing on purpose: empty age and region cells,
and "?" for an unknown tenure or device, as exported tables often have.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

NUM_ROWS = 2000
SEED = 20181
REGIONS = ["north", "south", "east", "west", "central"]
DEVICES = ["mobile", "desktop", "tablet"]
PLANS = ["basic", "plus", "pro"]
COLUMNS = ["age", "visits", "tenure_months", "region", "device", "plan", "balance", "spend", "purchased",
           "churned"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_rows(num_rows: int = NUM_ROWS, seed: int = SEED) -> list[list[str]]:
    rng = np.random.RandomState(seed)
    age = rng.randint(18, 76, num_rows)
    visits = rng.poisson(6, num_rows)
    tenure = np.round(rng.exponential(24, num_rows), 1)
    region = rng.randint(len(REGIONS), size=num_rows)
    device = rng.randint(len(DEVICES), size=num_rows)
    plan = rng.choice(len(PLANS), size=num_rows, p=[0.5, 0.3, 0.2])

    region_effect = np.array([0.2, -0.3, 0.0, 0.4, -0.2])[region]
    spend = (1.0 + 0.15 * visits + np.array([0.0, 0.8, 1.8])[plan] + region_effect
             + 0.01 * (age - 45) + rng.normal(0, 0.3, num_rows))
    purchased = rng.rand(num_rows) < _sigmoid(-3.0 + 0.5 * visits + np.array([0.0, 1.5, -1.0])[device])
    churned = rng.rand(num_rows) < _sigmoid(1.0 - 0.06 * tenure + np.array([0.8, 0.0, -0.8])[plan])

    # Its own generator: the other columns stay as they were before it was added.
    tail = np.random.RandomState(seed + 1)
    balance = np.where(tail.rand(num_rows) < 0.6, 0.0, np.round(tail.lognormal(6, 1.5, num_rows), 2))

    rows = []
    for i in range(num_rows):
        rows.append([
            "" if rng.rand() < 0.04 else str(age[i]),
            str(visits[i]),
            "?" if rng.rand() < 0.03 else f"{tenure[i]:.1f}",
            "" if rng.rand() < 0.03 else REGIONS[region[i]],
            "?" if rng.rand() < 0.02 else DEVICES[device[i]],
            PLANS[plan[i]],
            f"{balance[i]:.2f}",
            f"{spend[i]:.3f}",
            str(int(purchased[i])),
            "yes" if churned[i] else "no",
        ])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(Path(__file__).resolve().parent / "sample.csv", make_rows())
