"""The README's main job end to end: `forecasting demo --no-serve` on a small sample (real
MLflow in a temporary folder), then the API serving its champions and snapshot over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from forecasting.io import read_table
from forecasting.pipelines import store


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
           "FORECASTING_MODELS_DIR": str(tmp / "models")}
    r = subprocess.run([sys.executable, "-m", "forecasting", "demo", "--no-serve",
                        "--customers", "300", "--workdir", str(tmp / "demo")],
                       env=env, capture_output=True, text=True, timeout=1500, cwd=tmp)
    assert r.returncode == 0, r.stderr[-5000:]
    assert "Traceback" not in r.stderr
    return tmp, r


def test_demo_writes_every_output_and_prints_curl_calls(demo):
    tmp, r = demo
    out = tmp / "demo" / "out"
    for name in ("features.parquet", "scores.csv", "segments.csv", "kpis.csv", "followup.csv",
                 "plan.csv", "churn.json", "demand.json"):
        assert (out / name).exists(), name
    scores = read_table(out / "scores.csv")
    assert scores["churn_probability"].astype(float).between(0, 1).all()
    assert scores["reason_1"].notna().any()
    assert "curl -s -X POST http://127.0.0.1:3000/churn/score" in r.stdout
    assert "Open the web page: http://127.0.0.1:3000/" in r.stdout
    churn = json.loads((out / "churn.json").read_text())
    assert churn["metrics"]["holdout_roc_auc"] > 0.6
    current = store.current_snapshot_dir(tmp / "models" / "snapshots")
    meta = json.loads((current / "meta.json").read_text())
    assert meta["churn_model_version"] and meta["demand_model_version"]
    assert meta["snapshot_id"] == current.name


def test_api_serves_the_demo_champions(demo, server_factory):
    tmp, _ = demo
    server = server_factory(tmp, None, f"sqlite:///{tmp / 'mlflow.db'}")  # the store's CURRENT
    try:
        post = lambda path, body: httpx.post(server.url + path, json=body, timeout=60)  # noqa
        scores = read_table(tmp / "demo" / "out" / "scores.csv")
        cid = scores["customer_id"].iloc[0]
        r = post("/churn/score", {"customer_ids": [cid, "NOPE"]})
        assert r.status_code == 200, r.text
        first, unknown = r.json()["items"]
        assert 0 <= first["churn_probability"] <= 1 and first["risk_band"] in (
            "low", "medium", "high")
        assert first["reasons"] and first["reasons"][0]["text"] and first["model_version"]
        assert first["segment"]
        assert "NOPE" in unknown["error"]
        feats = read_table(tmp / "demo" / "out" / "features.parquet").head(2)
        rows = json.loads(feats.to_json(orient="records"))
        r = post("/churn/score", {"rows": rows})
        assert r.status_code == 200, r.text
        assert [i["customer_id"] for i in r.json()["items"]] == feats["customer_id"].tolist()
        r = post("/demand/forecast", {"product_ids": ["P001", "P999"], "horizon": 4})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["points"]) == 4 and "P999" in body["errors"]
        p = body["points"][0]
        assert 0 <= p["lo"]["95"] <= p["lo"]["80"] <= p["hi"]["80"] <= p["hi"]["95"]
        r = post("/production/plan", {"inventory": [
            {"product_id": "P001", "on_hand": 0, "min_batch": 10},
            {"product_id": "P002", "on_hand": 1e9}], "service_level": 0.95})
        assert r.status_code == 200, r.text
        plan = {row["product_id"]: row for row in r.json()["rows"]}
        assert plan["P001"]["recommended_quantity"] > 0
        assert plan["P002"]["recommended_quantity"] == 0
        page = httpx.get(server.url + "/ui/api/customers", params={"limit": 5}).json()
        assert page["rows"] and all(r["risk_band"] and r["reasons"] for r in page["rows"])
        top = page["rows"][0]
        scored = post("/churn/score", {"customer_ids": [top["customer_id"]]}).json()["items"][0]
        assert top["reasons"] == [x["text"] for x in scored["reasons"]][:3]  # the model's words
        assert top["risk_band"] == scored["risk_band"]
        info = post("/models/info", {}).json()
        assert all(m["loaded"] and m["version"] for m in info["models"])
        assert info["snapshot_id"] == store.current_id(tmp / "models" / "snapshots")
    finally:
        server.stop()
