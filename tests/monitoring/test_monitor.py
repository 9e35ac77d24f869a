"""forecasting monitor: PSI against the training reference, realised performance of a past
refresh, the findings in words, MLflow runs and latest.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.cli import main
from forecasting.monitoring import drift as D
from forecasting.monitoring import realised as R
from forecasting.monitoring import store as S

from monitor_store import AS_OF


@pytest.fixture
def monitored_env(monitored, monkeypatch):
    for k, v in monitored["env"].items():
        monkeypatch.setenv(k, v)
    return monitored


# --- drift, by hand -----------------------------------------------------------------------
def test_psi_is_small_for_the_same_population_and_large_for_a_shifted_one():
    rng = np.random.default_rng(1)
    feats = pd.DataFrame({"spend": rng.lognormal(3, 1, 4000),
                          "tier": rng.choice(["A", "B", "C"], 4000, p=[0.2, 0.3, 0.5])})
    feats.loc[::20, "spend"] = np.nan
    ref = D.build_reference(feats, rng.beta(2, 5, 4000))
    assert len(ref["features"]["spend"]["edges"]) == 9  # deciles
    assert ref["features"]["spend"]["shares"][-1] == pytest.approx(0.05)  # missing share
    json.dumps(ref)  # plain JSON: it is logged as reference.json
    same = pd.DataFrame({"spend": rng.lognormal(3, 1, 3000),
                         "tier": rng.choice(["A", "B", "C"], 3000, p=[0.2, 0.3, 0.5])})
    same.loc[::20, "spend"] = np.nan
    stable = D.drift(ref, same, rng.beta(2, 5, 3000))
    assert max(stable.values()) < 0.05, stable
    moved = pd.DataFrame({"spend": rng.lognormal(3.8, 1, 3000),  # spend x2.2
                          "tier": rng.choice(["A", "B", "Z"], 3000, p=[0.2, 0.3, 0.5])})
    shifted = D.drift(ref, moved, rng.beta(5, 2, 3000))
    assert shifted["psi_spend"] > D.PSI_ACT
    assert shifted["psi_tier"] > D.PSI_ACT  # an unseen category counts as "(other)"
    assert shifted["psi_score"] > D.PSI_ACT
    assert D.level(0.05) == "stable" and D.level(0.2) == "watch" and D.level(0.3) == "act"


def test_forecast_outcomes_use_observed_periods_only():
    fc = pd.DataFrame({"unique_id": ["p"] * 3, "ds": pd.to_datetime(
        ["2024-01-01", "2024-01-08", "2024-01-15"]), "yhat": [10.0, 10.0, 10.0],
        "yhat_lo_80": [8.0, 8.0, 8.0], "yhat_hi_80": [12.0, 12.0, 12.0]})
    actual = pd.DataFrame({"unique_id": ["p", "p"], "ds": pd.to_datetime(
        ["2024-01-01", "2024-01-08"]), "y": [11.0, 15.0]})
    out = R.forecast_outcomes(fc, actual)
    assert out["step"].tolist() == [1, 2]  # the third week is not observed yet
    figures, per_step = R.forecast_realised(out, levels=(80,))
    assert figures["realised_wape"] == pytest.approx(100 * 6 / 26)
    assert figures["realised_bias"] == pytest.approx(100 * -6 / 26)
    assert figures["realised_coverage_80"] == pytest.approx(50.0)
    assert per_step["realised_coverage_80"].tolist() == [100.0, 0.0]


# --- the command, end to end ----------------------------------------------------------------
def test_training_saves_the_reference(monitored_env):
    from forecasting import tracking

    champion = tracking.get_version("churn")
    reference = tracking.load_json_artifact(champion.run_id, "reference.json")
    assert reference is not None and "score" in reference
    model, _ = tracking.load_model("churn")
    assert set(reference["features"]) == set(model.features)  # every feature it scores
    assert model.info["reference"]["score"] == reference["score"]
    score = reference["score"]
    assert len(score["shares"]) == len(score["edges"]) + 2  # bins + missing
    assert sum(score["shares"]) == pytest.approx(1.0)
    assert reference["holdout_cutoff"] == champion.params["holdout_cutoff"]


def test_monitor_reports_drift_and_realised_auc(monitored_env, tmp_path, capsys):
    from forecasting import tracking

    store, sid = monitored_env["store"], monitored_env["snapshot_id"]
    report_path, plots = tmp_path / "report.json", tmp_path / "plots"
    code = main(["monitor", str(monitored_env["data"]), "--report", str(report_path),
                 "--plots", str(plots)])
    assert code in (0, 3)
    out = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    sec = report["refreshes"][-1]
    assert sec["snapshot_id"] == sid and sec["as_of"] == AS_OF
    churn = sec["churn"]
    assert 0 <= churn["drift"]["psi_score"] < 5
    assert sum(k.startswith("psi_") for k in churn["drift"]) > 10  # score + every feature
    auc = churn["realised"]["realised_roc_auc"]
    assert 0.55 < auc <= 1.0, auc  # the sample's churn is predictable
    assert 0 < churn["realised"]["realised_brier"] < 0.25
    assert churn["realised"]["realised_lift_top_decile"] > 1
    assert churn["window_end"] == "2024-09-28"
    assert sum(row["customers"] for row in churn["calibration"]) == \
        churn["realised"]["realised_customers"]
    # forecasts made as of 2024-06-30 from the history known then, judged on what came
    demand = sec["demand"]
    assert demand["realised"]["realised_wape"] > 0
    assert demand["realised"]["realised_steps"] >= 10
    assert len(demand["per_step"]) == demand["realised"]["realised_steps"]
    assert "psi_score" in out and "ROC AUC" in out and "WAPE" in out
    # the model was trained on labels up to its holdout cutoff (2024-10): it has seen this
    # snapshot's outcome window, and the report says so
    assert any("optimistic" in f["message"] and f["snapshot_id"] == sid
               for f in report["findings"])
    # latest.json for the API, MLflow runs tagged with the serving model version
    latest = json.loads(S.latest_report_path(store).read_text())
    assert latest["gauges"]["realised_roc_auc"] == pytest.approx(auc)
    assert "psi_score" in latest["gauges"]
    tracking.configure()
    runs = tracking.search_runs("monitoring", f"tags.snapshot_id = '{sid}'")
    families = {r["tags"]["family"]: r for r in runs}
    assert families["churn"]["tags"]["model_version"] == churn["model_version"]
    assert families["churn"]["metrics"]["realised_roc_auc"] == pytest.approx(auc)
    assert "realised_wape" in families["demand"]["metrics"]
    assert sorted(p.name for p in plots.glob("*.png")) == sorted(
        f"{sid}-{k}.png" for k in ("psi", "scores", "calibration", "coverage"))


def test_shifted_features_are_named_with_what_to_do(monitored_env):
    """Spend doubled in the data feed: the features built on it cross 0.25 and are named."""
    from forecasting import tracking
    from forecasting.features import build_features
    from forecasting.io import read_dataset
    from forecasting.monitoring.report import _drift_findings

    ref = tracking.load_json_artifact(tracking.get_version("churn").run_id, "reference.json")
    data = read_dataset(monitored_env["data"])
    feats = build_features(data, AS_OF)
    money = [c for c in feats.columns if "revenue" in c or "amount" in c or "spend" in c]
    assert money, list(feats.columns)
    feats[money] = feats[money] * 3
    figures = D.drift(ref, feats, np.full(len(feats), 0.9))
    assert all(figures[f"psi_{c}"] > D.PSI_ACT for c in money if c in ref["features"]
               and feats[c].nunique() > 10)
    findings = []
    _drift_findings("x", figures, findings)
    action = [f for f in findings if f.level == "action"]
    assert action and "Retrain" in action[0].message and money[0] in action[0].message or \
        any(c in action[0].message for c in money)


def test_window_not_passed_and_unknown_model_are_said(monitored_env, tmp_path):
    from forecasting.monitoring.report import monitor

    store = tmp_path / "store"
    (store / S.SCORES).mkdir(parents=True)
    full = monitored_env["data"]
    scores = pd.read_parquet(monitored_env["store"] / S.SCORES
                             / f"{monitored_env['snapshot_id']}.parquet")
    # a refresh as of 2024-12-01: its window ends 2025-03-01, after the data
    recent = S.snapshot_id(pd.Timestamp("2024-12-01 23:00"), "2024-12-01")
    scores.assign(snapshot_id=recent, as_of="2024-12-01").to_parquet(
        store / S.SCORES / f"{recent}.parquet")
    # a refresh by a version the registry does not hold (e.g. a copied store)
    ghost = S.snapshot_id(pd.Timestamp("2024-07-01 01:00"), "2024-07-01")
    scores.assign(model_version="999", snapshot_id=ghost, as_of="2024-07-01").to_parquet(
        store / S.SCORES / f"{ghost}.parquet")
    report = monitor(full, store=store, track=False)
    by_id = {s["snapshot_id"]: s for s in report["refreshes"]}
    assert list(by_id) == [ghost, recent]  # oldest first
    assert "not complete" in by_id[recent]["churn"]["realised_note"]
    assert by_id[recent]["churn"]["drift"]["psi_score"] >= 0
    assert any("does not hold" in f["message"] and f["snapshot_id"] == ghost
               for f in report["findings"])
    with pytest.raises(Exception, match="no refresh recorded"):
        monitor(full, store=tmp_path / "empty", track=False)


def test_a_model_without_reference_says_retrain(monitored_env):
    """A version trained before monitoring existed: no drift, a message saying to retrain;
    the realised figures are still computed."""
    from forecasting.io import read_dataset
    from forecasting.monitoring.report import ChurnModelInfo, churn_section

    refresh = S.refreshes(monitored_env["store"])[-1]
    old = ChurnModelInfo(version="1", run_id=None, horizon_days=90, lookback_days=365,
                         holdout_cutoff=None, data_last_order=None, metrics={}, reference=None)
    findings = []
    sec = churn_section(read_dataset(monitored_env["data"]), refresh,
                        pd.Timestamp("2024-12-31"), {"1": old}, {}, findings)
    assert sec["drift"] == {}
    assert sec["realised"]["realised_roc_auc"] > 0.5
    assert any("no training reference" in f.message and "Retrain" in f.message
               for f in findings)


def test_a_second_monitor_logs_nothing_new(monitored_env):
    """Monitoring weekly re-reads the last refreshes; their figures are logged once."""
    from forecasting import tracking
    from forecasting.monitoring.report import monitor

    sid = monitored_env["snapshot_id"]
    monitor(monitored_env["data"])
    before = tracking.search_runs("monitoring", f"tags.snapshot_id = '{sid}'")
    monitor(monitored_env["data"])
    after = tracking.search_runs("monitoring", f"tags.snapshot_id = '{sid}'")
    assert len(before) == len(after) == 2  # one per family
