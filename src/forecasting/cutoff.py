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

:class:`Cutoff` and :class:`Window` carry these conventions: every module that needs "as of"
or a window (labels, features, segments, KPIs, scoring) takes them from here, and the as-of
value given on the command line or in a request is converted once, by :meth:`Cutoff.of`.

Example:
    >>> c = Cutoff.of("2011-09-10")
    >>> c.trailing(30)
    Window(2011-08-11 23:59:59.999999, 2011-09-10 23:59:59.999999]
    >>> c.after(90).end
    Timestamp('2011-12-09 23:59:59.999999')
    >>> as_of_instant("2011-09-10")
    Timestamp('2011-09-10 23:59:59.999999')
    >>> as_of_instant("2011-09-10 12:00")
    Timestamp('2011-09-10 12:00:00')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ForecastingError

END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def as_of_instant(value) -> pd.Timestamp:
    """The cutoff instant for an as-of value (see the module docstring)."""
    if isinstance(value, Cutoff):
        return value.instant
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


@dataclass(frozen=True)
class Window:
    """The time window ``(start, end]``: events after ``start`` and at or before ``end``."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __repr__(self) -> str:
        return f"Window({self.start}, {self.end}]"

    @property
    def days(self) -> float:
        return (self.end - self.start) / pd.Timedelta(days=1)

    def contains(self, when: pd.Series) -> np.ndarray:
        """Boolean mask of the timestamps ``when`` inside the window."""
        return np.asarray((when > self.start) & (when <= self.end))


@dataclass(frozen=True)
class Cutoff:
    """The instant "as of" which something is computed (see the module docstring).

    >>> Cutoff.of("2024-03-01").day, Cutoff.of("2024-03-01").next_day
    (Timestamp('2024-03-01 00:00:00'), Timestamp('2024-03-02 00:00:00'))
    >>> Cutoff.of("2024-03-01").minus(days=1).instant
    Timestamp('2024-02-29 23:59:59.999999')
    """

    instant: pd.Timestamp

    @classmethod
    def of(cls, value) -> Cutoff:
        """The cutoff of an as-of value (a date means the end of that day); a Cutoff as is."""
        return value if isinstance(value, Cutoff) else cls(as_of_instant(value))

    @classmethod
    def before(cls, day) -> Cutoff:
        """The cutoff just before ``day`` starts: the end of the previous day."""
        return cls(as_of_instant(pd.Timestamp(day).normalize() - pd.Timedelta(days=1)))

    @property
    def day(self) -> pd.Timestamp:
        """Midnight of the cutoff's day (day counts are between days)."""
        return self.instant.normalize()

    @property
    def next_day(self) -> pd.Timestamp:
        """Midnight after the cutoff's day."""
        return self.day + pd.Timedelta(days=1)

    def minus(self, days: int) -> Cutoff:
        return Cutoff(self.instant - pd.Timedelta(days=days))

    def trailing(self, days: int) -> Window:
        """The ``days`` before the cutoff: ``(C - days, C]``."""
        return Window(self.instant - pd.Timedelta(days=days), self.instant)

    def after(self, days: int) -> Window:
        """The ``days`` after the cutoff: ``(C, C + days]`` (a label window)."""
        return Window(self.instant, self.instant + pd.Timedelta(days=days))

    @classmethod
    def parse(cls, text: str) -> Cutoff:
        """``--as-of`` on the command line: converted once, an argparse error when wrong."""
        import argparse  # only the command line needs it

        try:
            return cls.of(text)
        except ForecastingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def __str__(self) -> str:
        return f"{self.instant:%Y-%m-%d}" if self.instant == self.day + END_OF_DAY else str(
            self.instant)
