"""Metrics on hand-computed cases; reasons from hand-made contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.churn.metrics import churn_metrics, lift_top_decile
from forecasting.churn.model import risk_bands
from forecasting.churn.reasons import sentence, top_reasons


def test_lift_top_decile_by_hand():
    # 20 customers, 4 churners (base rate 0.2); the top 2 scores are 1 churner + 1 not
    y = np.array([1, 0] + [1, 1, 1] + [0] * 15)
    p = np.array([0.9, 0.8] + [0.5, 0.4, 0.3] + [0.1] * 15)
    assert lift_top_decile(y, p) == pytest.approx(0.5 / 0.2)


def test_metrics_perfect_and_one_class():
    m = churn_metrics(np.array([0, 0, 1, 1]), np.array([0.0, 0.1, 0.9, 1.0]))
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["brier"] == pytest.approx((0 + 0.01 + 0.01 + 0) / 4, abs=1e-6)
    one = churn_metrics(np.array([1, 1]), np.array([0.2, 0.9]))
    assert np.isnan(one["roc_auc"]) and one["base_rate"] == 1.0


def test_risk_bands_boundaries():
    # thresholds belong to the higher band: 0.3 is medium, 0.6 is high
    assert risk_bands(np.array([0.0, 0.2999, 0.3, 0.5999, 0.6, 1.0]), (0.3, 0.6)).tolist() == [
        "low", "low", "medium", "medium", "high", "high"]


ROW = pd.Series({"days_since_last_order": 140.0, "order_gap_mean_days": 30.0,
                 "order_overdue_days": 110.0, "complaints_quality_90d": 2.0,
                 "complaints_delivery_90d": 1.0, "orders_90d": 0.0, "csat_last": 2.0,
                 "csat_trend": -2.5, "nps_detractor": 1.0, "nps_last": 3.0,
                 "amount_trend_90d": -1.0, "csat_mean_365d": np.nan, "attr_tier": "B"})


@pytest.mark.parametrize("feature, text", [
    ("days_since_last_order", "no order for 140 days, usually every 30"),
    ("order_overdue_days", "no order for 140 days, usually every 30"),
    ("complaints_quality_90d", "2 quality complaints in the last 90 days"),
    ("complaints_delivery_90d", "1 delivery complaint in the last 90 days"),
    ("orders_90d", "no orders in the last 90 days"),
    ("csat_trend", "satisfaction fell from 4.5 to 2.0"),
    ("nps_detractor", "a detractor: would recommend us 3 of 10"),
    ("amount_trend_90d", "no spend in the last 90 days after buying in the 90 days before"),
    ("csat_mean_365d", "no satisfaction survey answered in the last 365 days"),
    ("attr_tier", "tier is B"),
])
def test_sentences(feature, text):
    assert sentence(feature, ROW) == text


def test_top_reasons_only_risk_raising_largest_first_merged():
    features = pd.DataFrame([ROW, ROW], index=["a", "b"])
    contrib = pd.DataFrame(0.0, index=features.index, columns=features.columns)
    contrib.loc["a", ["complaints_quality_90d", "days_since_last_order",
                      "order_overdue_days", "csat_trend", "orders_90d"]] = [0.5, 0.9, 0.2, 0.1, 0.05]
    contrib.loc["b", "nps_detractor"] = -0.7  # lowers the risk: never a reason
    out = top_reasons(contrib, features, n=3)
    assert [r["text"] for r in out[0]] == [
        "no order for 140 days, usually every 30",  # recency 0.9 + overdue 0.2 merged
        "2 quality complaints in the last 90 days",
        "satisfaction fell from 4.5 to 2.0"]
    assert out[0][0]["contribution"] == pytest.approx(1.1)
    assert out[0][1] == {"feature": "complaints_quality_90d", "value": 2.0,
                         "contribution": 0.5, "text": "2 quality complaints in the last 90 days"}
    assert out[1] == []
