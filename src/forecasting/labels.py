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


def cutoff_plan(orders: pd.DataFrame, horizon_days: int, n_train: int = 6,
                n_validation: int = 1, step_days: int = 30, holdout=None
                ) -> tuple[pd.Timestamp, list[pd.Timestamp], list[pd.Timestamp]]:
    """Holdout, validation and training cutoff days (each list oldest first).

    * holdout: the latest complete cutoff (default), labels ``(h, h + H]``;
    * validation: the ``n_validation`` latest cutoffs ``step_days`` apart whose label
      windows end on or before the holdout cutoff;
    * training: up to ``n_train`` cutoffs ``step_days`` apart, the latest one a whole
      horizon before the earliest validation cutoff, so no training label window overlaps
      a validation label window (a label is only known once its window has passed).

    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "status": ["completed"] * 2,
    ...     "order_date": pd.to_datetime(["2023-01-01", "2024-12-31"])})
    >>> h, v, t = cutoff_plan(o, 90, n_train=2, step_days=30)
    >>> f"{h:%Y-%m-%d}", [f"{c:%Y-%m-%d}" for c in v], [f"{c:%Y-%m-%d}" for c in t]
    ('2024-10-02', ['2024-07-04'], ['2024-03-06', '2024-04-05'])
    """
    holdout = (latest_complete_cutoff(orders, horizon_days) if holdout is None
               else as_of_instant(holdout).normalize())
    first = _completed(orders)[ORDER_DATE].min().normalize()
    earliest = first + pd.Timedelta(days=step_days)  # some history to learn from
    last_valid = holdout - pd.Timedelta(days=horizon_days)
    valid = [last_valid - pd.Timedelta(days=step_days * k) for k in range(n_validation)]
    valid = sorted(c for c in valid if c >= earliest)
    if not valid:
        return holdout, [], []
    last_train = valid[0] - pd.Timedelta(days=horizon_days)
    train = [last_train - pd.Timedelta(days=step_days * k) for k in range(n_train)]
    return holdout, valid, sorted(c for c in train if c >= earliest)
