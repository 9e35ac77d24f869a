"""One contract suite over every forecaster."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.demand.models import REGISTRY, is_pooled, make
from forecasting.demand.models.baselines import SeasonalNaive
from forecasting.demand.panel import Panel

H = 12
FAST = {"lightgbm": {"n_estimators": 60, "n_jobs": 1, "max_rows": 20_000},
        "lightgbm_lean": {"n_estimators": 60, "n_jobs": 1, "max_rows": 20_000}}
SEASONAL_AWARE = ("ses", "holt", "damped", "ets", "theta", "lightgbm")


def _make(name):
    return make(name, H, **FAST.get(name, {}))


def _split(panel: Panel):
    return panel.truncate(H), panel.y[:, -H:]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_contract(name, panel):
    train, _ = _split(panel)
    before = train.y.copy()
    a = _make(name).forecast(train, H)
    b = _make(name).forecast(train, H)
    model = _make(name).fit(train)
    c = model.predict(H)
    assert a.shape == (train.n, H)                   # horizon length
    assert np.isfinite(a).all() and (a >= 0).all()   # never negative
    np.testing.assert_array_equal(a, b)              # deterministic
    np.testing.assert_allclose(a, c)                 # fit-then-predict == one shot
    np.testing.assert_array_equal(before, train.y, err_msg="input mutated")


@pytest.mark.parametrize("name", SEASONAL_AWARE)
def test_beats_seasonal_naive(name, panel):
    train, actual = _split(panel)
    f = _make(name).forecast(train, H)
    base = SeasonalNaive().forecast(train, H)
    assert np.mean(np.abs(actual - f)) < np.mean(np.abs(actual - base))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_never_negative_on_falling_series(name):
    t = np.arange(60, dtype=float)
    y = np.vstack([np.clip(100 - 2 * t, 0, None), np.clip(90 - 1.9 * t, 0, None)])
    p = Panel(np.array(["a", "b"]), y, np.array(["2020-12-01"] * 2, dtype="datetime64[ns]"),
              "MS")
    f = _make(name).forecast(p, H)
    assert (f >= 0).all()


def test_lightgbm_is_direct(panel):
    """Direct multi-step: the forecast of step k does not depend on the horizon asked."""
    train, _ = _split(panel)
    model = _make("lightgbm").fit(train)
    np.testing.assert_allclose(model.predict(4), model.predict(H)[:, :4])
    with pytest.raises(ValueError):
        model.predict(H + 1)


def test_intermittent_classification():
    from forecasting.demand.models.intermittent import classify

    y = np.array([[5, 5, 6, 5, 5, 6, 5, 5.0],       # smooth
                  [0, 0, 0, 4, 0, 0, 0, 4.0],       # intermittent (ADI 4, CV2 0)
                  [0, 0, 0, 1, 0, 0, 0, 40.0],      # lumpy
                  [1, 30, 2, 40, 1, 50, 2, 60.0]])  # erratic
    assert classify(y).tolist() == ["smooth", "intermittent", "lumpy", "erratic"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_per_series_models_see_one_series_at_a_time(name, panel):
    """A model not marked pooled (``is_pooled``; the Spark engine fits it per series bucket)
    gives each series the forecast it gets in the whole panel when fitted on a few of the
    series, on the panel's columns; a pooled one may not (the contract flags which)."""
    train, _ = _split(panel)
    y = train.y.copy()
    y[1, :20] = np.nan  # a younger series: its row is padded in front, as in the panel
    train = Panel(train.ids, y, train.last_ds, train.freq, train.static)
    rows = np.array([1, 3, 4])
    part = Panel(train.ids[rows], train.y[rows], train.last_ds[rows], train.freq,
                 None if train.static is None else train.static.iloc[rows])
    whole = _make(name).forecast(train, H)[rows]
    alone = _make(name).forecast(part, H)
    if not is_pooled(name):
        np.testing.assert_allclose(alone, whole, rtol=1e-12, atol=1e-12)
    elif name in ("decomposition", "lightgbm"):  # pooling shows on this panel
        assert not np.allclose(alone, whole, rtol=1e-6)
