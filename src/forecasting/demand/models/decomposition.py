"""Classical multiplicative decomposition with seasonal indices pooled across the panel.

Many products of one manufacturer share their calendar: the same weekday pattern, the same
busy and quiet months. Estimating those indices per series from a few noisy years wastes
data; pooling them over every series of the panel gives them with very little noise, and
each series keeps its own level and the panel's growth. The model is

    y[i, t] ~ level[i] * growth ** (years since the level) * prod_f index_f[key_f(t)]

fitted in three steps (all in numpy, a fraction of a second for thousands of series):

1. **trend** per series: the centred moving average over one year (a ``2 x Y`` average for
   an even year length ``Y``: 364 days, 52 weeks, 12 months), so the trend at a date is the
   mean of the year around it and does not absorb the season;
2. **seasonal indices**, pooled: the ratio of demand to that trend by calendar key
   (weekday and month for daily data; week of the year for weekly; month for monthly;
   quarter for quarterly), fitted jointly by iterative proportional fitting (the Poisson
   maximum-likelihood estimate of a product of factors) over the last ``years`` years;
3. **level and growth**: each series' level is its demand over the last year divided by the
   seasonal indices of those periods (centred half a year before the origin, or half its
   history for a younger product); the panel's growth is the
   ratio of the summed levels of the last year to the year before (over series with both),
   kept within ``max_growth`` either way, and extrapolated to each forecast date.

Series shorter than a year contribute no indices but get forecasts (their level from what
they have, the panel's growth). It is a global-pooling model that refits in milliseconds, so
it is refitted on whatever history it is given (``is_global`` is False). Whether pooling
suits a panel (it does not when series have different seasonal shapes) is for the
backtest to say, like every candidate.

Example:
    >>> import numpy as np, pandas as pd
    >>> from forecasting.demand.panel import Panel
    >>> t = np.arange(48)
    >>> season = 1 + 0.5 * np.cos(2 * np.pi * t / 12)
    >>> y = np.vstack([10 * season, 30 * season])
    >>> p = Panel(np.array(["a", "b"]), y,
    ...           np.array(["2023-12-01"] * 2, dtype="datetime64[ns]"), "MS")
    >>> np.round(Decomposition().forecast(p, 3), 1).tolist()
    [[15.0, 14.3, 12.5], [45.0, 43.0, 37.5]]
"""

from __future__ import annotations

import numpy as np

from forecasting.demand import freq as freqs
from forecasting.demand.history import peer_keys
from forecasting.demand.models.base import Forecaster, nonneg
from forecasting.demand.panel import Panel, period_dates


def calendar_keys(panel: Panel, rel: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Seasonal keys of the periods ``rel`` (0 = last observation) of every series:
    ``[(codes (n, len(rel)), number of codes), ...]``; none for yearly data."""
    n = panel.n
    rows = np.repeat(np.arange(n), len(rel))
    d = period_dates(panel, rows, np.tile(rel, n))
    keys = freqs.get(panel.freq).calendar_codes(d)
    return [(np.asarray(k, dtype=np.int64).reshape(n, len(rel)), m) for k, m in keys]


def centred_mean(y: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` periods (``2 x width`` when even), NaN where
    the window is not complete."""
    n, T = y.shape
    out = np.full(y.shape, np.nan)
    z = np.nan_to_num(y)
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(z, axis=1)], axis=1)
    bad = np.concatenate([np.zeros((n, 1)), np.cumsum(np.isnan(y), axis=1)], axis=1)
    half = width // 2
    if width % 2:
        if T < width:
            return out
        s = c[:, width:] - c[:, :-width]
        nb = bad[:, width:] - bad[:, :-width]
        out[:, half:T - half] = np.where(nb == 0, s / width, np.nan)
        return out
    if T < width + 1:
        return out
    # 2 x width: the width+1 periods around t, the two ends with half weight
    s = c[:, width + 1:] - c[:, :-(width + 1)]
    ends = z[:, :T - width] + z[:, width:]
    nb = bad[:, width + 1:] - bad[:, :-(width + 1)]
    out[:, half:T - half] = np.where(nb == 0, (s - ends / 2) / width, np.nan)
    return out


MIN_INDEX = 1e-3  # a period that never sells keeps a tiny index, never 0 (no division by 0)


class Decomposition(Forecaster):
    """Pooled multiplicative decomposition (see the module docstring)."""

    name = "decomposition"
    pooled = True

    def __init__(self, years: int = 4, iterations: int = 10, max_growth: float = 1.5):
        self.years = years
        self.iterations = iterations
        self.max_growth = max_growth

    def fit(self, panel: Panel) -> Decomposition:
        Y = freqs.long_season_length(panel.freq)
        y = panel.y[:, -max(Y * self.years, 1):]
        T = y.shape[1]
        keys = calendar_keys(panel, np.arange(-T + 1, 1)) if Y > 1 else []
        trend = centred_mean(y, Y) if Y > 1 else np.full(y.shape, np.nan)
        ok = np.isfinite(trend) & np.isfinite(y)
        factors = [np.ones(m) for _, m in keys]
        if ok.any():
            yv, tv = y[ok], trend[ok]
            kv = [k[ok] for k, _ in keys]
            for _ in range(self.iterations):
                for j, (f, m) in enumerate(zip(factors, [m for _, m in keys])):
                    other = np.ones_like(tv)
                    for i2, f2 in enumerate(factors):
                        if i2 != j:
                            other *= f2[kv[i2]]
                    num = np.bincount(kv[j], weights=yv, minlength=m)
                    den = np.bincount(kv[j], weights=tv * other, minlength=m)
                    new = np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)
                    seen = den > 0
                    mean = new[kv[j]].mean()  # indices average 1 over the fitted periods
                    factors[j] = np.where(seen, new / mean if mean > 0 else new, 1.0)
        factors = [np.maximum(f, MIN_INDEX) for f in factors]
        season = np.ones(y.shape)
        for (k, _), f in zip(keys, factors):
            season *= f[k]
        level = _level(y[:, -Y:], season[:, -Y:])
        prev = (_level(y[:, -2 * Y:-Y], season[:, -2 * Y:-Y]) if T >= 2 * Y
                else np.full(panel.n, np.nan))
        both = np.isfinite(level) & np.isfinite(prev)
        growth = 1.0
        if both.any() and prev[both].sum() > 0:
            growth = float(level[both].sum() / prev[both].sum())
        self.growth_ = float(np.clip(growth, 1 / self.max_growth, self.max_growth))
        self.level_ = np.nan_to_num(level)
        # the level is the mean of the observed part of the last year: its centre is half of
        # that before the end (a product younger than a year has it nearer the end)
        self.centre_ = (np.minimum(np.sum(~np.isnan(y[:, -Y:]), axis=1), Y) - 1) / 2
        self.factors_ = factors
        self.year_ = Y
        self.panel_ = panel
        return self

    def predict(self, h: int) -> np.ndarray:
        Y = self.year_
        season = np.ones((self.panel_.n, h))
        if self.factors_:
            keys = calendar_keys(self.panel_, np.arange(1, h + 1))
            for (k, _), f in zip(keys, self.factors_):
                season *= f[k]
        years_ahead = (self.centre_[:, None] + np.arange(1, h + 1)[None]) / max(Y, 1)
        return nonneg(self.level_[:, None] * self.growth_ ** years_ahead * season)


def _level(y: np.ndarray, season: np.ndarray) -> np.ndarray:
    """Seasonally adjusted level per row: observed demand over the seasonal indices of the
    observed periods (the Poisson maximum-likelihood level); NaN for a row with nothing."""
    obs = ~np.isnan(y)
    den = np.sum(np.where(obs, season, 0.0), axis=1)
    num = np.nansum(y, axis=1)
    return np.where(obs.any(axis=1) & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)


MIN_CATEGORY_FULL = 4  # full-history series a category needs to get indices of its own


class CategoryDecomposition(Forecaster):
    """The decomposition with seasonal indices **per product category** (or family: see
    :func:`~forecasting.demand.history.peer_keys`).

    A category with at least ``min_full`` full-history series (two years or more) gets its
    own indices, level and growth, fitted on that category's series alone; its short series
    borrow those indices instead of the whole panel's. Every other series (a category with
    too few full-history series, or no category) gets the whole panel's decomposition. When
    categories differ in seasonal shape (garden furniture peaks in spring, heaters in
    winter), the panel's indices are a blur of both; whether a category's own indices beat
    them is for the backtest to say (the candidate is chosen per history group).

    Example:
        >>> import pandas as pd
        >>> t = np.arange(48)
        >>> summer, winter = 1 + 0.5 * np.cos(2 * np.pi * t / 12), 1 - 0.5 * np.cos(
        ...     2 * np.pi * t / 12)
        >>> y = np.vstack([10 * summer] * 2 + [10 * winter] * 2)
        >>> p = Panel(np.array(["a", "b", "c", "d"]), y,
        ...           np.array(["2023-12-01"] * 4, dtype="datetime64[ns]"), "MS",
        ...           pd.DataFrame({"category": ["garden", "garden", "heat", "heat"]},
        ...                        index=["a", "b", "c", "d"]))
        >>> f = CategoryDecomposition(min_full=2).forecast(p, 1)[:, 0]
        >>> np.round(f, 1).tolist(), np.round(Decomposition().forecast(p, 1)[:, 0], 1).tolist()
        ([15.0, 15.0, 5.0, 5.0], [10.0, 10.0, 10.0, 10.0])
    """

    name = "decomposition_category"
    pooled = True

    def __init__(self, min_full: int = MIN_CATEGORY_FULL, years: int = 4,
                 iterations: int = 10, max_growth: float = 1.5):
        self.min_full = min_full
        self.years = years
        self.iterations = iterations
        self.max_growth = max_growth

    def _make(self) -> Decomposition:
        return Decomposition(self.years, self.iterations, self.max_growth)

    def fit(self, panel: Panel) -> CategoryDecomposition:
        self.n_ = panel.n
        self.parts_ = [(np.arange(panel.n), self._make().fit(panel))]
        self.own_ = own_categories(panel, self.min_full)
        for key, rows in self.own_.items():
            self.parts_.append((rows, self._make().fit(panel.subset(rows))))
        return self

    def predict(self, h: int) -> np.ndarray:
        out = np.zeros((self.n_, h))
        for rows, model in self.parts_:  # the panel's first, then each category's over it
            out[rows] = model.predict(h)
        return out


def own_categories(panel: Panel, min_full: int = MIN_CATEGORY_FULL) -> dict[str, np.ndarray]:
    """The categories with at least ``min_full`` full-history series (two years or more):
    ``{category: rows}``; empty when the panel has no category or only one."""
    keys = peer_keys(panel.static)
    if keys is None or len(np.unique(keys)) < 2:
        return {}
    year = freqs.long_season_length(panel.freq)
    full = panel.lengths >= 2 * year
    return {str(k): np.flatnonzero(keys == k) for k in np.unique(keys)
            if (full & (keys == k)).sum() >= min_full}
