"""Estimators of models registered before validation-chosen candidates (kept to load them).

Churn models logged before the choice by validation (issue 11) pickled these classes; they
still load and score. New training never builds them: see :mod:`forecasting.churn.candidates`.
Retrain (``forecasting train churn``) to get a model chosen on your data.
"""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from forecasting.churn.calibration import choose_calibrator
from forecasting.churn.estimators import LogisticChurn, _Base, _stack
from forecasting.churn.frame import FeatureFrame, as_binary_labels

log = logging.getLogger(__name__)


def _validation_split(X, y, X_val, y_val, fraction: float, seed: int):
    if X_val is not None:
        return X, y, X_val, as_binary_labels(y_val, "validation label"), False
    Xa, Xv, ya, yv = train_test_split(X, y, test_size=fraction, stratify=y, random_state=seed)
    return Xa, ya, Xv, yv, True


class LightGBMChurn(_Base):
    """Gradient-boosted trees with early stopping and calibration chosen on validation.

    Fit: trees are added until the validation log loss has not improved for
    ``early_stopping_rounds``; calibration (``auto`` = best of none/sigmoid/isotonic by
    cross-fitted Brier on the validation predictions) maps raw to final probabilities; with
    ``refit`` the trees are refitted on training + validation rows with the number of trees
    scaled to the larger row count.
    """

    def __init__(self, learning_rate: float = 0.01, num_leaves: int = 3,
                 min_child_samples: int = 100, reg_lambda: float = 10.0, subsample: float = 0.7,
                 colsample_bytree: float = 0.5, max_trees: int = 5000,
                 early_stopping_rounds: int = 200, calibration: str = "auto",
                 validation_fraction: float = 0.2, refit: bool = True, random_state: int = 0,
                 n_jobs: int = 1):
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_trees = max_trees
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict:
        return {
            "objective": "binary", "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
            "reg_lambda": self.reg_lambda, "subsample": self.subsample, "subsample_freq": 1,
            "colsample_bytree": self.colsample_bytree, "seed": self.random_state,
            "num_threads": self.n_jobs, "deterministic": True, "force_row_wise": True,
            "verbosity": -1, "min_data_per_group": 20, "cat_smooth": 10.0,
        }

    def _fit_trees(self, Xa, ya, Xv=None, yv=None, n_trees=None) -> lgb.Booster:
        train = lgb.Dataset(Xa, label=ya, free_raw_data=True)
        if Xv is None:
            return lgb.train(self._params(), train, num_boost_round=int(n_trees))
        valid = lgb.Dataset(Xv, label=yv, reference=train)
        return lgb.train(self._params(), train, num_boost_round=self.max_trees,
                         valid_sets=[valid],
                         callbacks=[lgb.early_stopping(self.early_stopping_rounds,
                                                       verbose=False)])

    def _fit_validated(self, X, y, X_val, y_val):
        """Fit on the train part with early stopping; returns raw validation probabilities
        and the (train, valid) parts."""
        y = as_binary_labels(y)
        self.frame_ = FeatureFrame().fit(X)
        Xa, ya, Xv, yv, split = _validation_split(
            X, y, X_val, y_val, self.validation_fraction, self.random_state)
        Xa, Xv = self.frame_.transform(Xa), self.frame_.transform(Xv)
        booster = self._fit_trees(Xa, ya, Xv, yv)
        self.best_iteration_ = max(1, int(booster.best_iteration or booster.current_iteration()))
        self.booster_ = booster
        p_val = booster.predict(Xv, num_iteration=self.best_iteration_, num_threads=1)
        return p_val, (Xa, ya, Xv, yv)

    def _refit_all(self, parts) -> None:
        Xa, ya, Xv, yv = parts
        X_all, y_all = pd.concat([Xa, Xv]), np.concatenate([ya, yv])
        n_trees = max(1, int(round(self.best_iteration_ * len(y_all) / len(ya))))
        self.booster_ = self._fit_trees(X_all, y_all, n_trees=n_trees)
        self.n_trees_ = n_trees

    def fit(self, X: pd.DataFrame, y, X_val=None, y_val=None) -> LightGBMChurn:
        p_val, parts = self._fit_validated(X, y, X_val, y_val)
        self.calibrator_, self.calibration_scores_ = choose_calibrator(
            p_val, parts[3], self.calibration, seed=self.random_state)
        self.n_trees_ = self.best_iteration_
        if self.refit:
            self._refit_all(parts)
        log.debug("lightgbm: %d trees, calibration %s", self.n_trees_, self.calibrator_.method)
        return self

    def raw_proba(self, Xf: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(self.frame_.to_matrix(Xf), num_iteration=self.n_trees_,
                                     num_threads=1)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _stack(self.calibrator_.transform(self.raw_proba(self.frame_.transform(X))))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-row log-odds contribution of each feature (LightGBM ``pred_contrib``)."""
        Xf = self.frame_.transform(X)
        c = self.booster_.predict(self.frame_.to_matrix(Xf), num_iteration=self.n_trees_,
                                  pred_contrib=True, num_threads=1)
        return pd.DataFrame(c[:, :-1], columns=self.frame_.columns_, index=X.index)

    def feature_importance(self) -> pd.Series:
        """Total gain per feature, largest first."""
        gain = self.booster_.feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.frame_.columns_).sort_values(ascending=False)


class BlendChurn(LightGBMChurn):
    """LightGBM averaged with a spline logistic regression, then calibrated.

    ``weight`` is the weight of LightGBM (default an equal average); ``auto`` picks the one of
    0, 0.25, 0.5, 0.75, 1 with the highest validation ROC AUC (ties: closest to 0.5), so
    the validation fold also chooses between pure LightGBM, pure logistic and a mix; calibration is chosen on the blended validation probabilities. Both parts are
    refitted on every row. ``contributions`` are those of the LightGBM part.
    """

    def __init__(self, learning_rate: float = 0.01, num_leaves: int = 3,
                 min_child_samples: int = 100, reg_lambda: float = 10.0, subsample: float = 0.7,
                 colsample_bytree: float = 0.5, max_trees: int = 5000,
                 early_stopping_rounds: int = 200, calibration: str = "auto",
                 validation_fraction: float = 0.2, refit: bool = True, random_state: int = 0,
                 n_jobs: int = 1, logistic_C: float = 0.1, weight: float | str = 0.5):
        super().__init__(learning_rate, num_leaves, min_child_samples, reg_lambda, subsample,
                         colsample_bytree, max_trees, early_stopping_rounds, calibration,
                         validation_fraction, refit, random_state, n_jobs)
        self.logistic_C = logistic_C
        self.weight = weight

    def _logistic(self) -> LogisticChurn:
        return LogisticChurn(C=self.logistic_C, splines=True)

    def fit(self, X: pd.DataFrame, y, X_val=None, y_val=None) -> BlendChurn:
        p_tree, parts = self._fit_validated(X, y, X_val, y_val)
        Xa, ya, Xv, yv = parts
        logistic = self._logistic().fit(Xa, ya)
        p_lin = logistic.predict_proba(Xv)[:, 1]
        grid = [0.0, 0.25, 0.5, 0.75, 1.0] if self.weight == "auto" else [float(self.weight)]
        # ranking quality decides the weight; calibration fixes the probabilities afterwards
        self.weight_scores_ = {w: float(roc_auc_score(yv, w * p_tree + (1 - w) * p_lin))
                               for w in grid}
        self.weight_ = max(grid, key=lambda w: (round(self.weight_scores_[w], 4),
                                                -abs(w - 0.5)))
        p_val = self.weight_ * p_tree + (1 - self.weight_) * p_lin
        self.calibrator_, self.calibration_scores_ = choose_calibrator(
            p_val, yv, self.calibration, seed=self.random_state)
        self.n_trees_ = self.best_iteration_
        self.logistic_ = logistic
        if self.refit:
            self._refit_all(parts)
            self.logistic_ = self._logistic().fit(pd.concat([Xa, Xv]), np.concatenate([ya, yv]))
        log.debug("blend: weight %.2f on %d trees, calibration %s", self.weight_, self.n_trees_,
                  self.calibrator_.method)
        return self

    def raw_proba(self, Xf: pd.DataFrame) -> np.ndarray:
        p_tree = super().raw_proba(Xf)
        if self.weight_ == 1.0:
            return p_tree
        p_lin = self.logistic_.predict_proba(Xf)[:, 1]
        return self.weight_ * p_tree + (1 - self.weight_) * p_lin
