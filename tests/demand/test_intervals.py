"""Conformal intervals: monotone in the step without ratcheting, and the error scaling chosen
by the out-of-window scaled interval score."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.demand import metrics
from forecasting.demand.backtest import Backtest
from forecasting.demand.intervals import ConformalIntervals, monotone
from forecasting.demand.pipeline import choose_scaling


def test_one_noisy_step_does_not_widen_every_later_step():
    q = np.array([1.0, 1.1, 5.0, 1.2, 1.3, 1.4, 1.5, 1.6])  # step 3 is an outlier
    m = monotone(q, increasing=True)
    assert (np.diff(m) >= 0).all()
    assert m[-1] < 2.5                      # a running maximum would keep 5.0 to the end
    assert np.isclose(m.sum(), q.sum())     # least squares: the level of q is kept
    lo = monotone(-q, increasing=False)
    assert (np.diff(lo) <= 0).all()


def test_intervals_nest_widen_with_the_step_and_are_calibrated():
    rng = np.random.default_rng(0)
    h = 12
    err = rng.normal(0, 1, (4, 500, h)) * np.sqrt(np.arange(1, h + 1))  # spread grows
    ci = ConformalIntervals((80, 95)).fit(err, np.ones((4, 500)))
    lo80, hi80 = ci.q_[80]
    lo95, hi95 = ci.q_[95]
    assert (np.diff(hi80) >= 0).all() and (np.diff(lo80) <= 0).all()
    assert (hi95 >= hi80).all() and (lo95 <= lo80).all()
    fresh = rng.normal(0, 1, (1, 2000, h)) * np.sqrt(np.arange(1, h + 1))
    b = ci.bounds(np.full((2000, h), 100.0), np.ones(2000))
    assert metrics.coverage(100 + fresh[0], *b[80]) == pytest.approx(80, abs=2.5)
    assert metrics.coverage(100 + fresh[0], *b[95]) == pytest.approx(95, abs=1.5)


def _backtest(noise: str, seed: int = 0) -> Backtest:
    """Forecasts with a strong season and levels from 5 to 500; actuals around them with
    noise proportional to the forecast ('mult') or of a fixed size per series ('add')."""
    rng = np.random.default_rng(seed)
    W, n, h = 3, 300, 24
    level = rng.uniform(5, 500, n)
    season = 1 + 0.8 * np.sin(2 * np.pi * np.arange(h) / 12)
    f = np.broadcast_to(level[None, :, None] * season[None, None], (W, n, h)).copy()
    if noise == "mult":
        actual = f * (1 + 0.2 * rng.standard_normal((W, n, h)))
    else:
        actual = f + 0.2 * level[None, :, None] * rng.standard_normal((W, n, h))
    scale = np.broadcast_to(0.2 * level, (W, n)).copy()
    return Backtest(h, actual, {"m": f}, scale, scale.copy(),
                    np.zeros((W, n), bool), np.broadcast_to(level, (W, n)).copy(),
                    [h * (W - w) for w in range(W)])


@pytest.mark.parametrize("noise, want", [("mult", "forecast"), ("add", "series")])
def test_scaling_follows_how_the_errors_behave(noise, want):
    bt = _backtest(noise)
    assert choose_scaling(bt, bt.forecasts["m"], (80, 95)) == want
