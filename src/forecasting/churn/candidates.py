"""Candidates fitted on training rows and compared on validation rows only; the choice.

The candidates (names used in metrics and reports):

* ``recency`` -- days since last order alone (time mode only: a table may not have it)
* ``logreg`` / ``logreg_splines`` -- logistic regression, plain and with spline terms
* ``lgbm_default`` -- LightGBM with the library's defaults
* ``lgbm_tuned`` -- LightGBM tuned by :func:`forecasting.churn.search.tune_lightgbm` on a
  split of the training rows (never on the validation rows it is compared on)
* ``blend`` -- the equal average of the best tree and the best logistic candidate

Validation rows: a later cutoff in time mode (:func:`fit_candidates`); in ``--table`` mode
every row, by out-of-fold predictions over inner folds (:func:`fit_candidates_cv`).

Each is calibrated (none unless sigmoid or isotonic lowers the cross-fitted validation log
loss by more than a standard error), and scored on the validation rows by the cross-fitted
calibrated probabilities: the validation score of a calibrated model is never measured on the
rows its calibration was fitted on.

The choice: the lowest validation log loss (then the highest ROC AUC); among the candidates
within one standard error of it (the per-row log loss difference to the best, paired on the
same rows), the smallest (fewest parameters) is the model -- the one-standard-error rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from forecasting.churn.config import CANDIDATES, DEFAULT_TRIALS
from forecasting.churn.calibration import METHODS, Calibrator, calibrate_cross_fitted
from forecasting.churn.estimators import (
    RECENCY_FEATURE, AverageChurn, CalibratedChurn, DefaultLightGBM, LogisticChurn,
    RecencyBaseline, TreeChurn,
)
from forecasting.churn.search import SearchResult, tune_lightgbm
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)

TREES = ("lgbm_default", "lgbm_tuned")
LINEAR = ("logreg", "logreg_splines")
INNER_FOLDS = 3  # --table mode: out-of-fold validation inside each fit


@dataclass
class Candidate:
    """One candidate fitted on the training rows and judged on the validation rows."""

    name: str
    estimator: object          # fitted on the training rows (every row in --table mode)
    calibrator: Calibrator     # fitted on its validation predictions
    valid_proba: np.ndarray    # cross-fitted calibrated validation probabilities
    valid_log_loss: float
    valid_roc_auc: float
    size: int                  # parameters: coefficients or tree leaves

    def row_losses(self, y: np.ndarray) -> np.ndarray:
        p = np.clip(self.valid_proba, 1e-7, 1 - 1e-7)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@dataclass
class Selection:
    """Every candidate's validation figures, the chosen one and why."""

    candidates: dict[str, Candidate]
    chosen: str
    reason: str
    rows_train: int
    search: SearchResult | None = None
    tied: list[str] = field(default_factory=list)
    cross_validated: bool = False  # validation = out-of-fold predictions of X itself

    def table(self) -> pd.DataFrame:
        """One row per candidate: validation log loss, ROC AUC, size, calibration."""
        return pd.DataFrame([{
            "candidate": c.name, "valid_log_loss": c.valid_log_loss,
            "valid_roc_auc": c.valid_roc_auc, "size": c.size,
            "calibration": c.calibrator.method, "chosen": c.name == self.chosen,
            "within_noise": c.name in self.tied} for c in self.candidates.values()])

    def refit(self, name: str, X: pd.DataFrame, y: np.ndarray) -> CalibratedChurn:
        """Candidate ``name`` as deployed.

        * cross-validated choice (``--table``): the candidate was fitted on every row and its
          calibrator on its out-of-fold predictions (scikit-learn's
          ``CalibratedClassifierCV(ensemble=False)``): used as it is;
        * validation split (time mode): refitted on ``X`` (training + validation rows, the
          most recent labels) with the settings chosen on validation, tree counts scaled to
          the rows, and without the calibrator: that corrected the model fitted before the
          validation period (mostly for the churn rate's drift), and applied to a model that
          has learnt that period it corrects twice. The candidates were compared each with
          its calibration, so none is favoured by it.
        """
        c = self.candidates[name]
        if self.cross_validated:
            return CalibratedChurn(c.estimator, c.calibrator, name)
        return CalibratedChurn(_refit(c.estimator, self.rows_train, len(y)).fit(X, y),
                               Calibrator("none"), name)


def _refit(estimator, rows_before: int, rows_now: int):
    if isinstance(estimator, AverageChurn):
        return AverageChurn(tuple(_refit(m, rows_before, rows_now) for m in estimator.members_),
                            tuple(estimator.weights_))
    if isinstance(estimator, DefaultLightGBM):
        return estimator.clone()
    if isinstance(estimator, TreeChurn):
        return estimator.refit_copy(rows_before, rows_now)
    return estimator.clone()


def _fitted_average(members: list) -> AverageChurn:
    avg = AverageChurn(tuple(m.clone() for m in members), (0.5, 0.5))
    avg.members_, avg.weights_ = list(members), np.array([0.5, 0.5])
    avg.size_ = int(sum(m.size_ for m in members))
    return avg


def available(names: tuple[str, ...] | list[str], X: pd.DataFrame) -> list[str]:
    """The candidates that apply to these features (recency needs days_since_last_order)."""
    unknown = sorted(set(names) - set(CANDIDATES))
    if unknown:
        raise ForecastingError(f"unknown churn candidate(s) {unknown}; known: "
                               f"{', '.join(CANDIDATES)}")
    out = [n for n in CANDIDATES if n in names
           and (n != "recency" or RECENCY_FEATURE in X.columns)]
    if not out:
        raise ForecastingError(f"no churn candidate applies: {list(names)}")
    return out


def fit_candidates(X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray,
                   names: tuple[str, ...] | list[str] = CANDIDATES, trials: int = DEFAULT_TRIALS,
                   seed: int = 0, calibration: str = "auto",
                   search_valid: np.ndarray | None = None, search_fraction: float = 0.2,
                   progress: Callable | None = None) -> Selection:
    """Fit every candidate on ``X`` and judge it on ``X_val``; choose (see module doc).

    ``calibration``: ``auto`` (chosen per candidate) or one of none, sigmoid, isotonic.
    ``search_valid``: which training rows the LightGBM search and its early stopping judge
    on (the time mode passes its latest training cutoff); default a stratified 20 % of the
    training rows (``search_fraction``). Nothing fitted here sees ``X_val`` before the comparison: a search tuned
    on the rows it is compared on looks better there than it is (on 250 validation rows a
    tuned model's log loss was 0.25 on them and 0.41 on the holdout)."""
    methods = METHODS if calibration == "auto" else (calibration,)
    names = available(names, X)
    y, y_val = np.asarray(y, dtype=int), np.asarray(y_val, dtype=int)
    fitted: dict[str, object] = {}
    search = None
    makers = _plain_makers(seed)
    for name in names:
        if name in makers:
            fitted[name] = makers[name]().fit(X, y, X_val, y_val)
        elif name == "lgbm_tuned":
            search, fitted[name] = _tuned(X, y, search_valid, trials, seed, search_fraction)
        if progress is not None:
            progress(name)
    candidates = {n: _judge(n, est, X_val, y_val, seed, methods) for n, est in fitted.items()}
    best = _blend_members(candidates) if "blend" in names else None
    if best is not None:
        candidates["blend"] = _judge("blend", _fitted_average([c.estimator for c in best]),
                                     X_val, y_val, seed, methods)
    chosen, reason, tied = choose(candidates, y_val)
    return Selection(candidates=candidates, chosen=chosen, reason=reason, rows_train=len(y),
                     search=search, tied=tied)


def fit_candidates_cv(X: pd.DataFrame, y: np.ndarray,
                      names: tuple[str, ...] | list[str] = CANDIDATES,
                      trials: int = DEFAULT_TRIALS, seed: int = 0, calibration: str = "auto",
                      folds: int = INNER_FOLDS, search_fraction: float = 0.2,
                      progress: Callable | None = None) -> Selection:
    """Judge every candidate by its out-of-fold predictions over ``folds`` stratified folds of
    ``X`` (every row validates once: a validation split of a small table is too noisy to
    choose on); then fit each on every row. The LightGBM search runs once, on a split of
    ``X``, and its settings (tree count scaled to the rows) are reused in every fold."""
    methods = METHODS if calibration == "auto" else (calibration,)
    requested = available(names, X)
    names = [n for n in requested if n != "blend"]
    y = np.asarray(y, dtype=int)
    makers: dict[str, Callable[[int], object]] = {  # rows -> unfitted estimator
        n: (lambda rows, make=make: make()) for n, make in _plain_makers(seed).items()}
    search = None
    if "lgbm_tuned" in names:
        search, rows = _search(X, y, None, trials, seed, search_fraction)
        makers["lgbm_tuned"] = lambda n: TreeChurn(
            search.params, n_trees=max(1, int(round(search.n_trees * n / rows))),
            early_stopping_rounds=None, random_state=seed)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y))
    oof = {n: np.zeros(len(y)) for n in names}
    for tr, va in splits:
        for n in names:
            model = makers[n](len(tr)).fit(X.iloc[tr], y[tr])
            oof[n][va] = model.predict_proba(X.iloc[va])[:, 1]
    candidates = {}
    for n in names:
        candidates[n] = _judge(n, makers[n](len(y)).fit(X, y), None, y, seed, methods,
                               raw=oof[n])
        if progress is not None:
            progress(n)
    best = _blend_members(candidates) if "blend" in requested else None
    if best is not None:
        raw = 0.5 * (oof[best[0].name] + oof[best[1].name])
        candidates["blend"] = _judge("blend", _fitted_average([c.estimator for c in best]),
                                     None, y, seed, methods, raw=raw)
    chosen, reason, tied = choose(candidates, y)
    return Selection(candidates=candidates, chosen=chosen, reason=reason, rows_train=len(y),
                     search=search, tied=tied, cross_validated=True)


def _plain_makers(seed: int) -> dict[str, Callable[[], object]]:
    """Unfitted candidates that need no search, by name."""
    return {"recency": RecencyBaseline, "logreg": LogisticChurn,
            "logreg_splines": lambda: LogisticChurn(splines=True),
            "lgbm_default": lambda: DefaultLightGBM(random_state=seed)}


def _blend_members(candidates: dict[str, Candidate]) -> list[Candidate] | None:
    """The best tree and the best logistic candidate by validation log loss, or None (with
    a log line) when one kind is missing."""
    trees = [candidates[n] for n in TREES if n in candidates]
    linear = [candidates[n] for n in LINEAR if n in candidates]
    if not trees or not linear:
        log.info("blend skipped: it needs a LightGBM and a logistic candidate")
        return None
    return [min(group, key=lambda c: c.valid_log_loss) for group in (trees, linear)]


def _search(X: pd.DataFrame, y: np.ndarray, search_valid: np.ndarray | None, trials: int,
            seed: int, fraction: float = 0.2) -> tuple[SearchResult, int]:
    """The LightGBM search on a split of these rows (``search_valid`` marks the rows it is
    judged on; default a stratified ``fraction``); returns it and the rows it trained on."""
    if search_valid is None or search_valid.all() or not search_valid.any():
        _, idx_val = train_test_split(np.arange(len(y)), test_size=fraction, stratify=y,
                                      random_state=seed)
        search_valid = np.isin(np.arange(len(y)), idx_val)
    fit_rows = ~search_valid
    search = tune_lightgbm(X[fit_rows], y[fit_rows], X[search_valid], y[search_valid],
                           trials=trials, seed=seed)
    return search, int(fit_rows.sum())


def _tuned(X: pd.DataFrame, y: np.ndarray, search_valid: np.ndarray | None, trials: int,
           seed: int, fraction: float = 0.2) -> tuple[SearchResult, TreeChurn]:
    """Search on a split of the training rows; then refit the best settings on every
    training row, the early-stopped tree count scaled to the rows."""
    search, rows = _search(X, y, search_valid, trials, seed, fraction)
    n_trees = max(1, int(round(search.n_trees * len(y) / rows)))
    model = TreeChurn(search.params, n_trees=n_trees, early_stopping_rounds=None,
                      random_state=seed).fit(X, y)
    return search, model


def _judge(name: str, estimator, X_val: pd.DataFrame | None, y_val: np.ndarray,
           seed: int, methods: tuple[str, ...] = METHODS,
           raw: np.ndarray | None = None) -> Candidate:
    """Calibrate and score ``raw`` validation probabilities (default: ``estimator`` on
    ``X_val``)."""
    if raw is None:
        raw = estimator.predict_proba(X_val)[:, 1]
    calibrator, oof, _ = calibrate_cross_fitted(raw, y_val, seed=seed, methods=methods)
    p = np.clip(oof, 1e-7, 1 - 1e-7)
    loss = float(-np.mean(y_val * np.log(p) + (1 - y_val) * np.log(1 - p)))
    return Candidate(name=name, estimator=estimator, calibrator=calibrator, valid_proba=oof,
                     valid_log_loss=loss, valid_roc_auc=float(roc_auc_score(y_val, oof)),
                     size=int(estimator.size_))


def choose(candidates: dict[str, Candidate], y_val: np.ndarray) -> tuple[str, str, list[str]]:
    """The one-standard-error rule on validation log loss; returns name, reason, tied names.

    >>> y = np.array([0, 1] * 100)
    >>> q = np.random.default_rng(0).uniform(0.6, 0.9, 200)  # chance given to the truth
    >>> def c(name, p, size):
    ...     x = Candidate(name, None, None, np.where(y == 1, p, 1 - p), 0, 0, size)
    ...     x.valid_log_loss = float(x.row_losses(y).mean())
    ...     return x
    >>> cands = {"big": c("big", q, 1000), "small": c("small", q[::-1] - 0.005, 10),
    ...          "poor": c("poor", q - 0.3, 5)}
    >>> choose(cands, y)[0]   # a hair worse than big, within its noise, and smaller
    'small'
    """
    best = min(candidates.values(), key=lambda c: (c.valid_log_loss, -c.valid_roc_auc))
    base = best.row_losses(y_val)
    tied = []
    for c in candidates.values():
        d = c.row_losses(y_val) - base
        se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
        if float(d.mean()) <= se + 1e-12:
            tied.append(c.name)
    chosen = min((candidates[n] for n in tied),
                 key=lambda c: (c.size, c.valid_log_loss))
    reason = (f"lowest validation log loss: {best.name} {best.valid_log_loss:.4f} "
              f"(ROC AUC {best.valid_roc_auc:.4f})")
    if chosen.name != best.name:
        reason += (f"; {chosen.name} is within one standard error ({chosen.valid_log_loss:.4f}"
                   f") with fewer parameters ({chosen.size:,} vs {best.size:,}), so it is "
                   "the model")
    else:
        others = [n for n in tied if n != best.name]
        reason += ("; no smaller candidate within one standard error" if not others else
                   f"; {', '.join(others)} within one standard error but not smaller")
    return chosen.name, reason, tied
