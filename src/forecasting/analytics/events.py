"""A customer's history on one page: orders per month, complaints and surveys, as of a date.

The web page's customer view (:mod:`forecasting.api.page`) shows what happened with a
customer, not only the score. :func:`customer_events` makes one long table of it, small
enough to ship in the serving snapshot (one row per customer and month with orders, one row
per complaint, one row per survey), so the service never reads the raw data set.

Columns: ``customer_id``, ``event`` (``orders``, ``complaint`` or ``survey``), ``date``
(month start for ``orders``, the day otherwise), ``orders``, ``revenue`` (orders),
``category``, ``severity``, ``resolution_days`` (complaints; resolution days missing while
open), ``csat``, ``nps`` (surveys). Columns that do not apply to an event are missing.

Example:
    >>> import pandas as pd
    >>> from forecasting.dataset import Dataset
    >>> orders = pd.DataFrame({"order_id": ["o1", "o2", "o3"], "customer_id": ["c1"] * 3,
    ...     "product_id": ["p"] * 3, "order_date": pd.to_datetime(
    ...         ["2024-01-03", "2024-01-20", "2024-03-01"]),
    ...     "quantity": [1, 2, 1], "amount": [10.0, 20.0, 5.0]})
    >>> ev = customer_events(Dataset(orders=orders), "2024-02-28")
    >>> ev[["event", "date", "orders", "revenue"]].values.tolist()
    [['orders', Timestamp('2024-01-01 00:00:00'), 2.0, 30.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.dataset import Dataset
from forecasting.schema import (AMOUNT, CATEGORY, CSAT, CUSTOMER_ID, NPS, OPENED_AT,
                                ORDER_DATE, ORDER_ID, RESOLVED_AT, SEVERITY, STATUS,
                                SURVEYED_AT)

COLUMNS = ["customer_id", "event", "date", "orders", "revenue", "category", "severity",
           "resolution_days", "csat", "nps"]


def customer_events(data: Dataset, as_of, months: int = 24) -> pd.DataFrame:
    """Orders per customer and month, complaints and surveys in the ``months`` before
    ``as_of`` (events after it are left out). Cancelled order lines are not counted;
    returned ones are (as negative amounts when the data records them so)."""
    as_of = pd.Timestamp(as_of)
    start = (as_of - pd.DateOffset(months=months)).to_period("M").to_timestamp()
    parts = [_orders(data.orders, start, as_of)]
    if data.complaints is not None and len(data.complaints):
        parts.append(_complaints(data.complaints, start, as_of))
    if data.surveys is not None and len(data.surveys):
        parts.append(_surveys(data.surveys, start, as_of))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=COLUMNS)
    out = out.reindex(columns=COLUMNS)
    out[CUSTOMER_ID] = out[CUSTOMER_ID].astype(str)
    for col in ("orders", "revenue", "resolution_days", "csat", "nps"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    for col in ("category", "severity"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values([CUSTOMER_ID, "event", "date"], kind="stable").reset_index(drop=True)


def _orders(orders: pd.DataFrame, start, as_of) -> pd.DataFrame:
    o = orders[(orders[ORDER_DATE] >= start) & (orders[ORDER_DATE] <= as_of)]
    if STATUS in o:
        o = o[o[STATUS].astype(str).str.lower() != "cancelled"]
    month = o[ORDER_DATE].dt.to_period("M").dt.to_timestamp()
    g = (o.assign(date=month).groupby([CUSTOMER_ID, "date"], sort=True)
         .agg(orders=(ORDER_ID, "nunique"), revenue=(AMOUNT, "sum")).reset_index())
    return g.assign(event="orders")


def _complaints(c: pd.DataFrame, start, as_of) -> pd.DataFrame:
    c = c[(c[OPENED_AT] >= start) & (c[OPENED_AT] <= as_of)]
    resolved = c[RESOLVED_AT] if RESOLVED_AT in c else pd.Series(pd.NaT, index=c.index)
    resolved = resolved.where(resolved <= as_of)
    days = (resolved - c[OPENED_AT]).dt.total_seconds() / 86400.0
    return pd.DataFrame({
        CUSTOMER_ID: c[CUSTOMER_ID], "event": "complaint", "date": c[OPENED_AT],
        "category": c[CATEGORY].astype(str),
        "severity": c[SEVERITY].astype(str) if SEVERITY in c else None,
        "resolution_days": np.round(days.astype(float), 1)})


def _surveys(s: pd.DataFrame, start, as_of) -> pd.DataFrame:
    s = s[(s[SURVEYED_AT] >= start) & (s[SURVEYED_AT] <= as_of)]
    return pd.DataFrame({
        CUSTOMER_ID: s[CUSTOMER_ID], "event": "survey", "date": s[SURVEYED_AT],
        "csat": s[CSAT], "nps": s[NPS] if NPS in s else np.nan})
