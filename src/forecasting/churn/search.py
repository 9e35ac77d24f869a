"""A bounded, seeded search of LightGBM settings on a validation fold (Optuna's TPE sampler).

Each trial trains trees on the training rows with early stopping on the validation rows and
scores the validation log loss at the best iteration; the search returns the best trial's
settings and tree count. Same rows + same seed = same result (TPE is seeded, LightGBM is
deterministic and single-threaded).

The search space is the only place tree settings are set: nothing here was picked by looking
at a benchmark's test folds. Ranges are the usual ones for tabular data of thousands to
hundreds of thousands of rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd

from forecasting.churn.config import DEFAULT_TRIALS
from forecasting.churn.estimators import LGBM_FIXED
from forecasting.churn.frame import FeatureFrame

log = logging.getLogger(__name__)

MAX_TREES = 2000
EARLY_STOPPING_ROUNDS = 50


def suggest(trial: optuna.Trial) -> dict:
    """One point of the search space (LightGBM parameter names)."""
    return {
        "num_leaves": trial.suggest_int("num_leaves", 2, 64, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 12),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 300, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 100.0, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-3, 10.0, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "subsample_freq": 1,
    }


@dataclass
class SearchResult:
    params: dict          # LightGBM parameters of the best trial
    n_trees: int          # its early-stopped tree count
    valid_log_loss: float  # its validation log loss (before calibration)
    trials: pd.DataFrame  # every trial: parameters, trees, log loss


def tune_lightgbm(X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray,
                  trials: int = DEFAULT_TRIALS, seed: int = 0,
                  max_trees: int = MAX_TREES,
                  early_stopping_rounds: int = EARLY_STOPPING_ROUNDS) -> SearchResult:
    """Search ``trials`` settings; every one is trained on ``X`` and judged on ``X_val``."""
    frame = FeatureFrame().fit(X)
    train = lgb.Dataset(frame.transform(X), label=y, free_raw_data=False,
                        params={"verbosity": -1, "feature_pre_filter": False})
    valid = lgb.Dataset(frame.transform(X_val), label=y_val, reference=train,
                        free_raw_data=False)
    trees: dict[int, int] = {}

    def objective(trial: optuna.Trial) -> float:
        params = {**LGBM_FIXED, "seed": seed, "num_threads": 1, "metric": "binary_logloss",
                  **suggest(trial)}
        booster = lgb.train(params, train, num_boost_round=max_trees, valid_sets=[valid],
                            callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)])
        trees[trial.number] = max(1, int(booster.best_iteration or booster.current_iteration()))
        return float(booster.best_score["valid_0"]["binary_logloss"])

    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, trials))
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial otherwise
    try:
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.optimize(objective, n_trials=trials)
    finally:
        optuna.logging.set_verbosity(previous)
    best = study.best_trial
    table = pd.DataFrame([{**t.params, "trees": trees.get(t.number), "valid_log_loss": t.value}
                          for t in study.trials])
    params = {**best.params, "subsample_freq": 1}
    log.debug("search: best of %d trials %s, %d trees, log loss %.4f", trials, params,
              trees[best.number], best.value)
    return SearchResult(params=params, n_trees=trees[best.number],
                        valid_log_loss=float(best.value), trials=table)
