"""Probability calibration chosen on a validation fold, never on the holdout.

:func:`choose_calibrator` compares no calibration, Platt (sigmoid) and isotonic calibration
by cross-fitting each on the validation predictions (the calibrator is fitted on some
validation rows and judged on the others), picks the lowest Brier score, and refits the
winner on every validation row.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

METHODS = ("none", "sigmoid", "isotonic")
_EPS = 1e-6
_TIE = 1e-4


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class Calibrator:
    """Maps raw probabilities to calibrated ones; ``method`` is none, sigmoid or isotonic."""

    def __init__(self, method: str = "none"):
        self.method = method

    def fit(self, proba: np.ndarray, y: np.ndarray) -> Calibrator:
        proba = np.asarray(proba, dtype=float)
        if self.method == "sigmoid":
            self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(
                _logit(proba).reshape(-1, 1), y)
        elif self.method == "isotonic":
            self.model_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                proba, y)
        elif self.method != "none":
            raise ValueError(f"unknown calibration method {self.method!r}")
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        proba = np.asarray(proba, dtype=float)
        if self.method == "sigmoid":
            out = self.model_.predict_proba(_logit(proba).reshape(-1, 1))[:, 1]
        elif self.method == "isotonic":
            # a tiny increasing term keeps the ranking inside isotonic plateaus (ROC AUC)
            out = self.model_.predict(proba) * (1 - _TIE) + _TIE * proba
        else:
            out = proba
        return np.clip(out, 0.0, 1.0)


def cross_fit(method: str, proba: np.ndarray, y: np.ndarray, seed: int = 0,
              folds: int = 5) -> np.ndarray | None:
    """Out-of-fold calibrated probabilities: ``method`` fitted on validation folds, applied
    to the held-out one (None when there are too few rows of a class to cross-fit)."""
    y = np.asarray(y, dtype=int)
    proba = np.asarray(proba, dtype=float)
    if method == "none":
        return proba
    folds = int(min(folds, np.bincount(y, minlength=2).min()))
    if folds < 2:
        return None
    out = np.empty(len(y))
    for fit_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
            proba.reshape(-1, 1), y):
        cal = Calibrator(method).fit(proba[fit_idx], y[fit_idx])
        out[test_idx] = cal.transform(proba[test_idx])
    return out


def cross_fit_brier(method: str, proba: np.ndarray, y: np.ndarray, seed: int = 0,
                    folds: int = 5) -> float:
    """Brier score of ``method`` fitted on validation folds and scored on the held-out one."""
    out = cross_fit(method, proba, y, seed, folds)
    return np.inf if out is None else float(np.mean((out - np.asarray(y)) ** 2))


def _row_log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    return float(_row_log_loss(p, y).mean())


def calibrate_cross_fitted(proba: np.ndarray, y: np.ndarray, seed: int = 0,
                           methods: tuple[str, ...] = METHODS
                           ) -> tuple[Calibrator, np.ndarray, dict[str, float]]:
    """The method with the lowest cross-fitted log loss, fitted on every validation row; its
    out-of-fold calibrated probabilities (an honest validation score); each method's log loss.

    "none" (the simplest) is kept unless a calibrator lowers the log loss by more than one
    standard error of the per-row difference."""
    y = np.asarray(y, dtype=int)
    oof = {m: cross_fit(m, proba, y, seed) for m in methods}
    scores = {m: (_log_loss(p, y) if p is not None else np.inf) for m, p in oof.items()}
    best = min(methods, key=lambda m: (round(scores[m], 6), methods.index(m)))
    if best != "none" and "none" in methods:
        # a calibrator fitted on a few hundred rows adds its own noise: keep the model's own
        # probabilities unless calibrating is better by more than one standard error
        d = _row_log_loss(oof[best], y) - _row_log_loss(oof["none"], y)
        if -d.mean() <= d.std(ddof=1) / np.sqrt(len(d)):
            best = "none"
    return Calibrator(best).fit(np.asarray(proba, dtype=float), y), oof[best], scores


def choose_calibrator(proba: np.ndarray, y: np.ndarray, method: str = "auto",
                      seed: int = 0) -> tuple[Calibrator, dict[str, float]]:
    """The calibrator (fitted on all of ``proba``/``y``) and the cross-fitted Brier per method.

    ``method="auto"`` picks the lowest cross-fitted Brier; "none" wins ties (simplest).
    """
    proba = np.asarray(proba, dtype=float)
    scores = {m: cross_fit_brier(m, proba, y, seed=seed) for m in METHODS}
    if method == "auto":
        best = min(METHODS, key=lambda m: (round(scores[m], 6), METHODS.index(m)))
    else:
        best = method
    return Calibrator(best).fit(proba, y), scores
