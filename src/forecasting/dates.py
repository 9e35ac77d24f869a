"""Date columns from text: one format per column, given or detected, never a silent mix.

Formats (``--date-format``):

* ``iso``        -- year first: ``2024-01-31``, ``2024-01-31 08:15:00``, ``2024-01-31T08:15Z``,
  also ``2024/1/31`` and ``2024.01.31`` (Excel on a Chinese system); an offset is converted to
  UTC;
* ``dayfirst``   -- ``31/01/2024``, ``31.01.2024``, ``31-01-2024``, optionally ``HH:MM[:SS]``;
* ``monthfirst`` -- ``01/31/2024`` and the like (US exports);
* any strptime pattern, e.g. ``%d %b %Y`` or ``%Y%m%d``.

A given format applies to every date column that is not all ISO (a column written entirely
``2024-01-31`` stays ISO: it cannot be misread). Without a given format each column is
detected on its distinct values: ``iso`` when every value parses so; else ``dayfirst`` or
``monthfirst`` when exactly one of them reads every value.
When both read every value and give different dates (every day is 12 or less), the column is
**ambiguous**: it is an error asking for ``--date-format``, never a guess. When no single format
reads every value but some values need another format (``01/13/2024`` beside ``13/01/2024``), it
is a **mixed** column: an error naming those rows. Values no format reads are unparseable.

Each distinct text is parsed once (a column of a million order lines holds a few thousand
distinct dates).

Example:
    >>> import pandas as pd
    >>> r = parse_dates(pd.Series(["02/01/2024", "13/01/2024"]))
    >>> r.format, r.detected, [f"{d:%Y-%m-%d}" for d in r.values]
    ('dayfirst', True, ['2024-01-02', '2024-01-13'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ISO, DAYFIRST, MONTHFIRST = "iso", "dayfirst", "monthfirst"

_TIME = r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
_YMD = rf"^(?P<y>\d{{4}})(?P<sep>[/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TIME}$"
_XYY = rf"^(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}){_TIME}$"


@dataclass
class DateParse:
    """The parsed column and how: ``format`` used, whether it was ``detected``; masks of rows
    that are ``ambiguous`` (dayfirst and monthfirst both fit and differ) or ``mixed`` (readable
    only with ``other_format``)."""

    values: pd.Series
    format: str | None
    detected: bool
    ambiguous: np.ndarray | None = None
    mixed: np.ndarray | None = None
    other_format: str | None = None


def _from_parts(parts: pd.DataFrame, year: str, month: str, day: str) -> pd.Series:
    cols = {"year": parts[year], "month": parts[month], "day": parts[day],
            "hour": parts["H"].fillna("0"), "minute": parts["M"].fillna("0"),
            "second": parts["S"].fillna("0")}
    num = pd.DataFrame({k: pd.to_numeric(v, errors="coerce") for k, v in cols.items()})
    ok = num.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[us]")
    if ok.any():
        out[ok] = pd.to_datetime(num[ok], errors="coerce").astype("datetime64[us]")
    return out


def _naive(parsed: pd.Series) -> pd.Series:
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[us]")


def _iso(u: pd.Series) -> pd.Series:
    try:
        parsed = _naive(pd.to_datetime(u, errors="coerce", format="ISO8601"))
    except (ValueError, TypeError):  # naive and offset values mixed: read offsets as UTC
        parsed = _naive(pd.to_datetime(u, errors="coerce", format="ISO8601", utc=True))
    rest = parsed.isna()
    if rest.any():  # year first with '/' or '.' (2024/1/31 10:00)
        parts = u[rest].str.extract(_YMD)
        parsed[rest] = _from_parts(parts, "y", "m", "d")
    return parsed


def _xy(u: pd.Series, dayfirst: bool) -> pd.Series:
    parts = u.str.extract(_XYY)
    return _from_parts(parts, "y", "b" if dayfirst else "a", "a" if dayfirst else "b")


def _pattern(u: pd.Series, fmt: str) -> pd.Series:
    return _naive(pd.to_datetime(u, errors="coerce", format=fmt))


def _with(fmt: str, u: pd.Series) -> pd.Series:
    if fmt == ISO:
        return _iso(u)
    if fmt in (DAYFIRST, MONTHFIRST):
        return _xy(u, fmt == DAYFIRST)
    return _pattern(u, fmt)


def parse_dates(s: pd.Series, date_format: str | None = None,
                counts: np.ndarray | None = None) -> DateParse:
    """Parse one column: datetime columns pass through (UTC when zoned); text is read with
    ``date_format`` or the format detected for the column (see the module docstring).

    ``counts`` (optional) says how many rows each value of ``s`` stands for: the Spark engine
    detects a column's format from its distinct values and their counts."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return DateParse(_naive(s), None, False)
    if pd.api.types.is_datetime64_any_dtype(s):
        return DateParse(s, None, False)
    text = s if pd.api.types.is_string_dtype(s) else s.astype("str").where(s.notna())
    codes, uniques = pd.factorize(text)
    u = pd.Series(uniques, dtype="str").str.strip()
    empty = (u == "").to_numpy()

    def rows(mask_u: np.ndarray) -> np.ndarray:  # distinct values -> rows
        return np.append(mask_u, False)[codes]

    def result(parsed_u: pd.Series, fmt: str, detected: bool, **kw) -> DateParse:
        values = np.append(parsed_u.to_numpy(dtype="datetime64[us]"),
                           np.datetime64("NaT", "us"))[codes]
        values[np.append(empty, False)[codes]] = np.datetime64("NaT", "us")
        return DateParse(pd.Series(values, index=s.index), fmt, detected, **kw)

    iso = _iso(u)
    ok_iso = (iso.notna().to_numpy() | empty)
    if ok_iso.all() and date_format in (None, ISO):
        return result(iso, ISO, date_format is None)
    if date_format is not None:
        if ok_iso.all() and ok_iso.any():  # ISO is never ambiguous: a column all in ISO
            return result(iso, ISO, True)  # stays ISO whatever format the others need
        return result(_with(date_format, u), date_format, False)
    dmy, mdy = _xy(u, True), _xy(u, False)
    ok_d, ok_m = dmy.notna().to_numpy() | empty, mdy.notna().to_numpy() | empty
    if ok_d.all() and ok_m.all():
        differ = (dmy != mdy).to_numpy() & ~empty
        if not differ.any():
            return result(dmy, DAYFIRST, True)
        return result(dmy, DAYFIRST, True, ambiguous=rows(differ))
    if ok_d.all() or ok_m.all():
        return result(dmy, DAYFIRST, True) if ok_d.all() else result(mdy, MONTHFIRST, True)
    weights = None if counts is None else np.asarray(counts, dtype=float)[codes >= 0]
    counts = np.bincount(codes[codes >= 0], weights=weights, minlength=len(u))
    ranked = sorted([(int(counts[ok_iso].sum()), 2, ISO, iso, ok_iso),
                     (int(counts[ok_d].sum()), 1, DAYFIRST, dmy, ok_d),
                     (int(counts[ok_m].sum()), 0, MONTHFIRST, mdy, ok_m)],
                    key=lambda x: x[:2], reverse=True)
    (_, _, fmt, parsed, ok), *others = ranked
    mixed, other = np.zeros(len(u), bool), None
    for _, _, ofmt, _, ook in others:
        extra = ook & ~ok & ~mixed
        if extra.any():
            mixed |= extra
            other = other or ofmt
    if mixed.any():
        return result(parsed, fmt, True, mixed=rows(mixed), other_format=other)
    return result(parsed, fmt, True)
