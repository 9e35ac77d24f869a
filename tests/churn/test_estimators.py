"""One contract suite over every churn estimator (scikit-learn contract + ours).

Deterministic, does not mutate its input, probabilities in [0, 1] with shape (n, 2), params
stored as given, fit returns self, beats the base-rate predictor on sample data; the
candidates also beat the recency-only baseline on a later (time-split) cutoff.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.churn.estimators import (
    AverageChurn, DefaultLightGBM, LogisticChurn, RecencyBaseline, TreeChurn,
)
from forecasting.churn.metrics import churn_metrics
from forecasting.errors import ForecastingError

TREE = dict(params={"learning_rate": 0.05, "num_leaves": 7, "min_child_samples": 50},
            n_trees=150)
ESTIMATORS = {
    "recency": lambda: RecencyBaseline(),
    "logistic": lambda: LogisticChurn(),
    "logistic_splines": lambda: LogisticChurn(splines=True),
    "lightgbm_default": lambda: DefaultLightGBM(),
    "lightgbm": lambda: TreeChurn(**TREE),
    "blend": lambda: AverageChurn((TreeChurn(**TREE), LogisticChurn(splines=True)), (1, 1)),
}
CANDIDATES = ("lightgbm", "blend", "logistic")


@pytest.fixture(scope="module")
def fitted(sample_rows):
    X, y, Xt, yt = sample_rows
    return {name: make().fit(X, y) for name, make in ESTIMATORS.items()}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_estimator_has_size_and_contributions(name, fitted, sample_rows):
    _, _, Xt, _ = sample_rows
    assert fitted[name].size_ >= 2
    c = fitted[name].contributions(Xt.head(3))
    assert c.shape[0] == 3 and np.isfinite(c.to_numpy()).all()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_init_only_stores_params(name):
    est = ESTIMATORS[name]()
    params = est.get_params()
    assert params and all(getattr(est, k) is v or getattr(est, k) == v for k, v in params.items())
    assert not [a for a in vars(est) if a.endswith("_")]  # no learned state before fit
    assert type(est)(**params).get_params() == params


@pytest.mark.parametrize("name", ESTIMATORS)
def test_fit_returns_self_and_learned_state_ends_in_underscore(name, sample_rows):
    X, y, _, _ = sample_rows
    est = ESTIMATORS[name]()
    assert est.fit(X, y) is est
    assert [a for a in vars(est) if a.endswith("_")]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_probabilities_shape_range_and_determinism(name, fitted, sample_rows):
    X, y, Xt, _ = sample_rows
    p = fitted[name].predict_proba(Xt)
    assert p.shape == (len(Xt), 2)
    assert np.all((p >= 0) & (p <= 1)) and np.allclose(p.sum(axis=1), 1)
    again = ESTIMATORS[name]().fit(X, y).predict_proba(Xt)
    np.testing.assert_array_equal(p, again)  # same seed, same data: same probabilities


@pytest.mark.parametrize("name", ESTIMATORS)
def test_does_not_mutate_input(name, sample_rows):
    X, y, Xt, _ = sample_rows
    X0, y0, Xt0 = X.copy(), y.copy(), Xt.copy()
    est = ESTIMATORS[name]().fit(X, y)
    est.predict_proba(Xt)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_frame_equal(Xt, Xt0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_beats_base_rate_on_later_cutoff(name, fitted, sample_rows):
    X, y, Xt, yt = sample_rows
    m = churn_metrics(yt, fitted[name].predict_proba(Xt)[:, 1])
    constant = churn_metrics(yt, np.full(len(yt), y.mean()))
    assert m["roc_auc"] > 0.7
    assert m["brier"] < constant["brier"]


@pytest.mark.parametrize("name", CANDIDATES)
def test_candidates_beat_recency_baseline(name, fitted, sample_rows):
    _, _, Xt, yt = sample_rows
    auc = churn_metrics(yt, fitted[name].predict_proba(Xt)[:, 1])["roc_auc"]
    recency = churn_metrics(yt, fitted["recency"].predict_proba(Xt)[:, 1])["roc_auc"]
    assert auc > recency


def test_single_row_and_column_order_and_unknown_category(fitted, sample_rows):
    _, _, Xt, _ = sample_rows
    est = fitted["blend"]
    full = est.predict_proba(Xt)[:, 1]
    row = Xt.iloc[[3]][list(reversed(Xt.columns))].copy()  # columns in another order
    assert est.predict_proba(row)[0, 1] == pytest.approx(full[3], abs=1e-12)
    row["attr_region"] = pd.Categorical(["atlantis"])  # never seen in training: missing
    assert 0 <= est.predict_proba(row)[0, 1] <= 1


@pytest.mark.parametrize("name", ["lightgbm", "logistic", "logistic_splines", "recency"])
def test_contributions_sum_to_log_odds(name, fitted, sample_rows):
    """Tree and logistic reasons are exact: contributions add up to the row's log-odds
    (up to one bias term shared by every row)."""
    _, _, Xt, _ = sample_rows
    est = fitted[name]
    contrib = est.contributions(Xt.head(20))
    raw = est.predict_proba(Xt.head(20))[:, 1]
    assert len(contrib) == 20 and set(contrib.columns) <= set(Xt.columns)
    bias = np.log(raw / (1 - raw)) - contrib.sum(axis=1).to_numpy()
    assert np.allclose(bias, bias[0], atol=1e-8)


def test_one_class_and_missing_columns_are_clear_errors(sample_rows):
    X, y, Xt, _ = sample_rows
    with pytest.raises(ForecastingError, match="only one class"):
        LogisticChurn().fit(X, np.zeros(len(X), dtype=int))
    est = LogisticChurn().fit(X, y)
    with pytest.raises(ForecastingError, match="orders_90d"):
        est.predict_proba(Xt.drop(columns=["orders_90d"]))


@pytest.mark.parametrize("name", ["logistic", "logistic_splines"])
def test_compiled_logistic_equals_the_sklearn_pipeline(name, fitted, sample_rows):
    """Scoring runs the fitted design in numpy; it must equal scikit-learn's own pipeline,
    also on JSON-like rows (text numbers, unseen and missing categories)."""
    _, _, Xt, _ = sample_rows
    est = fitted[name]
    rows = Xt.head(50).copy()
    rows.iloc[0, rows.columns.get_loc("orders_90d")] = np.nan
    cat = est.frame_.categorical_
    if cat:
        rows[cat[0]] = rows[cat[0]].astype(object)
        rows.iloc[1, rows.columns.get_loc(cat[0])] = "never seen"
        rows.iloc[2, rows.columns.get_loc(cat[0])] = None
    expected = est.model_.predict_proba(est.frame_.transform(rows))[:, 1]
    np.testing.assert_allclose(est.predict_proba(rows)[:, 1], expected, rtol=0, atol=1e-12)
