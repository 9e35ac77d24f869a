"""Cutoffs: the instant "as of" which features are computed, and the windows around it.

Convention (used by every feature, label and KPI function):

* A cutoff is an instant ``C``. Events at or before ``C`` are known; events after it are not.
* An as-of value without a time of day (``"2011-09-10"``, a ``datetime.date``, or a timestamp
  at exactly midnight) means the END of that day: ``2011-09-10 23:59:59.999999``. So "as of
  2011-12-09" includes the orders placed on 2011-12-09, and a label window of 90 days after it
  ends at the end of 2012-03-08.
* A trailing window of ``w`` days is ``(C - w days, C]``; the label window of a horizon ``h``
  is ``(C, C + h days]``.
* "Days since" figures count calendar days between the cutoff's day and the event's day.

Example:
    >>> as_of_instant("2011-09-10")
    Timestamp('2011-09-10 23:59:59.999999')
    >>> as_of_instant("2011-09-10 12:00")
    Timestamp('2011-09-10 12:00:00')
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from forecasting.errors import ForecastingError

END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def as_of_instant(value) -> pd.Timestamp:
    """The cutoff instant for an as-of value (see the module docstring)."""
    if value is None:
        raise ForecastingError("an as-of date is required (e.g. --as-of 2024-06-30)")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ForecastingError(
            f"as-of {value!r} is not a date; write it as YYYY-MM-DD or YYYY-MM-DD HH:MM") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ForecastingError(f"as-of {value!r} is not a date; write it as YYYY-MM-DD")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    date_only = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if date_only or ts == ts.normalize():
        ts = ts.normalize() + END_OF_DAY
    return ts.as_unit("us")


def cutoff_day(cutoff: pd.Timestamp) -> pd.Timestamp:
    """Midnight of the cutoff's day (for day counts)."""
    return pd.Timestamp(cutoff).normalize()


def window_start(cutoff: pd.Timestamp, days: int) -> pd.Timestamp:
    """Exclusive start of the trailing window ``(C - days, C]``."""
    return pd.Timestamp(cutoff) - pd.Timedelta(days=days)


def label_window(cutoff: pd.Timestamp, horizon_days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The label window ``(C, C + horizon]`` as (exclusive start, inclusive end)."""
    return pd.Timestamp(cutoff), pd.Timestamp(cutoff) + pd.Timedelta(days=horizon_days)


def monthly_cutoffs(last: pd.Timestamp, n: int, step_days: int = 30) -> list[pd.Timestamp]:
    """``n`` cutoffs ending at ``last``, ``step_days`` apart, oldest first."""
    last = as_of_instant(last)
    return [last - pd.Timedelta(days=step_days * k) for k in range(n - 1, -1, -1)]
