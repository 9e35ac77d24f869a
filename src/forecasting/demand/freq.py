"""Supported series frequencies: one :class:`Frequency` object per frequency, the only place
that knows a frequency's step, season lengths, days per period, grid and calendar keys.

Frequencies are pandas aliases. Weekly series may be anchored on any weekday (``W`` means
"weeks, anchored on the weekday of the data"); monthly series on month starts (``MS``) or
month ends (``ME``, ``M``). :func:`get` turns any accepted alias into its object; the
module-level functions are shorthands for its attributes.

Example:
    >>> season_length("W"), season_length("MS"), season_length("D")
    (52, 12, 7)
    >>> get("W-MON").days, get("M").alias
    (7.0, 'ME')
    >>> [str(d.date()) for d in future_dates(pd.Timestamp("2024-01-31"), 2, "ME")]
    ['2024-02-29', '2024-03-31']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ForecastingError
from forecasting.settings import ORDER_FREQS


@dataclass(frozen=True)
class Frequency:
    """One frequency: ``alias`` (canonical pandas alias), ``season`` (periods per seasonal
    cycle: the weekday cycle for days), ``year`` (periods per year-long cycle: 364 days, 52
    weeks), ``days`` (mean calendar days per period), ``step_days`` (a fixed step in days, 0
    for calendar months) or ``step_months``, ``end`` (stamps at the period's end),
    ``calendar`` (the seasonal calendar keys of a date: weekday, week, month, quarter),
    ``gap`` (the median spacing in days that :func:`infer` reads as this frequency)."""

    alias: str
    season: int
    year: int
    days: float
    step_days: int = 0
    step_months: int = 0
    end: bool = False
    calendar: tuple[str, ...] = ()
    gap: tuple[float, float] = (0.0, 0.0)

    @property
    def sub_monthly(self) -> bool:
        """Days or weeks: steps of a fixed number of days."""
        return self.step_days > 0

    @property
    def offset(self) -> pd.DateOffset | pd.Timedelta:
        """One period as a pandas offset (a Timedelta for days and weeks)."""
        if self.sub_monthly:
            return pd.Timedelta(days=self.step_days)
        return {"MS": pd.offsets.MonthBegin(1), "ME": pd.offsets.MonthEnd(1),
                "QS": pd.offsets.QuarterBegin(1, startingMonth=1),
                "QE": pd.offsets.QuarterEnd(1, startingMonth=12),
                "YS": pd.offsets.YearBegin(1), "YE": pd.offsets.YearEnd(1)}[self.alias]

    def shift(self, last: np.ndarray, rel: np.ndarray) -> pd.DatetimeIndex:
        """Dates ``rel`` periods after the stamps ``last`` (arrays of the same length)."""
        last = np.asarray(last, dtype="datetime64[ns]")
        rel = np.asarray(rel, dtype=np.int64)
        if self.sub_monthly:
            return pd.DatetimeIndex(last + rel * np.timedelta64(self.step_days, "D"))
        months = last.astype("datetime64[M]").astype(np.int64) + rel * self.step_months
        d = pd.DatetimeIndex(months.astype("datetime64[M]").astype("datetime64[ns]"))
        return d + pd.offsets.MonthEnd(0) if self.end else d

    def future(self, last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
        """The ``h`` period dates after ``last``."""
        return self.shift(np.full(h, np.datetime64(pd.Timestamp(last))), np.arange(1, h + 1))

    def range(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
        """Every period stamp from ``start`` to ``end`` (both on the grid, weeks on the
        weekday of ``start``)."""
        if self.sub_monthly:
            return pd.date_range(start, end, freq=f"{self.step_days}D")
        return pd.date_range(start, end, freq=self.alias)

    def period_start(self, dates: pd.Series) -> pd.Series:
        """The start date of the period each date falls in (weeks start on Monday)."""
        d = pd.to_datetime(dates).dt.normalize()
        if self.step_days == 1:
            return d
        if self.step_days == 7:
            return d - pd.to_timedelta(d.dt.day_of_week, unit="D")
        return d.dt.to_period({1: "M", 3: "Q", 12: "Y"}[self.step_months]).dt.start_time

    def next_start(self, start: pd.Timestamp) -> pd.Timestamp:
        """The start of the period after the one starting at ``start``."""
        if self.sub_monthly:
            return start + pd.Timedelta(days=self.step_days)
        return start + pd.DateOffset(months=self.step_months)

    def on_grid(self, ds) -> np.ndarray:
        """Boolean mask: is each date a valid period stamp (the anchor weekday of weekly
        data is checked per series)."""
        d = pd.DatetimeIndex(ds)
        midnight = np.asarray(d == d.normalize())
        if self.sub_monthly:
            return midnight
        if self.end:
            edge = {1: d.is_month_end, 3: d.is_quarter_end, 12: d.is_year_end}
        else:
            edge = {1: d.day == 1, 3: d.is_quarter_start, 12: d.is_year_start}
        return midnight & np.asarray(edge[self.step_months])

    def period_index(self, ds) -> np.ndarray:
        """An integer period number for each date (consecutive periods differ by 1)."""
        d = pd.DatetimeIndex(ds)
        if self.sub_monthly:
            days = d.values.astype("datetime64[D]").astype(np.int64)
            return np.floor_divide(days, self.step_days)
        months = d.year.values.astype(np.int64) * 12 + d.month.values - 1
        return np.floor_divide(months, self.step_months)

    def calendar_codes(self, d: pd.DatetimeIndex) -> list[tuple[np.ndarray, int]]:
        """The seasonal calendar keys of dates ``d``: ``[(codes from 0, number of codes)]``."""
        codes = {"weekday": lambda: (d.day_of_week.values, 7),
                 "week": lambda: (np.minimum(d.isocalendar().week.to_numpy().astype(int), 52)
                                  - 1, 52),
                 "month": lambda: (d.month.values - 1, 12),
                 "quarter": lambda: (d.quarter.values - 1, 4)}
        return [(np.asarray(c, dtype=np.int64), m)
                for c, m in (codes[k]() for k in self.calendar)]


FREQUENCIES: dict[str, Frequency] = {f.alias: f for f in (
    Frequency("D", 7, 364, 1.0, step_days=1, calendar=("weekday", "month"), gap=(0, 1.5)),
    Frequency("W", 52, 52, 7.0, step_days=7, calendar=("week",), gap=(6, 8)),
    Frequency("MS", 12, 12, 30.4375, step_months=1, calendar=("month",), gap=(27, 32)),
    Frequency("ME", 12, 12, 30.4375, step_months=1, end=True, calendar=("month",),
              gap=(27, 32)),
    Frequency("QS", 4, 4, 91.3125, step_months=3, calendar=("quarter",), gap=(88, 93)),
    Frequency("QE", 4, 4, 91.3125, step_months=3, end=True, calendar=("quarter",),
              gap=(88, 93)),
    Frequency("YS", 1, 1, 365.25, step_months=12, gap=(360, 367)),
    Frequency("YE", 1, 1, 365.25, step_months=12, end=True, gap=(360, 367)),
)}
_ALIASES = {"M": "ME", "Q": "QE", "Y": "YE", "A": "YE", "AS": "YS", "B": None}
SUPPORTED = tuple(FREQUENCIES)
FROM_ORDERS = ORDER_FREQS  # the frequencies demand series are built at from orders


def canonical(freq: str) -> str:
    """The canonical alias of ``freq`` (``W-MON`` -> ``W``, ``M`` -> ``ME``)."""
    f = str(freq).strip().upper()
    if f.startswith("W"):
        return "W"
    f = _ALIASES.get(f, f)
    if f not in FREQUENCIES:
        raise ForecastingError(
            f"unknown frequency {freq!r}: use one of {', '.join(SUPPORTED)} "
            "(D daily, W weekly, MS/ME monthly, QS/QE quarterly, YS/YE yearly)")
    return f


def get(freq: str | Frequency) -> Frequency:
    """The :class:`Frequency` of an alias (any accepted spelling)."""
    return freq if isinstance(freq, Frequency) else FREQUENCIES[canonical(freq)]


def season_length(freq: str) -> int:
    """Periods per seasonal cycle: D 7 (weekday), W 52, MS/ME 12, Q 4, Y 1."""
    return get(freq).season


def long_season_length(freq: str) -> int:
    """Periods per year-long cycle: D 364 (52 whole weeks), W 52, months 12, quarters 4."""
    return get(freq).year


def days_per_period(freq: str) -> float:
    """Mean calendar days in one period: D 1, W 7, months 30.4375, quarters 91.3125.

    >>> int(np.ceil(300 / days_per_period("W")))
    43
    """
    return get(freq).days


def offset(freq: str) -> pd.DateOffset | pd.Timedelta:
    return get(freq).offset


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` period dates after ``last``."""
    return get(freq).future(last, h)


def on_grid(ds: pd.Series, freq: str) -> np.ndarray:
    """Boolean mask: is each date a valid period stamp for ``freq``."""
    return get(freq).on_grid(ds)


def period_index(ds: pd.Series, freq: str) -> np.ndarray:
    """An integer period number for each date (consecutive periods differ by 1)."""
    return get(freq).period_index(ds)


def infer(ds: pd.Series) -> str:
    """Guess the frequency from the spacing of the dates (median gap)."""
    d = pd.DatetimeIndex(pd.Series(ds).drop_duplicates().sort_values())
    if len(d) < 2:
        raise ForecastingError("cannot infer the frequency from fewer than 2 dates: pass --freq")
    gap = float(np.median(np.diff(d.values).astype("timedelta64[D]").astype(float)))
    starts = bool((d.day == 1).all())
    for f in FREQUENCIES.values():
        if f.gap[0] <= gap <= f.gap[1] and (f.sub_monthly or starts != f.end):
            return f.alias
    raise ForecastingError(
        f"cannot infer the frequency (median gap {gap:g} days): pass --freq, one of "
        f"{', '.join(SUPPORTED)}")
