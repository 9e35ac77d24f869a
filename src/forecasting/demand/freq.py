"""Supported series frequencies: their season lengths and how to step dates forward.

Frequencies are pandas aliases. Weekly series may be anchored on any weekday (``W`` means
"weeks, anchored on the weekday of the data"); monthly series on month starts (``MS``) or
month ends (``ME``, ``M``).

Example:
    >>> season_length("W"), season_length("MS"), season_length("D")
    (52, 12, 7)
    >>> [str(d.date()) for d in future_dates(pd.Timestamp("2024-01-31"), 2, "ME")]
    ['2024-02-29', '2024-03-31']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import ForecastingError

# canonical alias -> (short season, long season, step)
_FREQS: dict[str, tuple[int, int]] = {
    "D": (7, 364),
    "W": (52, 52),
    "MS": (12, 12),
    "ME": (12, 12),
    "QS": (4, 4),
    "QE": (4, 4),
    "YS": (1, 1),
    "YE": (1, 1),
}
_ALIASES = {"M": "ME", "Q": "QE", "Y": "YE", "A": "YE", "AS": "YS", "B": None}
SUPPORTED = tuple(_FREQS)


def canonical(freq: str) -> str:
    """The canonical alias of ``freq`` (``W-MON`` -> ``W``, ``M`` -> ``ME``)."""
    f = str(freq).strip().upper()
    if f.startswith("W"):
        return "W"
    f = _ALIASES.get(f, f)
    if f not in _FREQS:
        raise ForecastingError(
            f"unknown frequency {freq!r}: use one of {', '.join(SUPPORTED)} "
            "(D daily, W weekly, MS/ME monthly, QS/QE quarterly, YS/YE yearly)")
    return f


def season_length(freq: str) -> int:
    """Periods per seasonal cycle: D 7 (weekday), W 52, MS/ME 12, Q 4, Y 1."""
    return _FREQS[canonical(freq)][0]


def long_season_length(freq: str) -> int:
    """Periods per year-long cycle: D 364 (52 whole weeks), W 52, months 12, quarters 4."""
    return _FREQS[canonical(freq)][1]


# mean calendar days per period (lead times in days -> periods)
_DAYS = {"D": 1.0, "W": 7.0, "MS": 30.4375, "ME": 30.4375, "QS": 91.3125, "QE": 91.3125,
         "YS": 365.25, "YE": 365.25}


def days_per_period(freq: str) -> float:
    """Mean calendar days in one period: D 1, W 7, months 30.4375, quarters 91.3125.

    >>> int(np.ceil(300 / days_per_period("W")))
    43
    """
    return _DAYS[canonical(freq)]


def offset(freq: str) -> pd.DateOffset | pd.Timedelta:
    f = canonical(freq)
    return {
        "D": pd.Timedelta(days=1),
        "W": pd.Timedelta(days=7),
        "MS": pd.offsets.MonthBegin(1),
        "ME": pd.offsets.MonthEnd(1),
        "QS": pd.offsets.QuarterBegin(1, startingMonth=1),
        "QE": pd.offsets.QuarterEnd(1, startingMonth=12),
        "YS": pd.offsets.YearBegin(1),
        "YE": pd.offsets.YearEnd(1),
    }[f]


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` period dates after ``last``."""
    f = canonical(freq)
    if f in ("D", "W"):
        return pd.DatetimeIndex([last + offset(f) * k for k in range(1, h + 1)])
    return pd.date_range(last, periods=h + 1, freq=f)[1:]


def on_grid(ds: pd.Series, freq: str) -> np.ndarray:
    """Boolean mask: is each date a valid period stamp for ``freq`` (ignoring the anchor day
    of weekly data, which is checked per series)."""
    f = canonical(freq)
    d = pd.DatetimeIndex(ds)
    midnight = (d == d.normalize())
    if f in ("D", "W"):
        return np.asarray(midnight)
    if f == "MS":
        return np.asarray(midnight & (d.day == 1))
    if f == "ME":
        return np.asarray(midnight & d.is_month_end)
    if f == "QS":
        return np.asarray(midnight & d.is_quarter_start)
    if f == "QE":
        return np.asarray(midnight & d.is_quarter_end)
    if f == "YS":
        return np.asarray(midnight & d.is_year_start)
    return np.asarray(midnight & d.is_year_end)


def period_index(ds: pd.Series, freq: str) -> np.ndarray:
    """An integer period number for each date (consecutive periods differ by 1)."""
    f = canonical(freq)
    d = pd.DatetimeIndex(ds)
    if f in ("D", "W"):
        days = (d.values.astype("datetime64[D]").astype(np.int64))
        return days if f == "D" else np.floor_divide(days, 7)
    months = d.year.values.astype(np.int64) * 12 + d.month.values - 1
    if f in ("MS", "ME"):
        return months
    if f in ("QS", "QE"):
        return np.floor_divide(months, 3)
    return d.year.values.astype(np.int64)


def infer(ds: pd.Series) -> str:
    """Guess the frequency from the spacing of the dates (median gap)."""
    d = pd.DatetimeIndex(pd.Series(ds).drop_duplicates().sort_values())
    if len(d) < 2:
        raise ForecastingError("cannot infer the frequency from fewer than 2 dates: pass --freq")
    gap = float(np.median(np.diff(d.values).astype("timedelta64[D]").astype(float)))
    if gap <= 1.5:
        return "D"
    if 6 <= gap <= 8:
        return "W"
    if 27 <= gap <= 32:
        return "MS" if (d.day == 1).all() else "ME"
    if 88 <= gap <= 93:
        return "QS" if (d.day == 1).all() else "QE"
    if 360 <= gap <= 367:
        return "YS" if (d.day == 1).all() else "YE"
    raise ForecastingError(
        f"cannot infer the frequency (median gap {gap:g} days): pass --freq, one of "
        f"{', '.join(SUPPORTED)}")
