"""Churn estimators following the scikit-learn contract.

``__init__`` only stores keyword hyperparameters, ``fit(X, y)`` returns ``self``, learned
state ends in ``_``, ``predict_proba(X)`` returns an ``(n, 2)`` array (column 1 = churn).
``X`` is a DataFrame of numeric and categorical feature columns (see
:class:`forecasting.churn.frame.FeatureFrame`); ``y`` is 0/1 (1 = churned).

* :class:`RecencyBaseline` -- one feature (days since last order) through a logistic curve
* :class:`LogisticChurn` -- logistic regression on scaled features (+ optional splines)
* :class:`LightGBMChurn` -- shallow regularised LightGBM, early stopping and calibration
  chosen on a validation fold, then refitted on every row
* :class:`BlendChurn` -- LightGBM and spline-logistic averaged with a weight chosen on the
  validation fold, then calibrated; reasons come from its LightGBM part

Models that need a validation fold take ``fit(X, y, X_val=None, y_val=None)``: without one
(``--table`` mode) they split a stratified ``validation_fraction`` off the training rows; the
time-based pipeline passes its latest training cutoff instead. Prediction is single-threaded
(serving relies on it).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_order": rng.uniform(0, 300, 400)})
    >>> y = (rng.uniform(0, 300, 400) < X["days_since_last_order"]).astype(int)
    >>> p = LogisticChurn().fit(X, y).predict_proba(X)[:, 1]
    >>> bool(((p >= 0) & (p <= 1)).all())
    True
"""

from __future__ import annotations

import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer, OneHotEncoder, SplineTransformer, StandardScaler,
)

from forecasting.churn.calibration import Calibrator, choose_calibrator
from forecasting.churn.frame import MISSING_CATEGORY, FeatureFrame, as_binary_labels
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)

RECENCY_FEATURE = "days_since_last_order"


def _stack(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    return np.column_stack([1.0 - p, p])


class _Base:
    """``get_params`` / ``set_params`` / ``repr`` from the ``__init__`` keywords."""

    def get_params(self, deep: bool = False) -> dict:
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params) -> _Base:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(int)


class RecencyBaseline(_Base):
    """Churn probability from one recency feature alone (log1p, logistic fit).

    Customers without a value get the training median.
    """

    def __init__(self, feature: str = RECENCY_FEATURE):
        self.feature = feature

    def _x(self, X: pd.DataFrame) -> np.ndarray:
        if self.feature not in X.columns:
            raise ForecastingError(f"the recency baseline needs column {self.feature!r}")
        v = pd.to_numeric(X[self.feature], errors="coerce").to_numpy(dtype=float)
        v = np.where(np.isnan(v), self.median_, v)
        return np.log1p(np.clip(v, 0, None)).reshape(-1, 1)

    def fit(self, X: pd.DataFrame, y, X_val=None, y_val=None) -> RecencyBaseline:
        y = as_binary_labels(y)
        v = pd.to_numeric(X[self.feature], errors="coerce") if self.feature in X.columns else None
        self.median_ = float(np.nanmedian(v)) if v is not None and v.notna().any() else 0.0
        self.model_ = LogisticRegression(max_iter=1000).fit(self._x(X), y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self._x(X))


def _signed_log1p(x):
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def _categorical_as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object).where(df.notna(), MISSING_CATEGORY).astype(str)


class LogisticChurn(_Base):
    """Logistic regression: median-imputed numeric columns (with missing indicators),
    standardised, plus quantile-knot cubic splines of the continuous ones when ``splines``;
    categorical columns one-hot encoded (missing is its own category)."""

    def __init__(self, C: float = 1.0, splines: bool = False, n_knots: int = 5,
                 max_iter: int = 5000):
        self.C = C
        self.splines = splines
        self.n_knots = n_knots
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y, X_val=None, y_val=None) -> LogisticChurn:
        y = as_binary_labels(y)
        self.frame_ = FeatureFrame().fit(X)
        Xf = self.frame_.transform(X)
        num, cat = self.frame_.numeric_, self.frame_.categorical_
        parts = []
        if num:
            parts.append(("num", make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler()), num))
        continuous = [c for c in num if Xf[c].nunique() > self.n_knots]
        if self.splines and continuous:
            # splines on signed log values: heavy tails do not bend the curve, and the
            # transform is smooth (a value rounded in transit scores the same)
            parts.append(("spline", make_pipeline(
                SimpleImputer(strategy="median", keep_empty_features=True),
                FunctionTransformer(_signed_log1p),
                SplineTransformer(n_knots=self.n_knots, degree=3, knots="uniform",
                                  extrapolation="linear"),
                StandardScaler()), continuous))
        if cat:
            parts.append(("cat", make_pipeline(
                FunctionTransformer(_categorical_as_text), OneHotEncoder(handle_unknown="ignore")), cat))
        self.model_ = make_pipeline(
            ColumnTransformer(parts, sparse_threshold=0.0),
            LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.model_.fit(Xf, y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self.frame_.transform(X))


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
        from sklearn.metrics import roc_auc_score

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


class DefaultLightGBM(_Base):
    """LightGBM with its library defaults (100 trees, 31 leaves, rate 0.1): a baseline."""

    def __init__(self, random_state: int = 0, n_jobs: int = 1):
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: pd.DataFrame, y, X_val=None, y_val=None) -> DefaultLightGBM:
        y = as_binary_labels(y)
        self.frame_ = FeatureFrame().fit(X)
        params = {"objective": "binary", "seed": self.random_state, "num_threads": self.n_jobs,
                  "deterministic": True, "force_row_wise": True, "verbosity": -1}
        self.booster_ = lgb.train(params, lgb.Dataset(self.frame_.transform(X), label=y),
                                  num_boost_round=100)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        Xf = self.frame_.transform(X)
        return _stack(self.booster_.predict(self.frame_.to_matrix(Xf), num_threads=1))


def make_estimator(kind: str, lightgbm_params: dict | None = None, calibration: str = "auto",
                   validation_fraction: float = 0.2, seed: int = 0,
                   blend_weight: float | str = 0.5, refit: bool = True):
    """The candidate named in the config: ``blend``, ``lightgbm`` or ``logistic``."""
    params = dict(lightgbm_params or {})
    common = dict(calibration=calibration, validation_fraction=validation_fraction,
                  random_state=seed, refit=refit, **params)
    if kind == "blend":
        return BlendChurn(weight=blend_weight, **common)
    if kind == "lightgbm":
        return LightGBMChurn(**common)
    if kind == "logistic":
        return LogisticChurn(splines=True)
    raise ForecastingError(f"unknown churn model {kind!r}: use blend, lightgbm or logistic")
