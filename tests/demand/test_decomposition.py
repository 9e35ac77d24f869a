"""The pooled multiplicative decomposition: its parts and where it should win."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.demand.models.baselines import SeasonalNaive
from forecasting.demand.models.decomposition import Decomposition, calendar_keys, centred_mean
from forecasting.demand.panel import Panel


def shared_daily(n=30, years=4, growth=1.05, seed=0, ends=None):
    """Daily counts: level x weekday x month x yearly growth, Poisson noise; every series
    shares the calendar (like one manufacturer's catalogue)."""
    rng = np.random.default_rng(seed)
    T = 364 * years
    ends = ends if ends is not None else ["2019-12-31"] * n
    ys, last = [], []
    for i in range(n):
        d = pd.date_range(end=ends[i], periods=T, freq="D")
        dow = np.array([0.8, 0.9, 0.95, 1.0, 1.05, 1.2, 1.1])[d.day_of_week]
        mon = 1 + 0.3 * np.sin(2 * np.pi * (d.month.values - 1) / 12)
        lam = (5 + 3 * i) * dow * mon * growth ** (np.arange(T) / 364)
        ys.append(rng.poisson(lam).astype(float))
        last.append(d[-1])
    return Panel(np.array([f"s{i}" for i in range(n)]), np.vstack(ys),
                 np.array(last, dtype="datetime64[ns]"), "D")


@pytest.mark.parametrize("width", [5, 12, 364, 365])
def test_centred_mean_matches_pandas(width):
    y = np.random.default_rng(1).normal(10, 2, (3, 800))
    y[1, :40] = np.nan  # a shorter series: windows touching NaN are NaN
    got = centred_mean(y, width)
    for i in range(3):
        s = pd.Series(y[i])
        if width % 2:
            want = s.rolling(width, center=True).mean()
        else:  # 2 x width: average of two adjacent width-means, centred
            want = s.rolling(width).mean().rolling(2).mean().shift(-width // 2)
        np.testing.assert_allclose(got[i], want.to_numpy(), equal_nan=True, rtol=1e-9)


def test_calendar_keys_follow_each_series_own_dates():
    p = Panel(np.array(["a", "b"]), np.ones((2, 3)),
              np.array(["2024-01-07", "2024-01-08"], dtype="datetime64[ns]"), "D")  # Sun, Mon
    (dow, _), (month, _) = calendar_keys(p, np.array([0, 1]))
    assert dow.tolist() == [[6, 0], [0, 1]]
    assert month.tolist() == [[0, 0], [0, 0]]


def test_beats_seasonal_naive_and_recovers_the_calendar():
    p = shared_daily()
    h = 90
    train, actual = p.truncate(h), p.y[:, -h:]
    model = Decomposition().fit(train)
    f = model.predict(h)
    base = SeasonalNaive().forecast(train, h)
    assert np.mean(np.abs(actual - f)) < 0.8 * np.mean(np.abs(actual - base))
    dow = model.factors_[0]
    # weekday indices relative to Monday: the pattern the data were made with
    want = np.array([0.8, 0.9, 0.95, 1.0, 1.05, 1.2, 1.1])
    np.testing.assert_allclose(dow / dow[0], want / want[0], rtol=0.03)
    assert model.growth_ == pytest.approx(1.05, abs=0.02)
    assert abs(f.sum() / actual.sum() - 1) < 0.03  # no bias


def test_series_ending_on_other_dates_and_short_series():
    ends = ["2019-12-31"] * 10 + ["2019-11-30"] * 10
    p = shared_daily(n=20, ends=ends)
    p.y[0, :-200] = np.nan  # a product younger than a year: no indices from it, still forecast
    f = Decomposition().forecast(p, 30)
    assert f.shape == (20, 30) and np.isfinite(f).all() and (f >= 0).all()
    assert f[0].mean() > 0


def test_weekly_and_monthly_panels():
    rng = np.random.default_rng(0)
    t = np.arange(156)
    wk = 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 52)) + rng.normal(0, 3, (5, 156))
    p = Panel(np.array(list("abcde")), wk,
              np.array(["2023-12-31"] * 5, dtype="datetime64[ns]"), "W")
    f = Decomposition().forecast(p, 12)
    assert f.shape == (5, 12) and (f > 0).all()
    yearly = Panel(np.array(["a"]), np.array([[1.0, 2.0, 3.0]]),
                   np.array(["2023-01-01"], dtype="datetime64[ns]"), "YS")
    assert Decomposition().forecast(yearly, 2).shape == (1, 2)


def test_growth_is_bounded():
    y = np.vstack([np.r_[np.full(12, 1.0), np.full(12, 100.0)]])
    p = Panel(np.array(["a"]), y, np.array(["2023-12-01"], dtype="datetime64[ns]"), "MS")
    m = Decomposition(max_growth=1.5).fit(p)
    assert m.growth_ == 1.5


def test_a_period_that_never_sold_does_not_zero_a_forecast():
    """January never sold in the years the indices come from; a January sale in the last
    months must not divide by a zero index (it once made the whole forecast 0)."""
    t = np.arange(36)
    y = np.vstack([np.where(t % 12 == 0, 0.0, 10.0 + i) for i in range(3)])
    y[0, 33] = 5.0  # the last January
    p = Panel(np.array(["a", "b", "c"]), y,
              np.array(["2023-12-01"] * 3, dtype="datetime64[ns]"), "MS")
    m = Decomposition().fit(p)
    f = m.predict(3)
    assert np.isfinite(m.level_).all() and m.level_[0] < 20
    assert f[0, 0] < 0.1 * f[0, 1]           # January stays near 0
    assert 8 < f[0, 1] < 13                  # February is about the usual 10


def test_a_young_product_is_not_extrapolated_from_half_a_year_back():
    """Growth is applied from the centre of what a series has: a product two months old
    gets about the same forecast as an old one at the same recent level."""
    t = np.arange(48)
    old = 100 * 1.2 ** (t / 12)
    young = np.full(48, np.nan)
    young[-2:] = old[-2:]
    p = Panel(np.array(["old", "young"]), np.vstack([old, young]),
              np.array(["2023-12-01"] * 2, dtype="datetime64[ns]"), "MS")
    f = Decomposition().forecast(p, 3)
    assert f[1, 0] == pytest.approx(old[-1] * 1.2 ** (1 / 12), rel=0.02)


def two_shapes(seed: int = 0) -> pd.DataFrame:
    """Monthly demand of three categories: 'garden' (8 series of 4 years, peak in summer),
    'heat' (5 series of 4 years, peak in winter: the opposite shape), 'misc' (2 series of
    4 years, too few for indices of its own); each has 2 short series of 20 months."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp("2023-12-01")
    rows = []
    shapes = {"garden": lambda m: 1 + 0.6 * np.cos(2 * np.pi * (m - 7) / 12),
              "heat": lambda m: 1 + 0.6 * np.cos(2 * np.pi * (m - 1) / 12),
              "misc": lambda m: 1 + 0.3 * np.cos(2 * np.pi * (m - 4) / 12)}
    for cat, n_full in (("garden", 8), ("heat", 5), ("misc", 2)):
        for k in range(n_full + 2):
            T = 48 if k < n_full else 20
            ds = pd.date_range(end=end, periods=T, freq="MS")
            lam = (20 + 5 * k) * shapes[cat](ds.month.values)
            rows.append(pd.DataFrame({"unique_id": f"{cat}{k}", "ds": ds, "category": cat,
                                      "y": rng.poisson(lam).astype(float)}))
    return pd.concat(rows, ignore_index=True)


def test_a_category_with_its_own_seasonal_shape_gets_its_own_indices():
    from forecasting.demand.models.decomposition import CategoryDecomposition, own_categories

    df = two_shapes()
    p = Panel.from_long(df, "MS", ["category"])
    assert sorted(own_categories(p)) == ["garden", "heat"]   # misc: 2 full series, too few
    by_cat = CategoryDecomposition().forecast(p, 12)
    pooled = Decomposition().forecast(p, 12)
    months = pd.date_range("2024-01-01", periods=12, freq="MS").month.values
    winter = np.cos(2 * np.pi * (months - 1) / 12)
    short_heat = np.flatnonzero(np.isin(p.ids, ["heat5", "heat6"]))
    for i in short_heat:  # 20 months: its own history cannot give it a season
        assert np.corrcoef(by_cat[i], winter)[0, 1] > 0.95   # the category's shape
        assert np.corrcoef(pooled[i], winter)[0, 1] < 0      # the panel's is garden-like
    misc = np.flatnonzero(p.static["category"].to_numpy() == "misc")
    np.testing.assert_allclose(by_cat[misc], pooled[misc])   # the whole panel's indices


def test_short_series_choose_the_category_indices_where_they_backtest_better():
    from forecasting.demand.pipeline import _candidates, DemandConfig, forecast

    df = two_shapes(seed=1)
    res = forecast(df, horizon=6, freq="MS", progress=False,
                   candidates=["mean", "theta", "decomposition", "decomposition_category"])
    by_history = res.model.choice.describe()
    assert "decomposition_category" in by_history["short"]
    assert res.group_metrics.loc["short", "backtest_smape"] < 20
    # offered by default only when some category has enough full-history series
    p = Panel.from_long(df, "MS", ["category"])
    assert "decomposition_category" in _candidates(DemandConfig(horizon=6), p)
    assert "decomposition_category" not in _candidates(DemandConfig(horizon=6),
                                                       Panel.from_long(df, "MS"))
