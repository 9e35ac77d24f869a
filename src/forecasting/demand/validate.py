"""Checks on a long series table (``unique_id``, ``ds``, ``y``) before any model sees it.

Every rule reports all the series that break it (a few ids, the count) and how to fix it, as
one :class:`~forecasting.errors.DataError` listing every problem found:

* missing columns; ``ds`` that does not parse as a date; ``y`` that is not a number
* missing ``y`` (empty cells)
* duplicate timestamps within a series
* dates off the frequency's grid (e.g. the 15th of a month for ``MS``; several weekdays in
  one weekly series)
* series shorter than ``min_length`` observations, *only when the caller asks for a
  minimum*; by default a short series is a warning (it is forecast with the methods of its
  history class, see :mod:`forecasting.demand.history`), not an error
* unknown frequency (a ForecastingError from :mod:`forecasting.demand.freq`)

Gaps (a period with no row) are *repaired* by inserting ``y = 0`` (no order in the period
means no demand) and counted in the returned report; pass ``fill_gaps=False`` to make them
an error instead.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a"] * 3, "ds": ["2024-01", "2024-02", "2024-03"],
    ...                    "y": [1, 2, 3]})
    >>> out, report = validate_series(df, freq="MS", min_length=2)
    >>> report["freq"], len(out)
    ('MS', 3)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.demand.history import FULL, GROUPS, NEW_BELOW, classify
from forecasting.errors import DataError, Problem
from forecasting.schema import DS, UNIQUE_ID, Y

log = logging.getLogger(__name__)

TABLE = "series"


def _ids(ids, limit: int = 5) -> str:
    ids = list(dict.fromkeys(map(str, ids)))
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _rows(df: pd.DataFrame, mask, n: int = 5) -> list[dict]:
    return df.loc[mask].head(n).astype(str).to_dict("records")


def validate_series(df: pd.DataFrame, freq: str | None = None, min_length: int | None = None,
                    fill_gaps: bool = True, id_col: str = UNIQUE_ID, time_col: str = DS,
                    target_col: str = Y) -> tuple[pd.DataFrame, dict]:
    """A clean copy of ``df`` sorted by series and date, and a report of what was repaired.

    The copy has ``unique_id`` as str, ``ds`` as naive datetime, ``y`` as float; other
    columns (product attributes) are kept. ``freq`` is inferred from the dates when None.
    ``min_length`` (None: no minimum) makes series shorter than it an error; without it the
    series shorter than two seasons are named in a warning. The input is not modified.
    """
    problems: list[Problem] = []
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise DataError([Problem(
            TABLE, None, "missing columns", len(missing),
            f"columns {missing} are missing (found {list(df.columns)[:10]})",
            f"a series table needs the columns {id_col}, {time_col}, {target_col}: one row per "
            "series and period")], context="series table")
    out = df.rename(columns={id_col: UNIQUE_ID, time_col: DS, target_col: Y}).copy()
    out[UNIQUE_ID] = out[UNIQUE_ID].astype(str)
    ds = pd.to_datetime(out[DS], errors="coerce", format="mixed")
    bad_ds = ds.isna() & out[DS].notna()
    if bad_ds.any():
        problems.append(Problem(
            TABLE, DS, "unparseable date", int(bad_ds.sum()),
            f"series {_ids(out.loc[bad_ds, UNIQUE_ID])} have dates that do not parse",
            "write dates as YYYY-MM-DD", _rows(df, bad_ds.values)))
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_localize(None)
    out[DS] = ds.astype("datetime64[ns]")
    y = pd.to_numeric(out[Y], errors="coerce")
    bad_y = y.isna() & out[Y].notna() & (out[Y].astype(str).str.strip() != "")
    if bad_y.any():
        problems.append(Problem(
            TABLE, Y, "not a number", int(bad_y.sum()),
            f"series {_ids(out.loc[bad_y, UNIQUE_ID])} have y values that are not numbers",
            "y must be a number (units of demand)", _rows(df, bad_y.values)))
    missing_y = y.isna() & ~bad_y
    if missing_y.any():
        problems.append(Problem(
            TABLE, Y, "missing y", int(missing_y.sum()),
            f"series {_ids(out.loc[missing_y, UNIQUE_ID])} have empty y values",
            "fill them (0 when there was no demand in the period) or drop those rows",
            _rows(df, missing_y.values)))
    missing_ds = out[DS].isna() & ~bad_ds
    if missing_ds.any():
        problems.append(Problem(
            TABLE, DS, "missing date", int(missing_ds.sum()),
            f"series {_ids(out.loc[missing_ds, UNIQUE_ID])} have rows without a date",
            "give every row its period date", _rows(df, missing_ds.values)))
    out[Y] = y.astype(float)
    if problems:
        raise DataError(problems, context="series table")

    dup = out.duplicated([UNIQUE_ID, DS], keep=False)
    if dup.any():
        problems.append(Problem(
            TABLE, DS, "duplicate timestamps", int(dup.sum()),
            f"series {_ids(out.loc[dup, UNIQUE_ID])} have more than one row for the same date",
            "keep one row per series and period (sum the quantities of the period)",
            _rows(out, dup.values)))
    f = freqs.canonical(freq) if freq else freqs.infer(out[DS])
    grid = freqs.on_grid(out[DS], f)
    if not grid.all():
        problems.append(Problem(
            TABLE, DS, f"not on the {f} grid", int((~grid).sum()),
            f"series {_ids(out.loc[~grid, UNIQUE_ID])} have dates that are not {f} period "
            "stamps", f"use period start dates for {f} (or pass the right --freq)",
            _rows(out, ~grid)))
    if f == "W":
        days = out[DS].dt.day_of_week.groupby(out[UNIQUE_ID]).nunique()
        mixed = days[days > 1].index
        if len(mixed):
            problems.append(Problem(
                TABLE, DS, "mixed weekdays", len(mixed),
                f"weekly series {_ids(mixed)} have dates on more than one weekday",
                "stamp every week with the same weekday (e.g. its Monday)"))
    if problems:
        raise DataError(problems, context="series table")

    out = out.sort_values([UNIQUE_ID, DS], kind="stable").reset_index(drop=True)
    period = freqs.period_index(out[DS], f)
    first = pd.Series(period).groupby(out[UNIQUE_ID].values).transform("min").values
    last = pd.Series(period).groupby(out[UNIQUE_ID].values).transform("max").values
    span = pd.Series(last - first + 1, index=out[UNIQUE_ID].values).groupby(level=0).first()
    counts = out.groupby(UNIQUE_ID, sort=True).size()
    gaps = int((span - counts).sum())
    report = {"freq": f, "series": int(len(counts)), "rows": int(len(out)), "gaps_filled": 0}
    if gaps:
        gappy = (span - counts)[span > counts].index
        if not fill_gaps:
            raise DataError([Problem(
                TABLE, DS, "missing periods", gaps,
                f"series {_ids(gappy)} skip {gaps} period(s) in total",
                "add the missing periods (y = 0 when there was no demand)")],
                context="series table")
        out = _fill_gaps(out, f)
        report["gaps_filled"] = gaps
        log.warning("filled %d missing period(s) with y = 0 in %d series (e.g. %s)", gaps,
                    len(gappy), _ids(gappy, 3))
    n = out.groupby(UNIQUE_ID, sort=True).size()
    if min_length is not None:
        need = int(min_length)
        short = n[n < need]
        if len(short):
            examples = ", ".join(f"{i} has {c}" for i, c in short.head(5).items())
            raise DataError([Problem(
                TABLE, UNIQUE_ID, "too short", len(short),
                f"{len(short)} series have fewer than {need} observations "
                f"(require at least {need}: {examples})",
                "drop these series or give more history")], context="series table")
    classes = classify(n.to_numpy(), freqs.season_length(f))
    report["history"] = {g: int((classes == g).sum()) for g in GROUPS}
    young = n[classes != FULL]
    if len(young):
        log.warning("%d of %d series have less than two seasons of %s history (short: "
                    "non-seasonal and pooled-season models; new, under %d observations: "
                    "cold start from similar series), e.g. %s", len(young), len(n), f,
                    NEW_BELOW, ", ".join(f"{i} ({c})" for i, c in young.head(5).items()))
    report["rows"] = int(len(out))
    return out, report


def _fill_gaps(df: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Insert the missing periods of each series with y = 0 (other columns forward-filled)."""
    parts = []
    for uid, g in df.groupby(UNIQUE_ID, sort=True):
        dates = freqs.get(freq).range(g[DS].iloc[0], g[DS].iloc[-1])
        full = g.set_index(DS).reindex(dates)
        full.index.name = DS
        full[Y] = full[Y].fillna(0.0)
        full = full.ffill()
        full[UNIQUE_ID] = uid
        parts.append(full.reset_index())
    return pd.concat(parts, ignore_index=True)[df.columns]


def static_columns(df: pd.DataFrame) -> list[str]:
    """Extra columns that are constant within every series (product attributes)."""
    cols = [c for c in df.columns if c not in (UNIQUE_ID, DS, Y)]
    if not cols:
        return []
    nun = df.groupby(UNIQUE_ID)[cols].nunique(dropna=False).max()
    return [c for c in cols if nun[c] <= 1]
