"""Small helpers shared by the feature modules: per-customer codes and day arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def customer_codes(ids: pd.Series, customers: pd.Index) -> np.ndarray:
    """Position of each id in ``customers`` (-1 when it is not one of them)."""
    return customers.get_indexer(ids)


def days_before(day: pd.Timestamp, ts: pd.Series) -> np.ndarray:
    """Whole calendar days from each timestamp's day to ``day`` (float, NaN where missing)."""
    return ((day - ts.dt.normalize()) / DAY).to_numpy(dtype=float, na_value=np.nan)


def count_by(codes: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Rows per customer code (codes must be >= 0)."""
    if mask is not None:
        codes = codes[mask]
    return np.bincount(codes, minlength=n).astype(float)


def sum_by(codes: np.ndarray, values: np.ndarray, n: int,
           mask: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``values`` per customer code."""
    if mask is not None:
        codes, values = codes[mask], values[mask]
    return np.bincount(codes, weights=values, minlength=n)


def mean_by(codes: np.ndarray, values: np.ndarray, n: int,
            mask: np.ndarray | None = None) -> np.ndarray:
    """Mean of the non-missing ``values`` per customer code; NaN where there are none."""
    keep = ~np.isnan(values)
    if mask is not None:
        keep &= mask
    cnt = count_by(codes, n, keep)
    tot = sum_by(codes, values, n, keep)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def min_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Minimum per code; NaN where a code has no value."""
    out = np.full(n, np.inf)
    np.minimum.at(out, codes, values)
    out[np.isinf(out)] = np.nan
    return out


def last_by(codes: np.ndarray, order: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The value of the latest row (largest ``order``) per code; NaN where none."""
    out = np.full(n, np.nan)
    if len(codes) == 0:
        return out
    idx = np.lexsort((order, codes))
    c = codes[idx]
    last = np.r_[c[1:] != c[:-1], True]
    out[c[last]] = values[idx][last]
    return out


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
