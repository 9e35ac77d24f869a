"""Purchase features: recency, frequency and spend over trailing windows, order rhythm, trend,
breadth and returns. Inputs are already cut at the cutoff (see :mod:`forecasting.features.build`).

Definitions (C = cutoff instant, windows are ``(C - w days, C]``):

* ``days_since_last_order``: calendar days from the last completed order's day to C's day.
* ``orders_<w>d`` / ``amount_<w>d``: completed orders (distinct order ids) and their amount.
* ``avg_order_value_365d``: ``amount_365d / orders_365d``.
* ``orders_lifetime``, ``amount_lifetime``: all completed orders at or before C.
* ``order_gap_mean_days`` / ``order_gap_std_days``: mean and standard deviation of the days
  between consecutive distinct order days in the last 365 days (NaN with fewer than 2 or 3
  order days).
* ``order_overdue_days``: ``days_since_last_order - order_gap_mean_days`` (positive = the next
  order is late by that many days); ``order_overdue_ratio``: ``days_since_last_order /
  order_gap_mean_days``.
* ``amount_trend_90d``: ``(a - b) / (a + b)`` where a is the amount in the last 90 days and b in
  the 90 days before: -1 = stopped buying, 0 = flat, +1 = new spend (NaN when both are 0).
* ``distinct_products_365d``: products in completed lines.
* ``return_rate_365d``: returned lines / completed lines in the last 365 days.
* ``tenure_days``: days from the customer's start (``created_at`` when known at C, else the
  first order) to C.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.features._common import (
    count_by, customer_codes, days_before, min_by, ratio, sum_by,
)
from forecasting.schema import (
    AMOUNT, CREATED_AT, CUSTOMER_ID, ORDER_DATE, ORDER_ID, PRODUCT_ID, STATUS,
    STATUS_COMPLETED, STATUS_RETURNED,
)

WINDOWS = (30, 90, 365)


def purchase_features(lines: pd.DataFrame, orders: pd.DataFrame, customers: pd.Index,
                      cutoff: pd.Timestamp, created_at: pd.Series | None = None,
                      ) -> dict[str, np.ndarray]:
    """Purchase features per customer in ``customers`` (arrays aligned with it).

    ``lines``: order lines of known customers at or before the cutoff (any status);
    ``orders``: one row per completed order (``order_table``) at or before the cutoff.
    """
    n = len(customers)
    day = cutoff.normalize()
    code = customer_codes(orders[CUSTOMER_ID], customers)
    keep = code >= 0
    code, od = code[keep], orders[ORDER_DATE][keep]
    amount = orders[AMOUNT].to_numpy(dtype=float)[keep]
    ago = days_before(day, od)
    when = od.to_numpy()
    out: dict[str, np.ndarray] = {}
    out["days_since_last_order"] = min_by(code, ago, n)
    for w in WINDOWS:
        m = when > np.datetime64(cutoff - pd.Timedelta(days=w))
        out[f"orders_{w}d"] = count_by(code, n, m)
        out[f"amount_{w}d"] = sum_by(code, amount, n, m)
    out["avg_order_value_365d"] = ratio(out["amount_365d"], out["orders_365d"])
    out["orders_lifetime"] = count_by(code, n)
    out["amount_lifetime"] = sum_by(code, amount, n)
    prev = (when > np.datetime64(cutoff - pd.Timedelta(days=180))) & ~(
        when > np.datetime64(cutoff - pd.Timedelta(days=90)))
    a, b = out["amount_90d"], sum_by(code, amount, n, prev)
    out["amount_trend_90d"] = ratio(a - b, np.abs(a) + np.abs(b))
    out.update(_gaps(code, ago, when > np.datetime64(cutoff - pd.Timedelta(days=365)), n))
    out["order_overdue_days"] = out["days_since_last_order"] - out["order_gap_mean_days"]
    out["order_overdue_ratio"] = ratio(out["days_since_last_order"], out["order_gap_mean_days"])
    first = _max_by(code, ago, n)  # days since the first order
    if created_at is not None:
        ca = created_at.reindex(customers)
        ca = ca.where(ca <= cutoff)  # a sign-up recorded after the cutoff is not known yet
        first = np.fmax(first, days_before(day, ca))
    out["tenure_days"] = first
    out.update(_breadth_and_returns(lines, customers, cutoff))
    return out


def _max_by(code: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    res = np.full(n, -np.inf)
    np.maximum.at(res, code, values)
    res[np.isinf(res)] = np.nan
    return res


def _gaps(code: np.ndarray, ago: np.ndarray, in_year: np.ndarray, n: int) -> dict:
    """Mean and spread of days between consecutive distinct order days (last 365 days)."""
    c, d = code[in_year].astype(np.int64), ago[in_year].astype(np.int64)
    span = int(d.max()) + 1 if len(d) else 1
    key = np.unique(c * span + (span - 1 - d))  # distinct (customer, day), by customer then time
    c, t = key // span, key % span
    same = np.r_[False, c[1:] == c[:-1]] if len(c) else np.zeros(0, dtype=bool)
    gap = np.diff(t, prepend=0).astype(float)
    gc, g = c[same], gap[same]
    cnt = count_by(gc, n)
    s1, s2 = sum_by(gc, g, n), sum_by(gc, g * g, n)
    mean = ratio(s1, cnt)
    with np.errstate(invalid="ignore"):
        var = np.where(cnt > 1, (s2 - cnt * mean ** 2) / np.maximum(cnt - 1, 1), np.nan)
    return {"order_gap_mean_days": mean, "order_gap_std_days": np.sqrt(np.maximum(var, 0))}


def _breadth_and_returns(lines: pd.DataFrame, customers: pd.Index, cutoff) -> dict:
    n = len(customers)
    recent = lines[lines[ORDER_DATE] > cutoff - pd.Timedelta(days=365)]
    code = customer_codes(recent[CUSTOMER_ID], customers)
    status = recent[STATUS].to_numpy()
    done = (status == STATUS_COMPLETED) & (code >= 0)
    returned = (status == STATUS_RETURNED) & (code >= 0)
    prod = pd.DataFrame({"c": code[done], "p": recent[PRODUCT_ID].to_numpy()[done]})
    distinct = prod.drop_duplicates()["c"].to_numpy()
    return {
        "distinct_products_365d": count_by(distinct, n),
        "return_rate_365d": np.where(count_by(code[done], n) > 0,
                                     ratio(count_by(code[returned], n),
                                           count_by(code[done], n)), np.nan),
    }


def order_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per completed order: customer, date, amount and (when known) promised and
    delivered dates of its last line. ``lines`` must hold known customers only."""
    done = lines[lines[STATUS] == STATUS_COMPLETED]
    agg = {CUSTOMER_ID: "first", ORDER_DATE: "first", AMOUNT: "sum"}
    for col in ("promised_date", "delivered_date"):
        if col in done:
            agg[col] = "max"
    out = done.groupby(ORDER_ID, sort=False, observed=True).agg(agg)
    if "delivered_date" in done:  # an order with an undelivered line is not delivered yet
        open_lines = done["delivered_date"].isna().groupby(done[ORDER_ID], sort=False).any()
        out.loc[open_lines.reindex(out.index).to_numpy(), "delivered_date"] = pd.NaT
    return out.reset_index()


__all__ = ["purchase_features", "order_table", "WINDOWS", "CREATED_AT"]
