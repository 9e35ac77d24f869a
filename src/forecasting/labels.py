"""Churn labels: what happened AFTER a cutoff. Training code only; the service never imports it.

A customer active at the cutoff C (a completed order in ``(C - lookback, C]``) has churned
when they place no completed order in the label window ``(C, C + horizon]``. A label window
is complete when the data reaches its end: the last order day is at or after ``C + horizon``.

Example:
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "status": ["completed"] * 3,
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-02-15", "2024-01-05"])})
    >>> churn_labels(orders, "2024-01-31", horizon_days=15).to_dict()
    {'a': 0, 'b': 1}
"""

from __future__ import annotations

import pandas as pd

from forecasting.cutoff import as_of_instant, label_window
from forecasting.errors import ForecastingError
from forecasting.schema import CUSTOMER_ID, ORDER_DATE, STATUS, STATUS_COMPLETED


def _completed(orders: pd.DataFrame) -> pd.DataFrame:
    done = orders[orders[CUSTOMER_ID].notna()]
    if STATUS in done:
        done = done[done[STATUS] == STATUS_COMPLETED]
    return done


def churn_labels(orders: pd.DataFrame, cutoff, horizon_days: int = 90,
                 lookback_days: int = 365, require_complete: bool = True) -> pd.Series:
    """1 = churned, 0 = ordered again, per customer active at the cutoff (index customer_id).

    Raises ForecastingError when the data does not reach the end of the label window (unless
    ``require_complete=False``): an incomplete window would label late buyers as churned.
    """
    c = as_of_instant(cutoff)
    start, end = label_window(c, horizon_days)
    done = _completed(orders)
    if require_complete:
        last = done[ORDER_DATE].max()
        if pd.isna(last) or last.normalize() < end.normalize():
            raise ForecastingError(
                f"the label window ({start:%Y-%m-%d}, {end:%Y-%m-%d}] is not complete: the last "
                f"order is on {last:%Y-%m-%d}; use a cutoff on or before "
                f"{latest_complete_cutoff(orders, horizon_days):%Y-%m-%d}")
    when = done[ORDER_DATE]
    active = pd.Index(done.loc[(when > c - pd.Timedelta(days=lookback_days)) & (when <= c),
                               CUSTOMER_ID].unique())
    returned = set(done.loc[(when > start) & (when <= end), CUSTOMER_ID].unique())
    labels = pd.Series([0 if cid in returned else 1 for cid in active], index=active,
                       name="churned", dtype=int)
    labels.index.name = CUSTOMER_ID
    return labels.sort_index()


def latest_complete_cutoff(orders: pd.DataFrame, horizon_days: int) -> pd.Timestamp:
    """The latest cutoff day whose label window is complete: last order day - horizon."""
    last = _completed(orders)[ORDER_DATE].max()
    if pd.isna(last):
        raise ForecastingError("orders has no completed order with a customer id")
    return last.normalize() - pd.Timedelta(days=horizon_days)


def training_cutoffs(orders: pd.DataFrame, horizon_days: int, n: int = 6,
                     step_days: int = 30, holdout=None) -> list[pd.Timestamp]:
    """Up to ``n`` cutoff days, ``step_days`` apart, whose label windows end on or before the
    holdout cutoff (default: the latest complete one), oldest first; cutoffs earlier than
    ``step_days`` after the first order are dropped (no history to learn from)."""
    holdout = (latest_complete_cutoff(orders, horizon_days) if holdout is None
               else as_of_instant(holdout).normalize())
    first = _completed(orders)[ORDER_DATE].min().normalize()
    last_train = holdout - pd.Timedelta(days=horizon_days)
    out = [last_train - pd.Timedelta(days=step_days * k) for k in range(n)]
    out = [c for c in out if c >= first + pd.Timedelta(days=step_days)]
    return sorted(out)
