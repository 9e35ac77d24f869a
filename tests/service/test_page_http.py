"""The web page's HTTP side over the real server: the page at /, its static files, the
read-only /ui/api lists (4xx with a message for bad input), the API key, and PageData over
the same snapshot (score history across refreshes, monitoring report)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from forecasting.api.pagedata import PageData, monitor_report, read_score_history


def get(server, path, **kw) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30, **kw)


def test_page_and_static_files_are_served_at_the_root(served):
    r = get(served, "/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'data-key-required="false"' in r.text and "/ui/static/app.js" in r.text
    for f in ("app.js", "client.js", "chart.js", "planner.js", "accounts.js", "manager.js",
              "style.css"):
        s = get(served, f"/ui/static/{f}")
        assert s.status_code == 200 and len(s.content) > 500, f
    assert "cdn" not in get(served, "/").text.lower()
    assert get(served, "/ui/static/nope.js").status_code == 404
    # the API's own routes still answer
    assert httpx.post(served.url + "/customers/segments", json={
        "customer_ids": served.customers[:1]}, timeout=30).status_code == 200


def test_ui_lists_answer_from_the_snapshot(served):
    s = get(served, "/ui/api/session").json()
    assert s["as_of"] and s["periods"] and "segment" in s["filters"]
    assert {"region", "industry", "tier"} <= set(s["filters"])
    seg = s["filters"]["segment"][0]
    body = get(served, "/ui/api/customers", params={"segment": seg, "limit": 5}).json()
    assert body["total"] >= len(body["rows"]) > 0
    assert {r["segment"] for r in body["rows"]} == {seg}
    var = [r["value_at_risk_12m"] for r in body["rows"]]
    assert var == sorted(var, reverse=True) and [r["rank"] for r in body["rows"]] == [1, 2, 3,
                                                                                     4, 5][:len(var)]
    row = next(r for r in get(served, "/ui/api/customers").json()["rows"] if r["reasons"])
    cid = row["customer_id"]
    c = get(served, f"/ui/api/customers/{cid}").json()
    assert c["customer_id"] == cid and c["orders"] and c["reasons"][:3] == row["reasons"]
    assert c["score_history"][0]["snapshot_id"] == "current"
    products = get(served, "/ui/api/products").json()["rows"]
    h = get(served, f"/ui/api/products/{products[0]['product_id']}/history").json()
    assert len(h["points"]) > 10 and {"ds", "y"} <= set(h["points"][0])
    segs = get(served, "/ui/api/segments").json()["rows"]
    assert sum(r["customers"] for r in segs) == s["customers"]
    assert get(served, "/ui/api/monitor").json() == {"report": None}


@pytest.mark.parametrize("path,status,words", [
    ("/ui/api/customers?colour=red", 400, "unknown filter 'colour'"),
    ("/ui/api/customers?limit=0", 400, "limit must be between 1 and 500"),
    ("/ui/api/customers?offset=x", 400, "offset must be a whole number"),
    ("/ui/api/customers/NOPE", 404, "'NOPE' is not a known customer"),
    ("/ui/api/products/NOPE/history", 404, "'NOPE' has no demand history"),
])
def test_bad_requests_get_a_message(served, path, status, words):
    r = get(served, path)
    assert r.status_code == status and words in r.json()["error"], r.text


def test_the_lists_need_the_key_the_page_and_its_files_do_not(served, server_factory,
                                                               tmp_path):
    server = server_factory(tmp_path, Path(served.log).parent / "snapshot",
                            f"sqlite:///{tmp_path / 'mlflow.db'}", api_key="s3cret")
    try:
        page = get(server, "/")
        assert page.status_code == 200 and 'data-key-required="true"' in page.text
        assert "s3cret" not in page.text
        assert get(server, "/ui/static/app.js").status_code == 200
        for path in ("/ui/api/session", "/ui/api/customers", "/ui/api/products",
                     "/ui/api/segments", "/ui/api/monitor"):
            assert get(server, path).status_code == 401, path
            assert get(server, path, headers={"x-api-key": "wrong"}).status_code == 401, path
            assert get(server, path, headers={"x-api-key": "s3cret"}).status_code == 200, path
    finally:
        server.stop()


def test_score_history_across_refreshes_and_monitor_report(served, tmp_path, monkeypatch):
    root = tmp_path / "snapshots"
    folder = root / "history" / "scores"
    folder.mkdir(parents=True)
    data = PageData(Path(served.log).parent / "snapshot")
    cid = data.customers({"limit": "1"})["rows"][0]["customer_id"]
    for i, (as_of, p) in enumerate([("2024-08-31", 0.2), ("2024-07-31", 0.1)]):
        pd.DataFrame({"customer_id": [cid, "other"], "as_of": [as_of] * 2,
                      "churn_probability": [p, 0.9], "risk_band": ["low", "high"],
                      "model_version": ["3", "3"], "snapshot_id": [f"s{i}"] * 2}
                     ).to_parquet(folder / f"s{i}.parquet")
    (folder / "broken.parquet").write_text("not parquet")  # skipped with a warning
    hist = read_score_history(cid, root)
    assert hist["as_of"].tolist() == ["2024-07-31", "2024-08-31"]
    assert hist["churn_probability"].tolist() == [0.1, 0.2]
    c = data.customer(cid, history_root=root)
    assert [h["churn_probability"] for h in c["score_history"]] == [0.1, 0.2]
    assert read_score_history(cid, tmp_path / "none").empty

    monkeypatch.setenv("FORECASTING_MODELS_DIR", str(tmp_path / "models"))
    assert monitor_report(root) is None
    (root / "monitor").mkdir()
    (root / "monitor" / "latest.json").write_text('{"drift": "ok", "psi_max": 0.04}')
    assert monitor_report(root) == {"file": "latest.json",
                                    "report": {"drift": "ok", "psi_max": 0.04}}
