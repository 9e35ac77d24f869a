"""The promotion gate: a worse challenger leaves the champion; other holdouts need --force."""

from __future__ import annotations

import copy

import pytest

from forecasting import tracking
from forecasting.churn.config import ChurnConfig
from forecasting.churn.gate import make_decide
from forecasting.churn.pipeline import train_time_based
from forecasting.churn.track import log_training


@pytest.fixture(scope="module")
def trained(sample_data):
    return train_time_based(sample_data, ChurnConfig(n_cutoffs=3, model="logistic"))


def _log(result, sample_data, **metric_changes):
    from forecasting.features import build_features

    r = copy.copy(result)
    r.metrics = dict(result.metrics)
    for k, dv in metric_changes.items():
        r.metrics[k] += dv
    example = build_features(sample_data, "2024-12-31").head(3).reset_index()
    return log_training(r, "churn", example)


def test_worse_challenger_leaves_champion(trained, sample_data):
    first = _log(trained, sample_data)
    assert tracking.promote("churn", make_decide()).promoted
    worse = _log(trained, sample_data, holdout_roc_auc=-0.02)  # lower ROC AUC, same Brier
    res = tracking.promote("churn", make_decide())
    assert not res.promoted and "ROC AUC lower" in res.reason
    assert tracking.get_version("churn", tracking.CHAMPION).version == first.version
    assert tracking.get_version("churn", tracking.CHALLENGER).version == worse.version

    better = _log(trained, sample_data, holdout_roc_auc=+0.01, holdout_brier=-0.001)
    res = tracking.promote("churn", make_decide())
    assert res.promoted and "no worse on both" in res.reason
    assert tracking.get_version("churn", tracking.CHAMPION).version == better.version


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


def _ref(version, auc, brier, fingerprint="same"):
    from types import SimpleNamespace

    return SimpleNamespace(version=version, metrics={"holdout_roc_auc": auc,
                                                     "holdout_brier": brier},
                           params={"holdout_fingerprint": fingerprint}, tags={})
