"""`forecasting forecast` end to end on real series (skipped when ../shared/data is absent).

Small slices of the benchmark data sets, so the suite stays fast; the full benchmarks are in
benchmarks/bench_demand.py. The bars are set well below what the benchmarks measure on the
full panels but far above the seasonal naive baseline, so a broken model or interval
calibration fails them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.demand import metrics
from forecasting.demand.models.baselines import SeasonalNaive
from forecasting.demand.pipeline import prepare
from forecasting.importers import series_sets
from forecasting.schema import DS, UNIQUE_ID, Y

pytestmark = pytest.mark.realdata


def _forecast(tmp_path, train, h, freq, models=None):
    src, out, rep = tmp_path / "history.parquet", tmp_path / "fc.csv", tmp_path / "r.json"
    train.to_parquet(src, index=False)
    args = ["-q", "forecast", "--series", str(src), "--horizon", str(h), "--freq", freq,
            "--levels", "80,95", "--quiet-table", "--out", str(out), "--report", str(rep)]
    assert main(args + (["--models", models] if models else [])) == 0
    return pd.read_csv(out, parse_dates=[DS], dtype={UNIQUE_ID: str}), json.loads(rep.read_text())


def _score(fc, train, test, h, freq):
    m = fc.merge(test, on=[UNIQUE_ID, DS]).sort_values([UNIQUE_ID, DS])
    n = m[UNIQUE_ID].nunique()
    assert len(m) == n * h == len(fc), "the forecast covers exactly the test periods"

    def a(col):
        return m[col].to_numpy().reshape(n, h)

    y, f = a(Y), a("yhat")
    assert (a("yhat_lo_95") <= a("yhat_lo_80")).all()
    assert (a("yhat_hi_80") <= a("yhat_hi_95")).all()
    assert (a("yhat_lo_95") >= 0).all() and (f >= 0).all()
    snaive = SeasonalNaive().forecast(prepare(train, freq), h)
    return {"smape": metrics.smape(y, f), "snaive": metrics.smape(y, snaive),
            "cov80": metrics.coverage(y, a("yhat_lo_80"), a("yhat_hi_80")),
            "cov95": metrics.coverage(y, a("yhat_lo_95"), a("yhat_hi_95"))}


def test_store_item_slice(shared_data, tmp_path):
    """20 daily series (stores 1-2, items 1-10), the last 90 days of 2017 held out."""
    train, test = series_sets.store_item(shared_data("store_item_demand"), stores=[1, 2],
                                         items=range(1, 11))
    fc, report = _forecast(tmp_path, train, 90, "D",
                           models="seasonal_naive,ets,theta,decomposition")
    s = _score(fc, train, test, 90, "D")
    assert report["n_series"] == 20 and report["chosen"]
    assert s["smape"] < 13.5 < 0.7 * s["snaive"], s        # measured: 12.6 vs 21.5
    assert 72 <= s["cov80"] <= 88 and 90 <= s["cov95"] <= 99, s


def test_m3_monthly_slice(shared_data, tmp_path):
    """The first 200 M3 monthly series, official split, h = 18, every default candidate."""
    train, test = series_sets.m3(shared_data("m3"), "MONTHLY", n=200)
    fc, report = _forecast(tmp_path, train, 18, "MS")
    s = _score(fc, train, test, 18, "MS")
    assert set(report["candidates"]) >= {"seasonal_naive", "theta", "ets", "lightgbm"}
    assert s["smape"] < 0.85 * s["snaive"], s               # measured: 20.9 vs 26.7
    assert 74 <= s["cov80"] <= 88 and 90 <= s["cov95"] <= 99, s
    assert np.isfinite(report["backtest"]["backtest_mase"])


def test_plan_on_online_retail(shared_data, tmp_path):
    """Import the real Online Retail file, then plan two best sellers: one overstocked (makes
    nothing), one with no stock (makes a positive batch); the service-level quantile of
    lead-time demand is above its mean and within reach of what the history has seen."""
    data_dir, plan = tmp_path / "or", tmp_path / "plan.csv"
    assert main(["-q", "import", "online-retail",
                 str(shared_data("online_retail", "online_retail.parquet")), str(data_dir)]) == 0
    orders = pd.read_parquet(data_dir / "orders.parquet")
    top = orders.groupby("product_id")["quantity"].sum().nlargest(2).index.tolist()
    inv = tmp_path / "inventory.csv"
    pd.DataFrame({"product_id": top, "on_hand": [10_000_000, 0], "lead_time_days": [14, 14],
                  "min_batch": [100, 100]}).to_csv(inv, index=False)
    assert main(["-q", "plan", str(data_dir), "--inventory", str(inv), "--service-level",
                 "0.95", "--out", str(plan)]) == 0
    p = pd.read_csv(plan, dtype={"product_id": str}).set_index("product_id")
    assert p.loc[top[0], "recommended_quantity"] == 0
    assert p.loc[top[1], "recommended_quantity"] > 0
    assert p.loc[top[1], "recommended_quantity"] % 100 == 0
    weekly = (orders[orders["product_id"].isin(top)].assign(
        week=lambda d: pd.to_datetime(d["order_date"]).dt.to_period("W"))
        .groupby(["product_id", "week"])["quantity"].sum())
    for pid in top:
        q = p.loc[pid, "lead_time_demand_at_service_level"]
        assert p.loc[pid, "lead_time_demand"] < q < 2 * 2 * weekly.loc[pid].max(), p.loc[pid]
