"""Every KPI on hand-built tables; expected values worked out in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.analytics.kpis import KpiConfig, kpi_table

from analytics_tables import orders_frame


def value(table, kpi, period="2024-01", level="overall", group="all"):
    row = table[(table["period"] == period) & (table["level"] == level)
                & (table["group"] == group) & (table["kpi"] == kpi)]
    assert len(row) == 1, f"{kpi} {period} {level} {group}: {len(row)} rows"
    return row.iloc[0]


def test_every_kpi_on_the_hand_built_month(january_data):
    t = kpi_table(january_data)
    assert value(t, "order_fulfilment_rate_pct")["value"] == pytest.approx(75.0)  # 3 of 4
    assert value(t, "nps")["value"] == pytest.approx(25.0)  # 50 % promoters - 25 % detractors
    assert value(t, "csat_mean")["value"] == pytest.approx(4.0)  # (5 + 4 + 4 + 3) / 4
    assert value(t, "repurchase_rate_pct")["value"] == pytest.approx(100 / 3)  # a of a, b, c
    # 2 complaints over 4 orders; 1 quality, 1 delivery, none of the other categories (a true 0)
    assert value(t, "complaint_rate_per_100_orders")["value"] == pytest.approx(50.0)
    assert value(t, "complaint_rate_per_100_orders_quality")["value"] == pytest.approx(25.0)
    assert value(t, "complaint_rate_per_100_orders_delivery")["value"] == pytest.approx(25.0)
    assert value(t, "complaint_rate_per_100_orders_service")["value"] == 0.0
    assert value(t, "resolution_days_mean")["value"] == pytest.approx(6.0)  # (2 + 10) / 2
    assert value(t, "resolution_days_p90")["value"] == pytest.approx(9.2)  # 2 + 0.9 * 8
    row = value(t, "order_fulfilment_rate_pct")
    assert (row["numerator"], row["denominator"]) == (3.0, 4.0)


def test_retention_without_customers_at_start_is_undefined_not_a_crash(january_data):
    # nobody ordered before January: customers at start = 0 -> empty value with a reason
    t = kpi_table(january_data)
    row = value(t, "retention_rate_pct")
    assert math.isnan(row["value"]) and "no customers at period start" in row["note"]
    assert (row["numerator"], row["denominator"]) == (0.0, 0.0)
    # churn is undefined too (and its 90-day window runs past the data)
    assert math.isnan(value(t, "churn_rate_pct")["value"])
    assert value(t, "nps")["note"] == ""


def test_retention_and_churn_with_a_short_lookback():
    """lookback 30 days, horizon 30 days.

    Customers at start of January = an order in [2 Dec, 1 Jan): x (5 Dec), y (10 Dec) and
    z (2 Dec 00:00, exactly 30 days before 1 Jan: boundary, counts) -> 3.
    Customers at end of January = an order in [2 Jan, 1 Feb): x (15 Jan), w (20 Jan) -> 2.
    New in January: w -> retention (2 - 1) / 3 = 33.3 %.
    Churn: of x, y, z only x ordered in [1 Jan, 31 Jan) -> 2 / 3 = 66.7 %.
    February's churn window [1 Feb, 3 Mar) ends after the last order (5 Feb): undefined.
    """
    orders = orders_frame([
        ("O1", "x", "2023-12-05", 10.0, None, None, "completed"),
        ("O2", "y", "2023-12-10", 10.0, None, None, "completed"),
        ("O3", "z", "2023-12-02", 10.0, None, None, "completed"),  # boundary: start - 30 d
        ("O4", "x", "2024-01-15", 10.0, None, None, "completed"),
        ("O5", "w", "2024-01-20", 10.0, None, None, "completed"),
        ("O6", "y", "2024-01-21", 10.0, None, None, "cancelled"),  # cancelled: no purchase
        ("O7", "x", "2024-02-05", 10.0, None, None, "completed"),
    ])
    t = kpi_table(Dataset(orders), KpiConfig(lookback_days=30, horizon_days=30))
    ret = value(t, "retention_rate_pct")
    assert (ret["numerator"], ret["denominator"]) == (1.0, 3.0)
    assert ret["value"] == pytest.approx(100 / 3)
    assert value(t, "churn_rate_pct")["value"] == pytest.approx(200 / 3)
    feb = value(t, "churn_rate_pct", period="2024-02")
    assert math.isnan(feb["value"]) and "churn window" in feb["note"]
    # December: nobody active before it
    assert math.isnan(value(t, "retention_rate_pct", period="2023-12")["value"])
    # no promised/delivered dates at all: fulfilment is empty and says why
    ful = value(t, "order_fulfilment_rate_pct")
    assert math.isnan(ful["value"]) and "no order with a promised date" in ful["note"]
    # no surveys table, no complaints table
    assert value(t, "nps")["note"] == "no surveys table in the data set"
    assert math.isnan(value(t, "complaint_rate_per_100_orders")["value"])
    assert value(t, "resolution_days_p90")["note"] == "no complaints table in the data set"


def test_customer_level_lists_only_defined_kpis_and_a_true_zero(january_data):
    t = kpi_table(january_data)
    c = t[(t["level"] == "customer") & (t["group"] == "c")]
    # c's only order was late: 0 of 1 on time is a real 0 %, not missing
    assert value(t, "order_fulfilment_rate_pct", level="customer", group="c")["value"] == 0.0
    assert c["value"].notna().all()
    assert "retention_rate_pct" not in set(c["kpi"])  # undefined for c -> no row
    assert value(t, "nps", level="customer", group="a")["value"] == pytest.approx(0.0)  # 10, 3


def test_segment_rows_add_up_to_overall(january_data):
    t = kpi_table(january_data)
    seg = t[(t["level"] == "segment") & (t["kpi"] == "order_fulfilment_rate_pct")]
    assert seg["denominator"].sum() == 4.0 and seg["numerator"].sum() == 3.0
    assert set(seg["group"]) <= {"New", "Promising", "Potential loyalist", "Champions",
                                 "Loyal", "Need attention", "About to sleep", "At risk",
                                 "Cannot lose", "Hibernating", "Lost", "no segment"}


def test_unknown_period_is_a_user_error(january_data):
    with pytest.raises(ForecastingError, match="unknown period"):
        kpi_table(january_data, KpiConfig(period="fortnight"))


def test_input_is_not_modified(january_data):
    before = {k: v.copy() for k, v in january_data.tables().items()}
    kpi_table(january_data)
    for k, v in january_data.tables().items():
        pd.testing.assert_frame_equal(v, before[k])


def test_quarter_periods(january_data):
    t = kpi_table(january_data, KpiConfig(period="quarter", levels=("overall",)))
    assert set(t["period"]) == {"2024Q1"}
    assert value(t, "csat_mean", period="2024Q1")["value"] == pytest.approx(4.0)
