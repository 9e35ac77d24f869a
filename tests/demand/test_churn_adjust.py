"""Churn-adjusted demand: each customer's share of a product's recent volume times their
chance of having left by the period, removed from the forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.demand.churn_adjust import ADJUSTED, churn_adjust, customer_shares, left_by


def test_left_by_is_the_constant_hazard_over_the_horizon():
    q = left_by(np.array([0.0, 0.5, 1.0]), np.array([0.0, 45.0, 90.0, 180.0]), 90)
    assert q[0].tolist() == [0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(q[1], [0.0, 1 - 0.5 ** 0.5, 0.5, 0.75])
    assert (q[2, 1:] > 0.999).all()


def test_shares_of_recent_completed_volume():
    orders = pd.DataFrame({
        "product_id": ["p", "p", "p", "p", "q"], "customer_id": ["a", "b", "b", "a", "a"],
        "order_date": pd.to_datetime(["2024-03-30", "2024-03-31", "2024-03-01", "2023-01-01",
                                      "2024-03-31"]),
        "quantity": [30.0, 10.0, 60.0, 500.0, 5.0],
        "status": ["completed", "completed", "cancelled", "completed", "completed"]})
    s = customer_shares(orders, pd.Timestamp("2024-03-31"), 90).set_index(
        ["product_id", "customer_id"])["share"]
    # the cancelled line and the line before the 90 days do not count
    assert s.to_dict() == {("p", "a"): 0.75, ("p", "b"): 0.25, ("q", "a"): 1.0}


@pytest.fixture(scope="module")
def setting():
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based
    from forecasting.demand.pipeline import forecast
    from forecasting.demand.series import orders_to_series
    from forecasting.sample import generate

    data = generate(customers=300, seed=0)
    churn = train_time_based(data, ChurnConfig(n_cutoffs=3, model="logistic")).model
    series = orders_to_series(data.orders, freq="W", products=data.products)
    cutoff = series["ds"].max() + pd.Timedelta(days=6)
    fc = forecast(series, horizon=6, freq="W", candidates=["mean", "ses"],
                  progress=False).table
    return data, churn, cutoff, fc


def test_adjusted_forecast_removes_the_expected_volume_of_leavers(setting):
    from forecasting.features import build_features

    data, churn, cutoff, fc = setting
    out = churn_adjust(fc, data, churn, cutoff, "W")
    assert list(out.columns[:3]) == ["unique_id", "ds", "yhat"] and ADJUSTED in out
    assert (out[ADJUSTED] >= 0).all() and (out[ADJUSTED] <= out["yhat"] + 1e-9).all()
    assert out[ADJUSTED].sum() < out["yhat"].sum()
    # the removed share grows with the step (more time to leave)
    ratio = (out[ADJUSTED] / out["yhat"]).to_numpy().reshape(-1, 6)
    ok = np.isfinite(ratio).all(axis=1)
    assert (np.diff(ratio[ok], axis=1) <= 1e-12).all()
    # one product by hand: sum over its customers of share x P(left by the first period end)
    feats = build_features(data, cutoff)
    proba = pd.Series(churn.predict_proba(feats), index=feats.index.astype(str))
    shares = customer_shares(data.orders, cutoff, 90)
    pid = shares.groupby("product_id").size().idxmax()
    mine = shares[shares["product_id"] == pid]
    p = mine["customer_id"].map(proba).fillna(0.0).to_numpy()
    first = out[out["unique_id"] == pid].iloc[0]
    days = (first["ds"] + pd.Timedelta(days=7) - cutoff.normalize()).days
    expected = 1 - np.sum(mine["share"].to_numpy() * (1 - (1 - p) ** (days / 90)))
    assert first[ADJUSTED] == pytest.approx(first["yhat"] * expected)
