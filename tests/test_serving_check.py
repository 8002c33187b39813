"""The scores the serving check prints."""

import numpy as np
import pytest

from pipeline.serving_check import auc_score, r2_score


def test_r2():
    y = np.array([1.0, 2.0, 3.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(3, 2.0)) == pytest.approx(0.0)


def test_auc_counts_ordered_pairs_and_ties():
    y = np.array([0, 0, 1, 1])
    assert auc_score(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc_score(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auc_score(y, np.full(4, 0.5)) == 0.5
    assert np.isnan(auc_score(np.zeros(3), np.zeros(3)))
