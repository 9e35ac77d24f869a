"""Metric definitions on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.demand import metrics


def test_mase_scale_needs_two_seasons_for_the_seasonal_lag():
    t = np.arange(53, dtype=float)
    year_and_a_week = (10 + t % 3)[None]          # one seasonal difference only at m = 52
    assert metrics.mase_scale(year_and_a_week, 52)[0] == pytest.approx(
        np.mean(np.abs(np.diff(year_and_a_week[0]))))     # falls back to lag 1
    two_years = np.r_[np.arange(52.0), np.arange(52.0) + 2][None]
    assert metrics.mase_scale(two_years, 52)[0] == pytest.approx(2.0)
    assert metrics.mase_scale(np.full((1, 30), 5.0), 12)[0] == 1.0   # constant: 1


def test_msis_rewards_narrow_intervals_that_hold_the_actuals():
    y = np.array([[10.0, 12.0]])
    scale = np.array([1.0])
    tight = metrics.msis(y, y - 1, y + 1, 80, scale)
    wide = metrics.msis(y, y - 5, y + 5, 80, scale)
    missed = metrics.msis(y, y + 1, y + 2, 80, scale)  # width 1, misses by 1: 1 + 2/0.2 * 1
    assert tight == pytest.approx(2.0) and wide == pytest.approx(10.0)
    assert missed == pytest.approx(11.0)
