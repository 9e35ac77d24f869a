"""Seasonality test and classical decomposition, vectorised over a right-aligned panel.

The test is the one used by the Theta method in the M3/M4 competitions: a series is
seasonal when its autocorrelation at lag ``m`` exceeds the 90% limit
``1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)`` and it has at least ``3 m`` observations.
Seasonal indices come from the classical decomposition (ratios, or differences, to the
centred moving average of order ``m``), averaged per position in the cycle.

Column ``t`` of a right-aligned panel with ``T`` columns sits at position ``t mod m``; the
``k``-th future period (k = 1, 2, ...) at ``(T - 1 + k) mod m``.
"""

from __future__ import annotations

import warnings

import numpy as np

Z_90 = 1.645


def acf(y: np.ndarray, lags: int) -> np.ndarray:
    """Autocorrelations at lags 1..``lags`` of each row (NaN-padded rows allowed)."""
    x = y - np.nanmean(y, axis=1, keepdims=True)
    x = np.nan_to_num(x)
    den = np.sum(x * x, axis=1)
    den = np.where(den > 0, den, np.nan)
    out = np.empty((y.shape[0], lags))
    for k in range(1, lags + 1):
        out[:, k - 1] = np.sum(x[:, k:] * x[:, :-k], axis=1) / den
    return np.nan_to_num(out)


def is_seasonal(y: np.ndarray, m: int) -> np.ndarray:
    """Boolean per row: seasonal at period ``m`` by the 90% ACF test (and ``n >= 3 m``)."""
    n = np.sum(~np.isnan(y), axis=1)
    if m <= 1 or y.shape[1] < 3 * m:
        return np.zeros(y.shape[0], dtype=bool)
    r = acf(y, m)
    limit = Z_90 * np.sqrt((1 + 2 * np.sum(r[:, :-1] ** 2, axis=1)) / np.maximum(n, 1))
    return (np.abs(r[:, -1]) > limit) & (n >= 3 * m)


def centred_ma(y: np.ndarray, m: int) -> np.ndarray:
    """Centred moving average of order ``m`` (2 x m for even m); NaN where incomplete."""
    n, T = y.shape
    z = np.nan_to_num(y)
    valid = (~np.isnan(y)).astype(float)
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(z, axis=1)], axis=1)
    cv = np.concatenate([np.zeros((n, 1)), np.cumsum(valid, axis=1)], axis=1)
    if T < m + 1:
        return np.full_like(y, np.nan)
    ma = (c[:, m:] - c[:, :-m]) / m              # mean of y[j .. j+m-1], j = 0..T-m
    ok = (cv[:, m:] - cv[:, :-m]) == m
    ma = np.where(ok, ma, np.nan)
    out = np.full_like(y, np.nan)
    if m % 2:
        h = (m - 1) // 2
        out[:, h:h + ma.shape[1]] = ma
    else:
        h = m // 2
        cm = 0.5 * (ma[:, :-1] + ma[:, 1:])      # centred at j + m/2
        out[:, h:h + cm.shape[1]] = cm
    return out


def seasonal_indices(y: np.ndarray, m: int, multiplicative: np.ndarray) -> np.ndarray:
    """Indices per cycle position, shape (n, m): ratios (mean 1) where ``multiplicative``,
    differences (mean 0) elsewhere."""
    n, T = y.shape
    cma = centred_ma(y, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(multiplicative[:, None], y / cma, y - cma)
    ratio[~np.isfinite(ratio)] = np.nan
    pos = np.arange(T) % m
    idx = np.empty((n, m))
    for p in range(m):
        cols = ratio[:, pos == p]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            idx[:, p] = np.nanmean(cols, axis=1) if cols.shape[1] else np.nan
    neutral = np.where(multiplicative, 1.0, 0.0)
    idx = np.where(np.isnan(idx), neutral[:, None], idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        mult = idx / np.mean(idx, axis=1, keepdims=True)
    add = idx - np.mean(idx, axis=1, keepdims=True)
    out = np.where(multiplicative[:, None], mult, add)
    bad = ~np.isfinite(out).all(axis=1) | (multiplicative & (out <= 0).any(axis=1))
    out[bad] = neutral[bad, None]
    return out


def expand(idx: np.ndarray, T: int, h: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-column indices over the ``T`` observed columns and the next ``h`` periods."""
    m = idx.shape[1]
    past = idx[:, np.arange(T) % m]
    future = idx[:, np.arange(T, T + h) % m]
    return past, future


class Deseasonaliser:
    """Test, then take out the season: multiplicative when a seasonal row is positive,
    additive otherwise; non-seasonal rows are left alone. ``mode`` may force
    ``"multiplicative"``, ``"additive"`` or ``"none"`` for seasonal rows."""

    def __init__(self, m: int, mode: str = "auto"):
        self.m = m
        self.mode = mode

    def fit(self, y: np.ndarray) -> Deseasonaliser:
        n = y.shape[0]
        seasonal = is_seasonal(y, self.m) if self.m > 1 else np.zeros(n, bool)
        positive = np.nanmin(y, axis=1) > 0
        if self.mode == "none":
            seasonal = np.zeros(n, bool)
        mult = positive if self.mode in ("auto", "multiplicative") else np.zeros(n, bool)
        if self.mode == "multiplicative":
            seasonal = seasonal & positive
        self.seasonal_ = seasonal
        self.multiplicative_ = mult & seasonal
        if seasonal.any():
            idx = seasonal_indices(y, self.m, self.multiplicative_)
        else:
            idx = np.zeros((n, max(self.m, 1)))
        neutral = np.where(self.multiplicative_, 1.0, 0.0)[:, None]
        self.indices_ = np.where(seasonal[:, None], idx, neutral)
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        past, _ = expand(self.indices_, y.shape[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.multiplicative_[:, None], y / past, y - past)

    def inverse_future(self, f: np.ndarray, T: int) -> np.ndarray:
        _, fut = expand(self.indices_, T, f.shape[1])
        return np.where(self.multiplicative_[:, None], f * fut, f + fut)

    def inverse_past(self, fitted: np.ndarray) -> np.ndarray:
        past, _ = expand(self.indices_, fitted.shape[1])
        return np.where(self.multiplicative_[:, None], fitted * past, fitted + past)
