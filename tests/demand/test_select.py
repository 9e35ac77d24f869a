"""The one-standard-error choice: among ensembles within noise of the best, the largest
(then the lowest error), so the choice does not flip with the number of backtest windows; a
clearly worse member is never averaged in."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.demand import metrics
from forecasting.demand.backtest import Backtest
from forecasting.demand.select import choose, contributions


def _backtest(forecasts: dict, y: np.ndarray) -> Backtest:
    W, n, h = y.shape
    ones = np.ones((W, n))
    return Backtest(h, y, forecasts, ones, ones, np.zeros((W, n), bool), ones,
                    list(range(W)), np.full((W, n), "full"))


def _windows(bt: Backtest, ws: list[int]) -> Backtest:
    return Backtest(bt.h, bt.actual[ws], {k: v[ws] for k, v in bt.forecasts.items()},
                    bt.scale[ws], bt.noise[ws], bt.intermittent[ws], bt.level[ws],
                    [bt.origins[w] for w in ws], bt.history[ws])


def test_a_gain_within_noise_gives_the_same_choice_with_2_and_3_windows():
    """'a' and 'b' have errors of the same size, 99 % correlated: averaging them gains a
    little. The lowest pooled error is the pair with 3 windows and 'b' alone with 2 (the flip
    seen on Store Item); the two are within one standard error, so the choice is the pair
    with both."""
    rng = np.random.default_rng(0)
    y = rng.gamma(4.0, 5.0, (3, 200, 6))
    e1 = rng.normal(0, 0.3, y.shape)
    e2 = 0.99 * e1 + np.sqrt(1 - 0.99 ** 2) * rng.normal(0, 0.3, y.shape)
    a, b = y * (1 + e1).clip(0.1), y * (1 + e2).clip(0.1)
    bt = _backtest({"a": a, "b": b}, y)
    pair = (a + b) / 2
    lowest = {len(ws): min([("a",), ("b",), ("a", "b")], key=lambda k: metrics.smape(
        y[ws], {("a",): a, ("b",): b, ("a", "b"): pair}[k][ws])) for ws in ([0, 1, 2], [1, 2])}
    assert lowest == {3: ("a", "b"), 2: ("b",)}    # the plain minimum flips
    for ws in ([0, 1, 2], [1, 2]):
        assert sorted(choose(_windows(bt, ws), "smape").ensemble) == ["a", "b"]


def test_a_clearly_worse_model_is_not_averaged_in():
    """'c' is three times as noisy as 'a': every mean with it is clearly worse than 'a'."""
    rng = np.random.default_rng(3)
    y = rng.gamma(4.0, 5.0, (3, 200, 6))
    a = y * rng.lognormal(0, 0.1, y.shape)
    c = y * rng.lognormal(0, 0.6, y.shape)
    bt = _backtest({"a": a, "c": c}, y)
    for ws in ([0, 1, 2], [1, 2]):
        assert choose(_windows(bt, ws), "smape").ensemble == ["a"]


@pytest.mark.parametrize("metric", ["smape", "mase", "wape"])
def test_series_contributions_add_up_to_the_metric(metric):
    rng = np.random.default_rng(2)
    y = rng.gamma(2.0, 5.0, (2, 30, 4))
    f = y + rng.normal(0, 3, y.shape)
    y[0, :5] = np.nan          # series without a cell in the first window
    scale = rng.uniform(1, 3, (2, 30))
    cells = np.ones((2, 30), bool)
    got = np.nansum(contributions(y, f, cells, metric, scale))
    want = {"smape": lambda: metrics.smape(y, f), "mase": lambda: metrics.mase(y, f, scale),
            "wape": lambda: metrics.wape(y, f)}[metric]()
    assert got == pytest.approx(want)
