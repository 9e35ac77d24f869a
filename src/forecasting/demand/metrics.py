"""Forecast accuracy metrics over (series x step) arrays; NaN cells are ignored.

* ``smape``  mean of ``200 |y - f| / (|y| + |f|)`` in percent (0 when both are 0) — the M3
  definition
* ``mase``   mean absolute error scaled by the in-sample MAE of the seasonal naive forecast,
  per series, then averaged over series
* ``wape``   ``100 * sum |y - f| / sum |y|``
* ``bias``   ``100 * sum (f - y) / sum |y|`` (positive = over-forecast)
* ``coverage`` percent of actuals inside ``[lo, hi]``
* ``msis``   mean scaled interval score (M4 competition): interval width plus ``2/alpha``
  times how far actuals fall outside it, scaled like MASE; lower is better, and unlike
  coverage alone it rewards narrow intervals that still hold the actuals

Example:
    >>> import numpy as np
    >>> round(smape(np.array([[100.0, 0.0]]), np.array([[110.0, 0.0]])), 3)
    4.762
"""

from __future__ import annotations

import warnings

import numpy as np


def smape(y: np.ndarray, f: np.ndarray) -> float:
    den = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(den > 0, 200.0 * np.abs(y - f) / den, 0.0)
    v = np.where(np.isnan(y) | np.isnan(f), np.nan, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nothing to score: NaN
        return float(np.nanmean(v))


def mase(y: np.ndarray, f: np.ndarray, scale: np.ndarray) -> float:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per = np.nanmean(np.abs(y - f), axis=-1) / scale
        return float(np.nanmean(per))


def wape(y: np.ndarray, f: np.ndarray) -> float:
    ok = ~(np.isnan(y) | np.isnan(f))
    den = np.sum(np.abs(y[ok]))
    return float(100.0 * np.sum(np.abs(y[ok] - f[ok])) / den) if den > 0 else float("nan")


def bias(y: np.ndarray, f: np.ndarray) -> float:
    ok = ~(np.isnan(y) | np.isnan(f))
    den = np.sum(np.abs(y[ok]))
    return float(100.0 * np.sum(f[ok] - y[ok]) / den) if den > 0 else float("nan")


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    ok = ~np.isnan(y)
    return float(100.0 * np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))


def msis(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float,
         scale: np.ndarray) -> float:
    a = 1 - level / 100
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        score = (hi - lo) + 2 / a * ((lo - y) * (y < lo) + (y - hi) * (y > hi))
        per = np.nanmean(score, axis=-1) / scale
        return float(np.nanmean(per))


def mase_scale(y: np.ndarray, m: int) -> np.ndarray:
    """In-sample MAE of the seasonal naive (lag ``m``; lag 1 when too short), per row; 1 when
    that MAE is 0 (a constant series)."""
    s = _lag_mae(y, max(m, 1))
    s = np.where(np.isnan(s), _lag_mae(y, 1), s)
    return np.where(np.isfinite(s) & (s > 0), s, 1.0)


def noise_scale(y: np.ndarray) -> np.ndarray:
    """Typical period-to-period change per row: the in-sample MAE of the naive forecast
    (lag 1); 0 when unknown (a single observation). Unlike the seasonal MASE scale it is
    computed the same way for a series of any length, so it means the same at every
    backtest origin."""
    return np.nan_to_num(_lag_mae(y, 1), nan=0.0)


def _lag_mae(y: np.ndarray, lag: int) -> np.ndarray:
    if y.shape[1] <= lag:
        return np.full(y.shape[0], np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.abs(y[:, lag:] - y[:, :-lag]), axis=1)


def all_metrics(y, f, scale, intervals: dict | None = None, prefix: str = "") -> dict:
    out = {f"{prefix}smape": smape(y, f), f"{prefix}mase": mase(y, f, scale),
           f"{prefix}wape": wape(y, f), f"{prefix}bias": bias(y, f)}
    for level, (lo, hi) in (intervals or {}).items():
        out[f"{prefix}coverage_{level}"] = coverage(y, lo, hi)
    return out
