"""The promotion gate: a worse challenger leaves the champion; other holdouts need --force."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from forecasting import tracking
from forecasting.churn.config import ChurnConfig
from forecasting.churn.gate import make_decide
from forecasting.churn.metrics import churn_metrics
from forecasting.churn.pipeline import train_time_based
from forecasting.churn.track import log_training


@pytest.fixture(scope="module")
def trained(sample_data):
    return train_time_based(sample_data, ChurnConfig(n_cutoffs=3, candidates=("logreg",)))


def _log(result, sample_data, proba=None, **metric_changes):
    """Log ``result`` again, with other holdout probabilities and/or metrics."""
    from forecasting.features import build_features

    r = copy.copy(result)
    r.metrics = dict(result.metrics)
    for k, dv in metric_changes.items():
        r.metrics[k] += dv
    if proba is not None:
        r.proba_holdout = dict(result.proba_holdout, model=proba)
        m = churn_metrics(result.y_holdout, proba)
        r.metrics |= {"holdout_roc_auc": m["roc_auc"], "holdout_brier": m["brier"]}
    example = build_features(sample_data, "2024-12-31").head(3).reset_index()
    return log_training(r, "churn", example)


def test_worse_challenger_leaves_champion(trained, sample_data):
    """Paired bootstrap on the same holdout rows: a challenger whose probabilities are
    partly noise is worse beyond the noise; an identical one (a retrain) is promoted."""
    first = _log(trained, sample_data)
    assert tracking.promote("churn", make_decide()).promoted
    p = trained.proba_holdout["model"]
    rng = np.random.default_rng(0)
    noisy = np.clip(0.5 * p + 0.5 * rng.permutation(p), 0, 1)  # half of it shuffled
    worse = _log(trained, sample_data, proba=noisy)
    res = tracking.promote("churn", make_decide())
    assert not res.promoted and "ROC AUC lower beyond the noise" in res.reason
    assert "paired bootstrap" in res.reason and "95%" in res.reason
    assert tracking.get_version("churn", tracking.CHAMPION).version == first.version
    assert tracking.get_version("churn", tracking.CHALLENGER).version == worse.version

    # the same predictions with (spuriously) lower point figures: not worse beyond the noise
    same = _log(trained, sample_data, holdout_roc_auc=-0.001, holdout_brier=+0.0001)
    res = tracking.promote("churn", make_decide())
    assert res.promoted and "not worse beyond the noise" in res.reason
    assert "ROC AUC +0.0000 (95% +0.0000 to +0.0000)" in res.reason
    assert tracking.get_version("churn", tracking.CHAMPION).version == same.version


def test_slightly_different_predictions_are_within_the_noise(trained):
    """A challenger a hair worse on these rows is not worse beyond the noise: the gate
    decides on the interval, not on the sign of the difference."""
    y, p = trained.y_holdout, trained.proba_holdout["model"]
    rng = np.random.default_rng(1)
    q = np.clip(p + rng.normal(0, 0.01, len(p)), 0, 1)
    frame = lambda proba: pd.DataFrame({"row_id": trained.ids_holdout, "churned": y,
                                        "churn_probability": proba})
    preds = {"a": frame(p), "b": frame(q)}
    decide = make_decide(load_predictions=lambda run_id: preds.get(run_id))
    ma, mb = churn_metrics(y, p), churn_metrics(y, q)
    champ = _ref("1", ma["roc_auc"], ma["brier"], run_id="a")
    chall = _ref("2", mb["roc_auc"], mb["brier"], run_id="b")
    ok, reason = decide(champ, chall)
    assert ok, reason
    assert "paired bootstrap" in reason


def test_worse_brier_alone_is_rejected():
    decide = make_decide()
    champ = _ref("1", 0.80, 0.150)
    assert not decide(champ, _ref("2", 0.81, 0.151))[0]
    assert decide(champ, _ref("3", 0.80, 0.150))[0]  # equal is no worse


def test_different_holdout_needs_force():
    champ = _ref("1", 0.80, 0.15, fingerprint="cutoff=2024-01-01|rows=10|aaa")
    chall = _ref("2", 0.90, 0.10, fingerprint="cutoff=2024-02-01|rows=12|bbb")
    ok, reason = make_decide()(champ, chall)
    assert not ok and "different data" in reason and "--force" in reason
    ok, reason = make_decide(force=True)(champ, chall)
    assert ok and reason.startswith("forced")


def _ref(version, auc, brier, fingerprint="same", run_id=None):
    from types import SimpleNamespace

    return SimpleNamespace(version=version, run_id=run_id, metrics={"holdout_roc_auc": auc,
                                                     "holdout_brier": brier},
                           params={"holdout_fingerprint": fingerprint}, tags={})
