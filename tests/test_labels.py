"""Churn labels come from the window after the cutoff, and only complete windows are used."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.errors import ForecastingError
from forecasting.labels import churn_labels, cutoff_plan, latest_complete_cutoff

T = pd.Timestamp


def orders() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "d", "d", "e"],
        "status": ["completed", "completed", "completed", "cancelled", "completed",
                   "completed", "completed", "completed"],
        "order_date": [
            T("2024-01-10"), T("2024-04-30 23:59"),  # a: back at the very end of the window: 0
            T("2024-01-15"), T("2024-02-10"),        # b: only a cancelled order after: 1
            T("2023-01-01"),                          # c: not active in the lookback: no label
            T("2024-01-31 23:00"), T("2024-05-01"),  # d: back a day after the window: 1
            T("2024-05-01")],                         # e: first order after the cutoff: no label
    })


def test_labels_use_only_the_window_after_the_cutoff():
    y = churn_labels(orders(), "2024-01-31", horizon_days=90)
    assert y.to_dict() == {"a": 0, "b": 1, "d": 1}
    assert y.index.name == "customer_id"


def test_incomplete_label_window_is_refused():
    with pytest.raises(ForecastingError, match="not complete"):
        churn_labels(orders(), "2024-03-01", horizon_days=90)


def test_latest_complete_cutoff_and_cutoff_plan():
    assert latest_complete_cutoff(orders(), 90) == T("2024-05-01") - pd.Timedelta(days=90)
    holdout, valid, cuts = cutoff_plan(orders(), horizon_days=30, n_train=4, step_days=30)
    assert holdout == latest_complete_cutoff(orders(), 30)
    assert cuts == sorted(cuts) and valid == sorted(valid)
    assert all(v + pd.Timedelta(days=30) <= holdout for v in valid)  # label windows end before


@pytest.mark.parametrize("horizon,step,n_valid", [(90, 30, 1), (90, 30, 2), (60, 7, 3),
                                                  (30, 45, 1)])
def test_training_label_windows_never_overlap_validation_labels(horizon, step, n_valid):
    """A training row's label window (c, c + H] ends on or before every validation cutoff,
    and every validation window ends on or before the holdout cutoff."""
    o = pd.DataFrame({"customer_id": ["a", "a"], "status": ["completed"] * 2,
                      "order_date": [T("2022-01-01"), T("2024-12-31")]})
    holdout, valid, train = cutoff_plan(o, horizon, n_train=6, n_validation=n_valid,
                                        step_days=step)
    H = pd.Timedelta(days=horizon)
    assert len(valid) == n_valid and len(train) == 6
    assert max(train) + H <= min(valid)  # at least one horizon between them
    assert max(valid) + H <= holdout
    assert max(train) + H == min(valid)  # and no more: the latest usable training cutoff


def test_online_retail_holdout_cutoff_is_2011_09_10():
    """Documented anchor: last invoice 2011-12-09, 90-day horizon -> 2011-09-10."""
    o = pd.DataFrame({"customer_id": ["1", "2"], "status": ["completed"] * 2,
                      "order_date": [T("2010-12-01 08:26"), T("2011-12-09 12:50")]})
    assert latest_complete_cutoff(o, 90) == T("2011-09-10")


def test_one_churn_definition_behind_labels_rule_rates_and_the_kpi():
    """The training label, the RFM rules' measured churn rate and the churn KPI count the
    same customers as churned for the same cutoff (forecasting.labels is their one owner)."""
    from forecasting import sample
    from forecasting.analytics.kpis import KpiConfig, kpi_table
    from forecasting.analytics.segments import SegmentConfig, rfm_churn_rates

    data = sample.generate(customers=300, seed=3)
    cutoff = pd.Timestamp("2024-01-31")  # the day before February starts
    labels = churn_labels(data.orders, cutoff, horizon_days=90, lookback_days=365)
    _, _, overall = rfm_churn_rates(data.orders, cutoff + pd.Timedelta(days=90),
                                    SegmentConfig(horizon_days=90, lookback_days=365))
    assert overall == pytest.approx(labels.mean())
    kpi = kpi_table(data, KpiConfig(levels=("overall",)))
    feb = kpi[(kpi["period"] == "2024-02") & (kpi["kpi"] == "churn_rate_pct")].iloc[0]
    assert feb["denominator"] == len(labels) and feb["numerator"] == labels.sum()
    assert "90 days" in feb["window"] and "365 days" in feb["window"]
