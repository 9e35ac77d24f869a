"""The HTTP API over a real `bentoml serve`: endpoints, 4xx for every bad body, API key,
and a schemathesis run against its OpenAPI schema that must find no 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest


ENDPOINTS = ["/churn/score", "/demand/forecast", "/production/plan", "/customers/segments",
             "/customers/kpis"]

BAD_BODIES = {
    "empty": b"",
    "malformed": b"{\"customer_ids\": [",
    "not an object": b"[1, 2, 3]",
    "empty object": b"{}",
    "unknown field": b"{\"customer_ids\": [\"a\"], \"surprise\": 1}",
    "NaN": b"{\"customer_ids\": [\"a\"], \"horizon\": NaN, \"service_level\": NaN}",
}

OUT_OF_RANGE = {
    "/churn/score": {"customer_ids": []},
    "/demand/forecast": {"product_ids": ["P001"], "horizon": 10_000},
    "/production/plan": {"inventory": [{"product_id": "P001", "on_hand": -5}]},
    "/customers/segments": {"customer_ids": ["x"] * 10_001},
    "/customers/kpis": {"periods": ["2024-13-01"]},
}


def post(server, path, body=None, raw: bytes | None = None, **headers) -> httpx.Response:
    headers.setdefault("content-type", "application/json")
    if raw is not None:
        return httpx.post(server.url + path, content=raw, headers=headers, timeout=30)
    return httpx.post(server.url + path, json=body, headers=headers, timeout=30)


def test_health_and_openapi_list_every_endpoint(served):
    assert httpx.get(served.url + "/livez").status_code == 200
    assert httpx.get(served.url + "/readyz").status_code == 200
    assert httpx.get(served.url + "/metrics").status_code == 200
    paths = httpx.get(served.url + "/docs.json").json()["paths"]
    for p in ENDPOINTS + ["/models/info"]:
        assert p in paths, p


def test_segments_answer_known_ids_and_report_unknown_ones(served):
    known = served.customers[:3]
    r = post(served, "/customers/segments", {"customer_ids": [*known, "NOPE"]})
    assert r.status_code == 200
    body = r.json()
    assert [row["customer_id"] for row in body["rows"]] == known
    assert all(row["segment"] for row in body["rows"] if row["days_since_last_order"] is not None)
    assert "NOPE" in body["errors"]


def test_kpis_by_period(served):
    r = post(served, "/customers/kpis", {"periods": ["2024-05"]})
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert rows and {row["period"] for row in rows} == {"2024-05"}
    assert "order_fulfilment_rate_pct" in {row["kpi"] for row in rows}
    r = post(served, "/customers/kpis", {"periods": ["1999-01"]})
    assert r.status_code == 422 and "1999-01" in r.json()["error"]


def test_endpoints_without_a_model_say_so_with_a_422(served):
    r = post(served, "/churn/score", {"customer_ids": served.customers[:1]})
    assert r.status_code == 422 and "churn" in r.json()["error"]
    info = post(served, "/models/info", {}).json()
    assert {m["name"]: m["loaded"] for m in info["models"]} == {"churn": False, "demand": False}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_bad_body_gets_a_4xx_with_a_message(served, path):
    for name, raw in BAD_BODIES.items():
        r = post(served, path, raw=raw)
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
        assert r.json(), name
    r = post(served, path, OUT_OF_RANGE[path])
    assert r.status_code == 400, r.text
    assert r.json()["detail"][0]["loc"], "field-level message"
    r = post(served, path, raw=b"a=1", **{"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_api_key_is_required_when_set(served, server_factory, tmp_path):
    server = server_factory(tmp_path, Path(served.log).parent / "snapshot",
                          f"sqlite:///{tmp_path / 'mlflow.db'}", api_key="s3cret")
    try:
        body = {"customer_ids": served.customers[:1]}
        for path in ENDPOINTS + ["/models/info"]:
            assert post(server, path, body).status_code == 401, path
        assert post(server, "/customers/segments", body, **{"x-api-key": "wrong"}).status_code == 401
        assert post(server, "/customers/segments", body, **{"x-api-key": "s3cret"}).status_code == 200
        assert post(server, "/customers/segments", body,
                    authorization="Bearer s3cret").status_code == 200
        for path in ("/livez", "/readyz", "/docs.json"):
            assert httpx.get(server.url + path).status_code == 200, path
    finally:
        server.stop()


def test_schemathesis_finds_no_server_errors(served, tmp_path):
    exe = Path(sys.executable).parent / "schemathesis"
    r = subprocess.run(
        [str(exe), "run", served.url + "/docs.json", "--checks", "not_a_server_error",
         "--max-examples", "25", "--phases", "examples,fuzzing", "--workers", "2",
         "--seed", "1", "--no-color"],
        capture_output=True, text=True, timeout=400, cwd=tmp_path)  # it writes a cache folder
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
