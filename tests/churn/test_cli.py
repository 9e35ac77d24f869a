"""The churn CLI end to end on small sample data, MLflow in tmp_path (autouse fixture in
tests/conftest.py sets MLFLOW_TRACKING_URI and FORECASTING_MODELS_DIR)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from forecasting import tracking
from forecasting.cli import main



def test_train_promote_score_end_to_end(sample_dir, tmp_path, capsys, fast_config):
    report = tmp_path / "report.json"
    assert main(["train", "churn", str(sample_dir), "--report", str(report),
                 "--config", str(fast_config), "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "baseline_recency" in out and "baseline_logreg" in out  # side by side
    metrics = json.loads(report.read_text())["metrics"]
    for key in ("holdout_roc_auc", "holdout_pr_auc", "holdout_brier", "holdout_log_loss",
                "holdout_lift_top_decile", "baseline_logreg_holdout_roc_auc",
                "baseline_recency_holdout_roc_auc"):
        assert 0 <= metrics[key] < 10, key
    challenger = tracking.get_version("churn", tracking.CHALLENGER)
    assert challenger is not None
    # every candidate side by side, the choice and why: in the output, report and MLflow
    assert "chosen:" in out and "lgbm_tuned" in out and "95% bootstrap" in out
    full = json.loads(report.read_text())
    names = {c["candidate"] for c in full["candidates"]}
    assert names == {"recency", "logreg", "logreg_splines", "lgbm_default", "lgbm_tuned",
                     "blend"}
    assert full["chosen_candidate"] in names and full["choice_reason"]
    assert challenger.params["chosen_candidate"] == full["chosen_candidate"]
    for name in names:
        assert f"candidate_{name}_valid_log_loss" in challenger.metrics
        assert f"candidate_{name}_holdout_roc_auc" in challenger.metrics
    for key in ("holdout_roc_auc_lo95", "holdout_brier_hi95", "holdout_recent90_roc_auc",
                "holdout_recent90_lift_top_decile"):
        assert key in challenger.metrics
    logged = tracking.download_artifact(challenger.run_id, "candidates.csv")
    assert set(pd.read_csv(logged)["candidate"]) == names
    preds = pd.read_parquet(tracking.download_artifact(challenger.run_id,
                                                       "holdout_predictions.parquet"))
    assert len(preds) == int(challenger.params["rows_holdout"])
    assert list(preds.columns) == ["row_id", "churned", "churn_probability"]

    assert main(["promote", "churn"]) == 0
    assert "first model becomes champion" in capsys.readouterr().out
    champion = tracking.get_version("churn", tracking.CHAMPION)
    assert champion is not None and champion.params["holdout_fingerprint"].startswith("cutoff=")

    # the logged pyfunc returns probabilities and reasons, not labels
    model, _ = tracking.load_model("churn")
    from forecasting.features import build_features
    from forecasting.io import read_dataset

    feats = build_features(read_dataset(sample_dir), "2024-12-31").head(10).reset_index()
    pred = model.predict(feats)
    assert pred["churn_probability"].between(0, 1).all()
    assert pred["churn_probability"].nunique() > 2
    assert json.loads(pred["reasons"].iloc[0])[0]["text"]

    out_file = tmp_path / "scores.csv"
    assert main(["score", str(sample_dir), "--as-of", "2024-12-31", "--out", str(out_file),
                 "--bands", "0.2,0.5"]) == 0
    scores = pd.read_csv(out_file)
    assert list(scores.columns) == ["customer_id", "as_of", "churn_probability", "risk_band",
                                    "reason_1", "reason_2", "reason_3", "reasons",
                                    "model_version"]
    assert scores["churn_probability"].is_monotonic_decreasing
    assert set(scores["risk_band"]) <= {"low", "medium", "high"}
    assert (scores.loc[scores["churn_probability"] >= 0.5, "risk_band"] == "high").all()
    assert scores["model_version"].astype(str).eq(champion.version).all()
    top = scores.iloc[0]
    assert isinstance(top["reason_1"], str) and top["reason_1"]
    assert json.loads(top["reasons"])[0]["text"] == top["reason_1"]


def test_table_mode_end_to_end(tmp_path, capsys, crm_table, fast_config):
    path = tmp_path / "crm.csv"
    crm_table().to_csv(path, index=False)
    report = tmp_path / "r.json"
    assert main(["train", "churn", "--table", str(path), "--label", "Churn",
                 "--id-col", "customer", "--cv", "3", "--report", str(report),
                 "--config", str(fast_config)]) == 0
    metrics = json.loads(report.read_text())["metrics"]
    assert metrics["cv_roc_auc"] > 0.6 and 0 < metrics["cv_brier"] < 0.25
    assert "baseline_logreg_cv_roc_auc" in metrics
    assert main(["promote", "churn", "--model-name", "churn_table"]) == 0
    model, ref = tracking.load_model("churn_table")
    scored = model.predict(pd.read_csv(path).head(3))
    assert scored["customer_id"].tolist() == ["K0000", "K0001", "K0002"]
    assert scored["churn_probability"].between(0, 1).all()


@pytest.mark.parametrize("change, args, message", [
    (None, ["--label", "churned"], "no column 'churned'"),
    ("one_class", ["--label", "Churn"], "only one class"),
    ("all_null", ["--label", "Churn"], "all values missing"),
    (None, ["--label", "Churn", "--id-col", "cust_no"], "unknown id column"),
    ("bad_label", ["--label", "Churn"], "unknown label value"),
])
def test_bad_table_input_exit_1_clear_message_no_traceback(tmp_path, capsys, crm_table,
                                                           change, args, message):
    df = crm_table(60)
    if change == "one_class":
        df["Churn"] = "No"
    elif change == "all_null":
        df["notes"] = None
    elif change == "bad_label":
        df.loc[3, "Churn"] = "maybe"
    path = tmp_path / "crm.csv"
    df.to_csv(path, index=False)
    assert main(["train", "churn", "--table", str(path), *args, "--no-track"]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_config_is_a_clear_error(tmp_path, capsys, crm_table):
    path = tmp_path / "crm.csv"
    crm_table(60).to_csv(path, index=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon_dayz = 30\n")
    assert main(["train", "churn", "--table", str(path), "--label", "Churn",
                 "--config", str(bad)]) == 1
    assert "unknown setting(s) ['horizon_dayz']" in capsys.readouterr().err
    assert main(["train", "churn", "--table", str(path), "--label", "Churn",
                 "--bands", "0.7,0.2"]) == 1
    assert "increasing" in capsys.readouterr().err


def test_bad_cli_usage_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "churn"]) == 1
    assert "DATA_DIR" in capsys.readouterr().err
    assert main(["train", "churn", "--table", str(tmp_path / "x.csv")]) == 1
    assert "--label" in capsys.readouterr().err
    assert main(["score", str(tmp_path), "--as-of", "2024-01-01", "--out",
                 str(tmp_path / "s.csv")]) == 1
    err = capsys.readouterr().err
    assert "no 'champion' version" in err and "Traceback" not in err
