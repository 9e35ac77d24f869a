"""The churn definition, in one place: who is active at a cutoff and who churned after it.

A customer is **active** at the cutoff C with a completed order in ``(C - lookback, C]``
(:func:`active_customers`); an active customer has **churned** when they place no completed
order in the label window ``(C, C + horizon]`` (:func:`churned`). A label window is complete
when the data reaches its end: the last order day is at or after ``C + horizon``.

Training labels (:func:`churn_labels`), the RFM rules' churn rates
(:mod:`forecasting.analytics.segments`), the churn KPI (:mod:`forecasting.analytics.kpis`,
cutoff = the day before a period starts) and the features' customer rows use these functions.

Example:
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "status": ["completed"] * 3,
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-02-15", "2024-01-05"])})
    >>> churn_labels(orders, "2024-01-31", horizon_days=15).to_dict()
    {'a': 0, 'b': 1}
"""

from __future__ import annotations

import pandas as pd

import numpy as np

from forecasting.cutoff import Cutoff, as_of_instant
from forecasting.errors import ForecastingError
from forecasting.schema import CUSTOMER_ID, ORDER_DATE, STATUS, STATUS_COMPLETED
from forecasting.settings import DEFAULT_CHURN_HORIZON_DAYS, DEFAULT_LOOKBACK_DAYS


def completed(orders: pd.DataFrame) -> pd.DataFrame:
    """Completed orders of known customers: the purchases every definition counts."""
    done = orders[orders[CUSTOMER_ID].notna()]
    if STATUS in done:
        done = done[done[STATUS] == STATUS_COMPLETED]
    return done


def churn_labels(orders: pd.DataFrame, cutoff, horizon_days: int = DEFAULT_CHURN_HORIZON_DAYS,
                 lookback_days: int = DEFAULT_LOOKBACK_DAYS, require_complete: bool = True) -> pd.Series:
    """1 = churned, 0 = ordered again, per customer active at the cutoff (index customer_id),
    sorted by id: :func:`churned` after checking that the data covers the label window.

    Raises ForecastingError when the data does not reach the end of the label window (unless
    ``require_complete=False``): an incomplete window would label late buyers as churned.
    """
    c = Cutoff.of(cutoff)
    window = c.after(horizon_days)
    done = completed(orders)
    if require_complete:
        last = done[ORDER_DATE].max()
        if pd.isna(last) or last.normalize() < window.end.normalize():
            raise ForecastingError(
                f"the label window ({window.start:%Y-%m-%d}, {window.end:%Y-%m-%d}] is not "
                f"complete: the last order is on {last:%Y-%m-%d}; use a cutoff on or before "
                f"{latest_complete_cutoff(orders, horizon_days):%Y-%m-%d}")
    return churned(done, c, horizon_days, lookback_days)


def active_customers(done: pd.DataFrame, cutoff, lookback_days: int) -> pd.Index:
    """Sorted ids of the customers with a completed order in ``(C - lookback, C]``
    (``done`` = :func:`completed` orders)."""
    inside = Cutoff.of(cutoff).trailing(lookback_days).contains(done[ORDER_DATE])
    return pd.Index(np.sort(done.loc[inside, CUSTOMER_ID].unique()), name=CUSTOMER_ID)


def churned(done: pd.DataFrame, cutoff, horizon_days: int, lookback_days: int) -> pd.Series:
    """1 = churned, 0 = ordered again in ``(C, C + horizon]``, per customer active at ``C``
    (``done`` = :func:`completed` orders); no check that the data covers the window."""
    c = Cutoff.of(cutoff)
    active = active_customers(done, c, lookback_days)
    returned = done.loc[c.after(horizon_days).contains(done[ORDER_DATE]), CUSTOMER_ID]
    labels = pd.Series((~active.isin(returned.unique())).astype(int), index=active,
                       name="churned")
    return labels


def latest_complete_cutoff(orders: pd.DataFrame, horizon_days: int) -> pd.Timestamp:
    """The latest cutoff day whose label window is complete: last order day - horizon."""
    last = completed(orders)[ORDER_DATE].max()
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
    first = completed(orders)[ORDER_DATE].min().normalize()
    earliest = first + pd.Timedelta(days=step_days)  # some history to learn from
    last_valid = holdout - pd.Timedelta(days=horizon_days)
    valid = [last_valid - pd.Timedelta(days=step_days * k) for k in range(n_validation)]
    valid = sorted(c for c in valid if c >= earliest)
    if not valid:
        return holdout, [], []
    last_train = valid[0] - pd.Timedelta(days=horizon_days)
    train = [last_train - pd.Timedelta(days=step_days * k) for k in range(n_train)]
    return holdout, valid, sorted(c for c in train if c >= earliest)
