"""Team mode: training, promotion, scoring and serving against MLflow on a real PostgreSQL,
directly (``postgresql+psycopg2://``) and through an ``mlflow server`` with an artifact store;
two trainings at once; a promotion while the API runs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from forecasting import tracking
from forecasting.cli import main

pytestmark = pytest.mark.team

FAST_CHURN = ["--candidates", "logreg", "--n-cutoffs", "2", "--seed", "0"]
FAST_DEMAND = ["--models", "seasonal_naive,theta", "--horizon", "4", "--windows", "1"]
TESTS = Path(__file__).resolve().parents[1]


def _service_fixtures():
    """tests/service/conftest.py (the real `bentoml serve` fixture), loaded by path."""
    spec = importlib.util.spec_from_file_location("service_conftest",
                                                  TESTS / "service" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def team_data(tmp_path_factory):
    from forecasting import sample

    folder = tmp_path_factory.mktemp("team") / "data"
    data = sample.generate(customers=300, products=4, start="2023-01-01", end="2024-12-31",
                           seed=7)
    sample.write(data, folder, fmt="parquet")
    return folder


def _use(monkeypatch, uri: str, tmp: Path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("FORECASTING_MODELS_DIR", str(tmp / "models"))
    monkeypatch.setenv("FORECASTING_ARTIFACT_ROOT", str(tmp / "artifacts"))


def test_train_promote_score_on_postgres(postgres, team_data, tmp_path, monkeypatch):
    from forecasting.api.backend import Backend
    from forecasting.pipelines.snapshot import build_snapshot

    uri = postgres.tracking_uri("direct")
    _use(monkeypatch, uri, tmp_path)
    assert main(["train", "churn", str(team_data), *FAST_CHURN]) == 0
    assert main(["promote", "churn"]) == 0
    assert main(["train", "demand", str(team_data), *FAST_DEMAND]) == 0
    assert main(["promote", "demand"]) == 0
    assert tracking.tracking_uri().startswith("postgresql+psycopg2://")
    churn, demand = tracking.get_version("churn"), tracking.get_version("demand")
    assert (churn.version, demand.version) == ("1", "1")
    assert churn.metrics["holdout_roc_auc"] > 0.6
    # artifacts of a database-backed store go to FORECASTING_ARTIFACT_ROOT, not ./mlruns
    assert any((tmp_path / "artifacts" / "churn").rglob("MLmodel"))
    assert not Path("mlruns").exists() or not any(Path("mlruns").rglob(churn.run_id))
    assert tracking.load_json_artifact(churn.run_id, "reference.json")["score"]["shares"]
    out = tmp_path / "scores.parquet"
    assert main(["score", str(team_data), "--as-of", "2024-12-31", "--out", str(out)]) == 0
    scores = pd.read_parquet(out)
    assert len(scores) > 50 and set(scores["model_version"].astype(str)) == {"1"}
    meta = build_snapshot(team_data, out_dir=tmp_path / "snapshot", horizon=4)
    assert meta["churn_model_version"] == "1" and meta["demand_model_version"] == "1"
    info = {m.name: m for m in Backend(folder=tmp_path / "snapshot").model_info().models}
    assert info["churn"].version == "1" and info["churn"].loaded
    assert info["demand"].version == "1" and info["demand"].loaded


def _train_process(data: Path, env: dict[str, str], seed: int, log: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "forecasting", "-q", "train", "churn", str(data),
            "--candidates", "logreg", "--n-cutoffs", "2", "--seed", str(seed)]
    return subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _minimal_snapshot(folder: Path) -> Path:
    """A snapshot without scores or forecasts: /models/info reads the registry, not it."""
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text('{"as_of": "2024-12-31", "notes": {}}')
    pd.DataFrame({"customer_id": ["C00001"], "segment": ["champions"]}).to_parquet(
        folder / "customers.parquet")
    pd.DataFrame({"period": ["2024-12"], "kpi": ["orders"], "value": [1.0]}).to_parquet(
        folder / "kpis.parquet")
    return folder


def test_two_trainings_at_once_then_a_promotion_while_serving(
        mlflow_server, team_data, tmp_path, monkeypatch):
    """Through `mlflow server` (PostgreSQL backend store, its own artifact store): two
    trainings at the same time each register their version; the API serves the champion
    from the server; a promotion while it runs is seen by the next load."""
    from forecasting.api.backend import Backend

    uri = mlflow_server.url
    _use(monkeypatch, uri, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / f"train-{i}.log" for i in (1, 2)]
    procs = [_train_process(team_data, env, seed, log) for seed, log in zip((0, 1), logs)]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    runs = tracking.search_runs("churn")
    assert len(runs) == 2
    versions = {tracking.version_of_run("churn", r["run_id"]).version: r["run_id"]
                for r in runs}
    assert sorted(versions) == ["1", "2"]  # one version each, none lost or doubled
    for version, run_id in versions.items():
        ref = tracking.get_model_version("churn", version)
        assert ref.run_id == run_id and ref.tags.get("status") != "failed"
        assert tracking.load_json_artifact(run_id, "reference.json") is not None
    served = tmp_path / "mlartifacts"  # the server's --artifacts-destination
    assert len(list(served.rglob("MLmodel"))) == 2
    assert not (tmp_path / "artifacts").exists()  # the clients wrote no artifact themselves
    # the first becomes champion; the API serves it from the tracking server
    first = tracking.promote("churn", lambda a, b: (True, "test"), run_id=versions["1"])
    assert first.promoted
    model, ref = tracking.load_model("churn")
    assert ref.version == "1" and model.features
    snapshot = _minimal_snapshot(tmp_path / "snapshot")
    store = tmp_path / "store"
    (store / "monitor").mkdir(parents=True)
    (store / "monitor" / "latest.json").write_text(
        '{"gauges": {"psi_score": 0.123, "realised_roc_auc": 0.81}, '
        '"latest_snapshot_id": "20240630T230000Z-asof-2024-06-30"}')
    monkeypatch.setenv("FORECASTING_SNAPSHOT_ROOT", str(store))
    server = _service_fixtures().start_server(tmp_path, snapshot, uri)
    try:
        info = httpx.post(server.url + "/models/info", json={}, timeout=30).json()
        assert {m["name"]: m["version"] for m in info["models"]}["churn"] == "1"
        metrics = httpx.get(server.url + "/metrics", timeout=30).text
        assert 'forecasting_monitor{metric="psi_score"} 0.123' in metrics
        assert 'forecasting_monitor{metric="realised_roc_auc"} 0.81' in metrics
        # promote the second while the service runs
        second = tracking.promote("churn", lambda a, b: (True, "test"), run_id=versions["2"])
        assert second.promoted and tracking.get_version("churn").version == "2"
        assert httpx.post(server.url + "/models/info", json={}, timeout=30).status_code == 200
        reload = httpx.post(server.url + "/admin/reload", timeout=60)
        if reload.status_code == 404:  # no hot reload on this branch: a fresh load sees it
            fresh = {m.name: m for m in Backend(folder=snapshot).model_info().models}
            assert fresh["churn"].version == "2"
        else:
            assert reload.status_code == 200, reload.text
            info = httpx.post(server.url + "/models/info", json={}, timeout=30).json()
            assert {m["name"]: m["version"] for m in info["models"]}["churn"] == "2"
    finally:
        server.stop()
