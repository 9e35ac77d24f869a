"""Point-in-time features: boundary rows, an independent SQL oracle, and the property that
events after the cutoff never change features."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.dataset import Dataset
from forecasting.features import build_features
from forecasting.sample import generate

T = pd.Timestamp


def tiny() -> Dataset:
    """Customer a: regular buyer; b: bought once long ago; c: only AFTER the cutoff.
    Cutoff used below: 2024-03-31 12:00 (explicit time)."""
    orders = pd.DataFrame({
        "order_id": ["a1", "a2", "a3", "a4", "b1", "c1", "a5"],
        "customer_id": ["a", "a", "a", "a", "b", "c", "a"],
        "product_id": ["p", "q", "p", "p", "p", "p", "q"],
        "order_date": [T("2023-04-01"),             # outside the 365-day window? no: exactly
                       # 2024-03-31 12:00 - 365 days = 2023-04-01 12:00 -> 00:00 is OUT
                       T("2024-01-31 12:00"),       # exactly 60 days before the cutoff: in
                       T("2024-03-01 12:00:00.000001"),  # 30 days + a moment: in the 30d window
                       T("2024-03-31 12:00"),       # exactly at the cutoff: IN
                       T("2023-06-01"),
                       T("2024-03-31 12:00:00.000001"),  # a moment after the cutoff: OUT
                       T("2024-04-02")],            # after the cutoff: OUT
        "quantity": [1.0, 2, 3, 4, 5, 6, 7], "amount": [10.0, 20, 30, 40, 50, 60, 70],
        "status": ["completed"] * 7,
        "promised_date": [T("2023-04-03"), T("2024-02-02"), T("2024-03-03"), T("2024-04-02"),
                          T("2023-06-03"), T("2024-04-03"), T("2024-04-04")],
        "delivered_date": [T("2023-04-03"),         # on time
                           T("2024-02-05"),         # 3 days late
                           T("2024-04-01"),         # delivered AFTER the cutoff: unknown at C
                           pd.NaT, T("2023-06-02"), pd.NaT, pd.NaT],
    })
    complaints = pd.DataFrame({
        "complaint_id": ["k1", "k2", "k3"], "customer_id": ["a", "a", "a"],
        "opened_at": [T("2024-03-01"), T("2024-03-20"), T("2024-04-01")],  # k3 after: OUT
        "category": ["quality", "delivery", "quality"],
        "resolved_at": [T("2024-03-05"),          # resolved before C: 4 days
                        T("2024-04-10"),          # resolved AFTER C: open at the cutoff
                        pd.NaT],
    })
    surveys = pd.DataFrame({
        "customer_id": ["a", "a", "a"], "surveyed_at": [T("2024-01-01"), T("2024-03-31 12:00"),
                                                        T("2024-04-01")],
        "csat": [5.0, 2.0, 1.0], "nps": [9.0, 3.0, 0.0],
        "quality": [5.0, 2.0, 1.0], "delivery": [np.nan, 3.0, 1.0],
        "service": [4.0, 4.0, 1.0], "price": [3.0, 3.0, 1.0],
    })
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "created_at": [T("2022-01-01"), pd.NaT, T("2024-04-01")],
                              "region": ["north", "south", None], "employees": ["10", "20", "5"]})
    return Dataset(orders, customers, complaints, surveys)


CUTOFF = "2024-03-31 12:00"


def test_boundary_rows():
    f = build_features(tiny(), CUTOFF)
    assert f.index.tolist() == ["a", "b"]  # c has only orders after the cutoff
    a = f.loc["a"]
    assert a["days_since_last_order"] == 0  # the order exactly at the cutoff counts
    assert a["orders_30d"] == 2 and a["amount_30d"] == 70  # a3 (30 d + a moment) and a4
    assert a["orders_90d"] == 3 and a["orders_365d"] == 3  # a1 is a moment outside 365 d
    assert a["orders_lifetime"] == 4 and a["amount_lifetime"] == 100
    assert a["distinct_products_365d"] == 2
    # order days in 365 d: Jan 31, Mar 1, Mar 31 -> gaps 30 and 30
    assert a["order_gap_mean_days"] == 30 and a["order_gap_std_days"] == 0
    assert a["order_overdue_days"] == -30
    assert a["tenure_days"] == (T("2024-03-31") - T("2022-01-01")).days  # created_at is known
    # fulfilment: a2 delivered 3 days late; a3 delivered after C (unknown); a4 not promised yet
    assert a["on_time_rate_365d"] == 0 and a["delay_mean_days_365d"] == 3
    assert a["late_open_orders"] == 1  # a3 promised Mar 3, not delivered by the cutoff
    # complaints: k3 opened after C is out; k2 resolved after C is open at C
    assert a["complaints_90d"] == 2 and a["complaints_quality_90d"] == 1
    assert a["complaints_open"] == 1
    assert a["complaint_resolution_mean_days_365d"] == 4
    assert a["days_since_last_complaint"] == 11
    # surveys: the one exactly at the cutoff is in, the one after is out
    assert a["csat_last"] == 2 and a["csat_mean_365d"] == 3.5 and a["csat_trend"] == -3
    assert a["nps_last"] == 3 and a["nps_detractor"] == 1
    assert a["delivery_score_mean_365d"] == 3 and a["quality_score_mean_365d"] == 3.5
    b = f.loc["b"]
    assert b["complaints_365d"] == 0 and np.isnan(b["days_since_last_complaint"])
    assert np.isnan(b["csat_last"]) and b["on_time_rate_365d"] == 1
    assert b["tenure_days"] == (T("2024-03-31") - T("2023-06-01")).days  # first order
    assert f["attr_region"].dtype == "category" and f["attr_employees"].dtype == float


def test_a_date_without_time_means_the_end_of_that_day():
    f = build_features(tiny(), "2024-03-31")
    assert f.loc["a", "orders_lifetime"] == 4  # a5 (April 2) is still after the cutoff
    assert "c" in f.index  # c ordered at 12:00:00.000001 on the 31st: within that day


def test_absent_tables_give_missing_features_not_errors():
    d = tiny()
    f = build_features(Dataset(d.orders[["order_id", "customer_id", "product_id", "order_date",
                                         "quantity", "amount", "status"]]), CUTOFF)
    for col in ("complaints_90d", "csat_last", "on_time_rate_365d", "complaints_open"):
        assert f[col].isna().all()
    assert not any(c.startswith("attr_") for c in f.columns)


def test_a_cutoff_before_any_order_gives_no_rows():
    f = build_features(tiny(), "2001-01-01")
    assert f.empty and "days_since_last_order" in f.columns


def test_inputs_are_not_modified():
    d = tiny()
    before = {k: v.copy() for k, v in d.tables().items()}
    build_features(d, CUTOFF)
    for k, v in d.tables().items():
        pd.testing.assert_frame_equal(v, before[k])


@pytest.fixture(scope="module")
def sample():
    return generate(customers=300, products=20, start="2023-01-01", end="2024-06-30", seed=3)


def test_windowed_counts_and_sums_agree_with_sql(sample):
    cutoff = T("2024-03-15 23:59:59.999999")
    f = build_features(sample, "2024-03-15")
    con = duckdb.connect()
    con.register("orders", sample.orders)
    con.register("complaints", sample.complaints)
    con.register("surveys", sample.surveys)
    sql = f"""
    WITH o AS (SELECT order_id, customer_id, min(order_date) d, sum(amount) amt
               FROM orders WHERE status = 'completed' AND customer_id IS NOT NULL
                 AND order_date <= TIMESTAMP '{cutoff}' GROUP BY 1, 2),
    active AS (SELECT DISTINCT customer_id FROM o
               WHERE d > TIMESTAMP '{cutoff}' - INTERVAL 365 DAY)
    SELECT a.customer_id,
      (SELECT count(*) FROM o WHERE o.customer_id = a.customer_id
          AND d > TIMESTAMP '{cutoff}' - INTERVAL 90 DAY) AS orders_90d,
      (SELECT coalesce(sum(amt), 0) FROM o WHERE o.customer_id = a.customer_id
          AND d > TIMESTAMP '{cutoff}' - INTERVAL 365 DAY) AS amount_365d,
      (SELECT date_diff('day', max(d)::DATE, DATE '2024-03-15') FROM o
          WHERE o.customer_id = a.customer_id) AS days_since_last_order,
      (SELECT count(*) FROM complaints k WHERE k.customer_id = a.customer_id
          AND opened_at <= TIMESTAMP '{cutoff}'
          AND opened_at > TIMESTAMP '{cutoff}' - INTERVAL 90 DAY) AS complaints_90d,
      (SELECT count(*) FROM complaints k WHERE k.customer_id = a.customer_id
          AND opened_at <= TIMESTAMP '{cutoff}'
          AND (resolved_at IS NULL OR resolved_at > TIMESTAMP '{cutoff}')) AS complaints_open,
      (SELECT avg(csat) FROM surveys s WHERE s.customer_id = a.customer_id
          AND surveyed_at <= TIMESTAMP '{cutoff}'
          AND surveyed_at > TIMESTAMP '{cutoff}' - INTERVAL 365 DAY) AS csat_mean_365d,
      (SELECT count(DISTINCT product_id) FROM orders l WHERE l.customer_id = a.customer_id
          AND status = 'completed' AND order_date <= TIMESTAMP '{cutoff}'
          AND order_date > TIMESTAMP '{cutoff}' - INTERVAL 365 DAY) AS distinct_products_365d
    FROM active a ORDER BY 1
    """
    oracle = con.execute(sql).df().set_index("customer_id")
    assert f.index.tolist() == oracle.index.tolist()
    for col in oracle.columns:
        np.testing.assert_allclose(f[col].to_numpy(float), oracle[col].to_numpy(float),
                                   rtol=1e-9, equal_nan=True, err_msg=col)


_AFTER = st.datetimes(min_value=pd.Timestamp("2024-03-16").to_pydatetime(),
                      max_value=pd.Timestamp("2025-06-30").to_pydatetime())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_times=st.lists(_AFTER, max_size=8), complaint_times=st.lists(_AFTER, max_size=5),
       survey_times=st.lists(_AFTER, max_size=5), who=st.integers(0, 10_000),
       scores=st.integers(1, 5))
def test_events_after_the_cutoff_never_change_features(sample, order_times, complaint_times,
                                                       survey_times, who, scores):
    before = build_features(sample, "2024-03-15")
    ids = sample.customers["customer_id"].tolist()
    pick = lambda k: ids[(who + 7 * k) % len(ids)]  # noqa: E731
    new_orders = pd.DataFrame({
        "order_id": [f"late{k}" for k in range(len(order_times))],
        "line_no": 0, "customer_id": [pick(k) for k in range(len(order_times))],
        "product_id": sample.orders["product_id"].iloc[0],
        "order_date": pd.to_datetime(order_times), "quantity": 3.0, "amount": 99.0,
        "promised_date": pd.to_datetime(order_times), "delivered_date": pd.NaT,
        "status": "completed"})
    new_complaints = pd.DataFrame({
        "complaint_id": [f"late{k}" for k in range(len(complaint_times))],
        "customer_id": [pick(k) for k in range(len(complaint_times))],
        "opened_at": pd.to_datetime(complaint_times), "category": "quality",
        "severity": "high", "resolved_at": pd.NaT})
    new_surveys = pd.DataFrame({
        "customer_id": [pick(k) for k in range(len(survey_times))],
        "surveyed_at": pd.to_datetime(survey_times), "csat": float(scores), "nps": 0.0,
        "quality": 1.0, "delivery": 1.0, "service": 1.0, "price": 1.0})
    grown = Dataset(
        orders=pd.concat([sample.orders, new_orders], ignore_index=True),
        customers=sample.customers,
        complaints=pd.concat([sample.complaints, new_complaints], ignore_index=True),
        surveys=pd.concat([sample.surveys, new_surveys], ignore_index=True))
    pd.testing.assert_frame_equal(build_features(grown, "2024-03-15"), before)
