"""Public forecasting data sets -> long series tables (``unique_id``, ``ds``, ``y``) with their
standard train/test splits, for benchmarks and end-to-end tests.

* :func:`m3` — the M3 competition (Makridakis & Hibon 2000) as published in R's Mcomp:
  ``m3_long.parquet`` (``series_id``, ``t``, ``split``, ``value``) and ``m3_meta.parquet``
  (``period``, ``start_year``, ``start_period``). Dates are rebuilt from the start year and
  period; the few series with no known start (``start_year`` below 100) are placed from 1900
  on, which changes nothing but the calendar labels. The split is the official one.
* :func:`store_item` — the Store Item Demand panel (``date``, ``store``, ``item``,
  ``sales``): series ``"<store>_<item>"`` with ``store`` and ``item`` kept as product
  attributes; held out: the days after ``cutoff`` up to ``end`` (by default the last 90 days
  of 2017, the split the benchmark targets are quoted on).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.schema import DS, UNIQUE_ID, Y

_M3_FREQ = {"MONTHLY": "MS", "QUARTERLY": "QS", "YEARLY": "YS"}


def m3(folder: str | Path, period: str = "MONTHLY", n: int | None = None
       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) long tables of the M3 series of ``period``; the first ``n`` series
    (by id) when ``n`` is given."""
    folder = Path(folder)
    if period not in _M3_FREQ:
        raise ValueError(f"period must be one of {sorted(_M3_FREQ)}")
    per_year = freqs.long_season_length(_M3_FREQ[period])
    meta = pd.read_parquet(folder / "m3_meta.parquet")
    meta = meta[meta["period"] == period].sort_values("series_id")
    if n is not None:
        meta = meta.head(n)
    long = pd.read_parquet(folder / "m3_long.parquet",
                           filters=[("series_id", "in", list(meta["series_id"]))])
    df = long.merge(meta[["series_id", "start_year", "start_period"]], on="series_id")
    year = np.where(df["start_year"] < 100, 1900 + df["start_year"], df["start_year"])
    pos = year * per_year + df["start_period"] - 1 + df["t"] - 1
    step = 12 // per_year
    df[DS] = pd.to_datetime(pd.DataFrame({"year": pos // per_year,
                                          "month": (pos % per_year) * step + 1, "day": 1}))
    df = df.rename(columns={"series_id": UNIQUE_ID, "value": Y})
    cols = [UNIQUE_ID, DS, Y]
    train = df[df["split"] == "train"][cols].reset_index(drop=True)
    test = df[df["split"] == "test"][cols].reset_index(drop=True)
    return train, test


def m3_freq(period: str = "MONTHLY") -> str:
    """The pandas frequency of the M3 ``period``."""
    return _M3_FREQ[period]


def store_item(folder: str | Path, cutoff: str = "2017-10-02", end: str = "2017-12-31",
               stores=None, items=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) daily long tables: train up to ``cutoff``, test after it up to ``end``;
    optionally only some ``stores`` / ``items`` (integers)."""
    df = pd.read_parquet(Path(folder) / "train.parquet")
    keep = df["date"] <= pd.Timestamp(end)
    if stores is not None:
        keep &= df["store"].isin(list(stores))
    if items is not None:
        keep &= df["item"].isin(list(items))
    df = df[keep]
    out = pd.DataFrame({UNIQUE_ID: df["store"].astype(str) + "_" + df["item"].astype(str),
                        DS: df["date"].astype("datetime64[ns]"),
                        Y: df["sales"].astype(float),
                        "store": df["store"].astype(str), "item": df["item"].astype(str)})
    cut = pd.Timestamp(cutoff)
    return (out[out[DS] <= cut].reset_index(drop=True),
            out[out[DS] > cut].reset_index(drop=True))
