"""Reasons, actions and visit frequency of the follow-up list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.analytics.followup import (
    ACCOUNT_MANAGER_VISIT, LOGISTICS_REVIEW, NO_ACTION, QUALITY_REVIEW, SALES_CALL,
    reasons_from_features, value_tiers,
)


def features(**cols) -> pd.DataFrame:
    """One row per customer; unset features are NaN (an absent table)."""
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@pytest.mark.parametrize("cols, action, text", [
    # 2 quality complaints in 90 days -> quality review
    (dict(complaints_quality_90d=[2.0]), QUALITY_REVIEW, "2 quality complaint(s) in 90 days"),
    # 60 % on time (threshold 90 %) -> logistics review
    (dict(on_time_rate_365d=[0.6], delay_mean_days_365d=[3.0]), LOGISTICS_REVIEW,
     "60% of deliveries on time in 365 days (mean delay 3.0 days)"),
    # csat last 2.0, trend -2.5 -> earlier mean 4.5 -> account manager visit
    (dict(csat_last=[2.0], csat_trend=[-2.5]), ACCOUNT_MANAGER_VISIT,
     "satisfaction fell from 4.5 to 2.0"),
    # last order 60 days ago, usually every 20 days -> overdue by 40 days -> sales call
    (dict(order_overdue_days=[40.0], order_gap_mean_days=[20.0], order_overdue_ratio=[3.0]),
     SALES_CALL, "reorder overdue by 40 days (usually every 20 days)"),
])
def test_each_reason_maps_to_its_action(cols, action, text):
    out = reasons_from_features(features(**cols)).iloc[0]
    assert out["suggested_action"] == action
    assert out["reasons"] == text


def test_boundaries_and_no_reason():
    f = features(
        on_time_rate_365d=[0.90, 0.8999],  # exactly 90 % on time is fine; just below is not
        order_overdue_days=[13.0, np.nan],  # 13 days overdue is under the 14-day threshold
        order_gap_mean_days=[10.0, np.nan],
    )
    out = reasons_from_features(f)
    assert out.loc["c0", "suggested_action"] == NO_ACTION and out.loc["c0", "reasons"] == ""
    assert out.loc["c1", "suggested_action"] == LOGISTICS_REVIEW


def test_top_reasons_are_ordered_by_severity_and_actions_deduplicated():
    f = features(complaints_quality_90d=[3.0], return_rate_365d=[0.2],
                 on_time_rate_365d=[0.85], nps_detractor=[1.0], nps_last=[4.0])
    out = reasons_from_features(f).iloc[0]
    # quality complaints 1.0 > nps detractor 0.5 > returns 0.4 > late deliveries 0.08
    assert out["reason_codes"] == "quality_complaints, nps_detractor, high_returns"
    assert out["suggested_action"] == f"{QUALITY_REVIEW}; {ACCOUNT_MANAGER_VISIT}"


def test_value_tiers_top_10_and_next_20_percent():
    # 20 customers with revenue 20, 19, ..., 1: top 10 % = 2 customers (A), next 20 % = 4 (B)
    revenue = pd.Series(np.arange(20, 0, -1, dtype=float), index=[f"c{i}" for i in range(20)])
    revenue["zero"] = 0.0  # no revenue: tier C and not counted in the shares
    t = value_tiers(revenue)
    assert t["value_tier"].tolist()[:7] == ["A", "A", "B", "B", "B", "B", "C"]
    assert t.loc["c0", "visit_frequency"] == "visit monthly"
    assert t.loc["zero", "value_tier"] == "C"


def test_followup_with_a_champion_keeps_the_model_reasons(model_scores):
    from analytics_tables import five_customers

    from forecasting.dataset import Dataset
    from forecasting.analytics.followup import followup_list

    fol = followup_list(Dataset(five_customers()), "2024-06-30",
                        churn_scores=model_scores).set_index("customer_id")
    assert fol.loc["k4", "churn_source"] == "model v7"
    assert fol.loc["k4", "model_reasons"] == ("3 quality complaints in 90 days; "
                                              "satisfaction fell from 4.5 to 3.0")
    assert fol.index[0] == "k4"  # 0.9 x 200 is the largest value at risk
    assert {"reasons", "suggested_action", "value_tier"} <= set(fol.columns)
