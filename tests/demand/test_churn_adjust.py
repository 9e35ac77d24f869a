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
    churn = train_time_based(data, ChurnConfig(n_cutoffs=3, candidates=("logreg",))).model
    series = orders_to_series(data.orders, freq="W", products=data.products)
    cutoff = series["ds"].max() + pd.Timedelta(days=6)
    res = forecast(series, horizon=6, freq="W", candidates=["mean", "ses"], progress=False)
    fc = res.table
    fc.attrs["model"] = res.model
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


def test_plan_and_train_on_churn_adjusted_demand(setting, tmp_path, mlflow_tmp):
    """plan --churn-adjust plans on less demand than the plain plan; train demand
    --churn-adjust logs the forecast with yhat_churn_adjusted."""
    from forecasting import tracking
    from forecasting.demand.pipeline import DemandConfig
    from forecasting.demand.training import train
    from forecasting.demand.planning import plan_from_dataset

    data, churn, cutoff, fc = setting
    model = fc.attrs["model"]
    top = fc.groupby("unique_id")["yhat"].sum().nlargest(2).index.tolist()
    inv = pd.DataFrame({"product_id": top, "on_hand": [0.0, 0.0],
                        "lead_time_days": [42, 42]})
    plain = plan_from_dataset(data, inv, model=model).set_index("product_id")
    adj = plan_from_dataset(data, inv, model=model, churn_model=churn).set_index("product_id")
    assert (adj["lead_time_demand"] < plain["lead_time_demand"]).all()
    assert adj["note"].str.contains("churn-adjusted").all()
    from forecasting.demand.churn_adjust import adjuster, history_end
    from forecasting.demand.series import orders_to_series

    series = orders_to_series(data.orders, freq="W", products=data.products)
    _, _, run_id = train(series, DemandConfig(horizon=4, freq="W", candidates=("mean",)),
                         adjust=adjuster(data, churn, history_end(series, "W"), "W"))
    logged = pd.read_parquet(tracking.download_artifact(run_id, "forecast.parquet"))
    assert ADJUSTED in logged and (logged[ADJUSTED] <= logged["yhat"] + 1e-9).all()


def test_snapshot_with_churn_adjusted_forecasts(setting, tmp_path, mlflow_tmp):
    """The serving snapshot built with churn_adjust has yhat_churn_adjusted beside yhat."""
    from forecasting import tracking
    from forecasting.churn.config import ChurnConfig
    from forecasting.churn.pipeline import train_time_based
    from forecasting.churn.track import log_training
    from forecasting.cli import main
    from forecasting.demand.pipeline import DemandConfig
    from forecasting.demand.series import orders_to_series
    from forecasting.demand.training import MODEL_NAME, decide, train
    from forecasting.features import build_features
    from forecasting.io import read_dataset
    from forecasting.pipelines.snapshot import build_snapshot

    folder = tmp_path / "data"
    assert main(["-q", "sample", str(folder), "--customers", "300"]) == 0
    data = read_dataset(folder)
    result = train_time_based(data, ChurnConfig(n_cutoffs=3, candidates=("logreg",)))
    log_training(result, "churn", build_features(data, "2024-12-31").head(3).reset_index())
    tracking.promote("churn", lambda a, b: (True, "test"))
    series = orders_to_series(data.orders, freq="W", products=data.products)
    train(series, DemandConfig(horizon=4, freq="W", candidates=("mean",)))
    tracking.promote(MODEL_NAME, decide)
    build_snapshot(folder, out_dir=tmp_path / "snap", horizon=4, churn_adjust=True)
    fc = pd.read_parquet(tmp_path / "snap" / "forecasts.parquet")
    assert ADJUSTED in fc and (fc[ADJUSTED] <= fc["yhat"] + 1e-9).all()
    assert fc[ADJUSTED].sum() < fc["yhat"].sum()
