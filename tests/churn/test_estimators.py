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
    BlendChurn, DefaultLightGBM, LightGBMChurn, LogisticChurn, RecencyBaseline,
)
from forecasting.churn.metrics import churn_metrics
from forecasting.errors import ForecastingError

FAST = dict(max_trees=600, early_stopping_rounds=50, learning_rate=0.03)
ESTIMATORS = {
    "recency": lambda: RecencyBaseline(),
    "logistic": lambda: LogisticChurn(),
    "logistic_splines": lambda: LogisticChurn(splines=True),
    "lightgbm_default": lambda: DefaultLightGBM(),
    "lightgbm": lambda: LightGBMChurn(**FAST),
    "lightgbm_isotonic": lambda: LightGBMChurn(calibration="isotonic", **FAST),
    "blend": lambda: BlendChurn(**FAST),
}
CANDIDATES = ("lightgbm", "blend")  # what make_estimator builds for blend / lightgbm


@pytest.fixture(scope="module")
def fitted(sample_rows):
    X, y, Xt, yt = sample_rows
    return {name: make().fit(X, y) for name, make in ESTIMATORS.items()}


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


def test_contributions_sum_to_raw_log_odds(fitted, sample_rows):
    _, _, Xt, _ = sample_rows
    est = fitted["lightgbm"]
    contrib = est.contributions(Xt.head(20))
    raw = est.raw_proba(est.frame_.transform(Xt.head(20)))
    assert contrib.shape == (20, Xt.shape[1])
    bias = np.log(raw / (1 - raw)) - contrib.sum(axis=1).to_numpy()
    assert np.allclose(bias, bias[0])  # the remainder is the same bias term for every row


def test_one_class_and_missing_columns_are_clear_errors(sample_rows):
    X, y, Xt, _ = sample_rows
    with pytest.raises(ForecastingError, match="only one class"):
        LogisticChurn().fit(X, np.zeros(len(X), dtype=int))
    est = LogisticChurn().fit(X, y)
    with pytest.raises(ForecastingError, match="orders_90d"):
        est.predict_proba(Xt.drop(columns=["orders_90d"]))
