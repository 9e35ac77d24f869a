"""customer_events: a customer's orders per month, complaints and surveys as of a date."""

from __future__ import annotations

import pandas as pd

from forecasting.analytics.events import COLUMNS, customer_events
from forecasting.dataset import Dataset

T = pd.Timestamp


def _data() -> Dataset:
    orders = pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c1"],
        "product_id": ["p1", "p2", "p1", "p1", "p1", "p1"],
        "order_date": [T("2024-01-31"), T("2024-01-31"),  # one order, two lines
                       T("2024-02-01"),                    # next month
                       T("2024-02-10"),                    # cancelled: not counted
                       T("2024-02-29"),                    # on the as-of day: counted
                       T("2024-03-01")],                   # after as-of: left out
        "quantity": [1, 2, 1, 5, 1, 1], "amount": [10.0, 5.0, 7.0, 50.0, 3.0, 99.0],
        "status": ["completed", "completed", "completed", "cancelled", "completed",
                   "completed"]})
    complaints = pd.DataFrame({
        "complaint_id": ["k1", "k2", "k3"], "customer_id": ["c1", "c1", "c2"],
        "opened_at": [T("2024-02-01"), T("2024-02-20"), T("2024-03-02")],
        "resolved_at": [T("2024-02-04 12:00"), T("2024-03-05"), pd.NaT],  # k2 open at as-of
        "category": ["quality", "delivery", "price"]})
    surveys = pd.DataFrame({"customer_id": ["c2"], "surveyed_at": [T("2024-01-15")],
                            "csat": [2.0], "nps": [3.0]})
    return Dataset(orders=orders, complaints=complaints, surveys=surveys)


def test_orders_per_month_complaints_and_surveys_as_of_a_date():
    ev = customer_events(_data(), "2024-02-29")
    assert list(ev.columns) == COLUMNS
    orders = ev[ev["event"] == "orders"]
    got = {(r.customer_id, f"{r.date:%Y-%m}"): (r.orders, r.revenue)
           for r in orders.itertuples()}
    assert got == {("c1", "2024-01"): (1.0, 15.0), ("c1", "2024-02"): (1.0, 7.0),
                   ("c2", "2024-02"): (1.0, 3.0)}
    comp = ev[ev["event"] == "complaint"].set_index("category")
    assert list(comp.index) == ["quality", "delivery"]  # k3 is after the as-of date
    assert comp.loc["quality", "resolution_days"] == 3.5
    assert pd.isna(comp.loc["delivery", "resolution_days"])  # still open on the as-of date
    surv = ev[ev["event"] == "survey"]
    assert surv[["customer_id", "csat", "nps"]].values.tolist() == [["c2", 2.0, 3.0]]


def test_window_and_absent_tables():
    data = _data()
    ev = customer_events(Dataset(orders=data.orders), "2024-02-29", months=1)
    assert set(ev["event"]) == {"orders"}
    assert ev["date"].min() == T("2024-01-01")  # the window starts on a month start
    assert customer_events(Dataset(orders=data.orders), "2023-01-01").empty
