"""Metric definitions on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.demand import metrics


def test_mase_scale_and_noise_scale():
    t = np.arange(53, dtype=float)
    y = (10 + t % 3)[None]                                     # 0,1,2 repeating
    assert metrics.mase_scale(y, 52)[0] == pytest.approx(abs(y[0, 52] - y[0, 0]))  # one lag-52
    assert metrics.mase_scale(y[:, :20], 52)[0] == pytest.approx(4 / 3, rel=0.05)  # lag 1
    lag1 = np.mean(np.abs(np.diff(y[0])))
    assert metrics.noise_scale(y)[0] == pytest.approx(lag1)  # any length: the same lag
    assert metrics.noise_scale(y[:, :20])[0] == pytest.approx(np.mean(np.abs(np.diff(y[0, :20]))))
    assert metrics.mase_scale(np.full((1, 30), 5.0), 12)[0] == 1.0   # constant: 1
    assert metrics.noise_scale(np.array([[np.nan, 3.0]]))[0] == 0.0  # unknown: 0


def test_msis_rewards_narrow_intervals_that_hold_the_actuals():
    y = np.array([[10.0, 12.0]])
    scale = np.array([1.0])
    tight = metrics.msis(y, y - 1, y + 1, 80, scale)
    wide = metrics.msis(y, y - 5, y + 5, 80, scale)
    missed = metrics.msis(y, y + 1, y + 2, 80, scale)  # width 1, misses by 1: 1 + 2/0.2 * 1
    assert tight == pytest.approx(2.0) and wide == pytest.approx(10.0)
    assert missed == pytest.approx(11.0)
