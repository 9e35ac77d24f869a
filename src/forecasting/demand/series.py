"""Demand series from orders: one long table (``unique_id``, ``ds``, ``y``) per product.

How orders become demand (documented choice):

* **completed** lines count their quantity on their order date;
* **returned** lines are *subtracted* in the period of the return's order date (a return is
  demand that did not stick), using the absolute quantity, so a returned line with quantity
  -5 or 5 both remove 5 units;
* **cancelled** lines are excluded (the customer never took the goods);
* net demand per period is clipped at 0 (more returns than sales in a week is not negative
  production need);
* every product gets every period between its first order and the last period of the data
  (gaps are filled with 0: no order means no demand), so a product that stopped selling shows
  its zeros up to today.

Periods are labelled by their start: ``W`` weeks start on Monday (``W-MON``), ``MS`` months
on the 1st, ``D`` days at midnight. The last period is dropped when the data ends before it
is complete (a half week would look like a fall in demand).

Example:
    >>> import pandas as pd
    >>> orders = pd.DataFrame({
    ...     "product_id": ["p", "p", "p"], "quantity": [10.0, 4.0, 3.0],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-16"]),
    ...     "status": ["completed", "returned", "completed"]})
    >>> orders_to_series(orders, freq="W", end="2024-01-21", min_periods=1)["y"].tolist()
    [6.0, 0.0, 3.0]
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.demand import freq as freqs
from forecasting.errors import DataError, Problem
from forecasting.settings import DEFAULT_FREQ
from forecasting.schema import (DS, ORDER_DATE, PRODUCT_ID, QUANTITY, STATUS, STATUS_CANCELLED,
                                STATUS_COMPLETED, STATUS_RETURNED, UNIQUE_ID, Y)

log = logging.getLogger(__name__)


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The start date of the period each date falls in (weeks start on Monday)."""
    return freqs.get(freq).period_start(dates)


def orders_to_series(orders: pd.DataFrame, freq: str = DEFAULT_FREQ, end=None,
                     products: pd.DataFrame | None = None,
                     min_periods: int | None = None) -> pd.DataFrame:
    """Net demand per product and period as a long table, with product attributes.

    ``end`` is the last day covered by the data (default: the last order date); a period
    that is not complete by then is dropped. ``products`` (optional, indexed or keyed by
    ``product_id``) adds attribute columns that global models use. Periods are labelled by
    their start date (``ds``), so weekly output uses ``W-MON`` stamps.

    Every product with a complete period of sales is kept, however young: short and new
    series get forecasts of their own kind (:mod:`forecasting.demand.history`).
    ``min_periods`` (default 1) sets aside, with a warning naming them, products with fewer
    periods.
    """
    fq = freqs.get(freq)
    f = fq.alias
    if f not in freqs.FROM_ORDERS:
        raise DataError([Problem("orders", None, "unsupported frequency", 1,
                                 f"demand series from orders are built for "
                                 f"{', '.join(freqs.FROM_ORDERS)}, not {f}",
                                 f"use --freq {' or '.join(freqs.FROM_ORDERS)}")])
    o = orders[[PRODUCT_ID, ORDER_DATE, QUANTITY] + ([STATUS] if STATUS in orders else [])]
    status = o[STATUS].fillna(STATUS_COMPLETED) if STATUS in o else STATUS_COMPLETED
    qty = o[QUANTITY].astype(float).abs()
    sign = np.where(status == STATUS_RETURNED, -1.0,
                    np.where(status == STATUS_CANCELLED, 0.0, 1.0))
    if len(o) == 0:
        raise DataError([Problem("orders", None, "no orders", 0, "the orders table is empty",
                                 "give at least one season of order history")])
    last_day = pd.Timestamp(end) if end is not None else o[ORDER_DATE].max()
    last_day = last_day.normalize()
    start = period_start(o[ORDER_DATE], f)
    net = pd.DataFrame({UNIQUE_ID: o[PRODUCT_ID].astype(str).values, DS: start.values,
                        Y: qty.values * sign})
    net = net.groupby([UNIQUE_ID, DS], sort=True)[Y].sum().reset_index()
    last_start = period_start(pd.Series([last_day]), f).iloc[0]
    if fq.next_start(last_start) - pd.Timedelta(days=1) > last_day:  # incomplete period
        last_start = period_start(pd.Series([last_start - pd.Timedelta(days=1)]), f).iloc[0]
    net = net[net[DS] <= last_start]
    first = net.groupby(UNIQUE_ID)[DS].min()
    grid_all = fq.range(net[DS].min(), last_start) if len(net) else pd.DatetimeIndex([])
    parts = [pd.DataFrame({UNIQUE_ID: uid, DS: grid_all[grid_all >= t0]})
             for uid, t0 in first.items()]
    if not parts:
        return pd.DataFrame({UNIQUE_ID: [], DS: pd.to_datetime([]), Y: []})
    full = pd.concat(parts, ignore_index=True).merge(net, on=[UNIQUE_ID, DS], how="left")
    full[Y] = full[Y].fillna(0.0).clip(lower=0.0)
    need = 1 if min_periods is None else int(min_periods)
    length = full.groupby(UNIQUE_ID)[DS].size()
    short = length[length < need]
    if len(short):
        log.warning("set aside %d product(s) with less than %d %s periods of history (fewer "
                    "than min_periods; they get no forecast): %s", len(short), need, f,
                    ", ".join(f"{k} ({v})" for k, v in short.head(10).items())
                    + (" ..." if len(short) > 10 else ""))
        full = full[~full[UNIQUE_ID].isin(short.index)].reset_index(drop=True)
        first = first.drop(short.index)
    if products is not None:
        attrs = products.reset_index() if PRODUCT_ID not in products.columns else products
        attrs = attrs.rename(columns={PRODUCT_ID: UNIQUE_ID})
        attrs[UNIQUE_ID] = attrs[UNIQUE_ID].astype(str)
        full = full.merge(attrs.drop_duplicates(UNIQUE_ID), on=UNIQUE_ID, how="left")
    log.info("demand series: %d products x up to %d %s periods (%s to %s)", len(first),
             len(grid_all), f, grid_all.min().date() if len(grid_all) else "-",
             last_start.date())
    return full

