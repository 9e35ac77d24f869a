"""Demand endpoints over a snapshot whose catalogue has a young product and churn-adjusted
forecasts, with a champion demand model in a temporary MLflow registry: in-process through
:class:`Backend`, then over HTTP on a real server."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pandas as pd
import pytest

from forecasting import tracking
from forecasting.api import models as M
from forecasting.api.backend import Backend, ServingState
from forecasting.demand import training
from forecasting.demand.pipeline import DemandConfig
from forecasting.demand.series import orders_to_series


def _orders() -> pd.DataFrame:
    """Two years of daily orders of 'old' and four others; 'young' first sold 10 weeks before
    the end (about 3 a day)."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-02", "2024-12-29", freq="D")
    parts = []
    for pid, start, rate in [("old", days[0], 5), ("young", days[-70], 3)] + [
            (f"other{k}", days[0], 2 + k) for k in range(4)]:
        d = days[days >= start]
        q = rng.poisson(rate, len(d)).astype(float)
        parts.append(pd.DataFrame({"product_id": pid, "order_date": d, "quantity": q,
                                   "status": "completed"}))
    o = pd.concat(parts, ignore_index=True)
    return o[o["quantity"] > 0]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A snapshot folder as build_snapshot writes it (demand part built with
    --churn-adjust: the adjusted forecast is 90 % of the plain one here) and a demand
    champion (a few cheap candidates) registered in a temporary MLflow."""
    tmp = tmp_path_factory.mktemp("api_demand")
    snap = tmp / "snapshot"
    snap.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    mp.setenv("FORECASTING_MODELS_DIR", str(tmp / "models"))
    history = orders_to_series(_orders(), freq="W")
    cfg = DemandConfig(horizon=12, freq="W", candidates=("mean", "theta", "seasonal_naive"))
    result, _, _ = training.train(history, cfg)
    tracking.promote("demand", training.decide)
    fc = result.table.copy()
    fc["yhat_churn_adjusted"] = 0.9 * fc["yhat"]
    fc.to_parquet(snap / "forecasts.parquet", index=False)
    history.to_parquet(snap / "history.parquet", index=False)
    pd.DataFrame({"customer_id": ["c1"], "segment": ["loyal"]}).to_parquet(
        snap / "customers.parquet", index=False)
    pd.DataFrame({"level": ["overall"], "period": ["2024-12"], "group": ["all"],
                  "kpi": ["orders"], "value": [1.0]}).to_parquet(snap / "kpis.parquet",
                                                                  index=False)
    (snap / "meta.json").write_text(json.dumps({
        "as_of": "2024-12-29", "notes": {}, "demand_model_version": "1",
        "forecast": {"horizon": 12, "freq": "W", "levels": [80, 95]}}))
    try:
        yield tmp, snap, fc
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def backend(snapshot):
    tmp, snap, _ = snapshot
    b = Backend(snap)
    assert b.state._demand_model is not None  # the plan uses the champion, as in the CLI
    return b


INVENTORY = [{"product_id": "never", "on_hand": 0, "lead_time_days": 21},
             {"product_id": "young", "on_hand": 0, "lead_time_days": 21},
             {"product_id": "old", "on_hand": 1e9, "lead_time_days": 21}]


def test_forecast_points_carry_the_churn_adjusted_forecast(backend, snapshot):
    fc = snapshot[2].set_index(["unique_id", "ds"])
    out = backend.forecast(M.ForecastRequest(product_ids=["old", "young"], horizon=3))
    assert len(out.points) == 6
    for p in out.points:
        row = fc.loc[(p["unique_id"], pd.Timestamp(p["ds"]))]
        assert p["yhat_churn_adjusted"] == pytest.approx(row["yhat_churn_adjusted"])
        assert p["yhat_churn_adjusted"] == pytest.approx(0.9 * p["yhat"])


def test_forecast_points_have_no_adjusted_value_without_the_column(backend):
    fc = backend.state._forecasts.drop(columns="yhat_churn_adjusted")
    points = ServingState._points(fc.head(2), [80])
    assert all("yhat_churn_adjusted" not in p for p in points)


def test_plan_gives_every_inventory_product_a_row(backend):
    out = backend.plan(M.PlanRequest(inventory=[M.InventoryRow(**r) for r in INVENTORY]))
    assert out.errors == {}
    rows = {r["product_id"]: r for r in out.rows}
    assert list(rows) == ["never", "young", "old"]
    assert rows["young"]["history"] in ("short", "new")
    assert rows["young"]["recommended_quantity"] > 0    # about 3 a day over 3 weeks
    assert 30 < rows["young"]["lead_time_demand"] < 120
    assert rows["old"]["recommended_quantity"] == 0     # overstocked
    assert rows["never"]["recommended_quantity"] == 0
    assert "no demand history" in rows["never"]["note"]


def test_over_http(snapshot, backend, server_factory):
    tmp, snap, _ = snapshot
    server = server_factory(tmp, snap, f"sqlite:///{tmp / 'mlflow.db'}")
    try:
        r = httpx.post(server.url + "/demand/forecast",
                       json={"product_ids": ["young"], "horizon": 2}, timeout=60)
        assert r.status_code == 200, r.text
        points = r.json()["points"]
        assert [p["yhat_churn_adjusted"] for p in points] == pytest.approx(
            [0.9 * p["yhat"] for p in points])
        r = httpx.post(server.url + "/production/plan", json={"inventory": INVENTORY},
                       timeout=120)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["errors"] == {}
        assert [row["product_id"] for row in body["rows"]] == ["never", "young", "old"]
        assert {row["product_id"]: row["recommended_quantity"] > 0 for row in body["rows"]} \
            == {"never": False, "young": True, "old": False}
    finally:
        server.stop()
