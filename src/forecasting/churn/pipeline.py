"""Time-based churn training from a data set: training cutoffs, validation cutoff(s), a holdout.

Timeline (H = horizon, step = ``cutoff_step_days``)::

    t1 < ... < t_n  <=  v - H        v = holdout - H          holdout = last order day - H
    |<- training rows ->|            |<- validation rows ->|  |<- holdout rows ->|

Training rows: features as of each t_i, labels ``(t_i, t_i + H]``, all ending on or before
the validation cutoff v, so nothing the validation labels depend on is seen in training.
Validation rows (features as of v, labels ending on or before the holdout cutoff) choose:
every candidate of :mod:`forecasting.churn.candidates` is fitted on the training rows and
judged on the validation rows; the chosen one is refitted on training + validation rows and
scored on the holdout. Never a random split.

Every candidate and the baselines (recency alone, logistic regression, LightGBM defaults,
fitted on training + validation rows) are scored on the same holdout rows, with bootstrap
intervals, and on the customers who bought in the last 90 days before the holdout cutoff.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tqdm.auto import tqdm

from forecasting.churn.candidates import Selection, fit_candidates, fit_candidates_cv
from forecasting.churn.config import ChurnConfig
from forecasting.churn.estimators import (
    RECENCY_FEATURE, CalibratedChurn, DefaultLightGBM, LogisticChurn, RecencyBaseline,
)
from forecasting.churn.metrics import (
    churn_metrics, interval_metrics, prefixed, recent_buyer_metrics,
)
from forecasting.churn.model import ChurnModel
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.features import build_features
from forecasting.labels import churn_labels, cutoff_plan
from forecasting.monitoring.drift import build_reference
from forecasting.schema import CUSTOMER_ID, ORDER_DATE

log = logging.getLogger(__name__)


@dataclass
class Rows:
    """Features and labels of the customers active at one or more cutoffs."""

    X: pd.DataFrame  # index customer_id (repeated across cutoffs)
    y: np.ndarray
    cutoff: np.ndarray  # cutoff day per row

    def __len__(self) -> int:
        return len(self.y)


def rows_at(data: Dataset, cutoff: pd.Timestamp, config: ChurnConfig) -> Rows:
    """Features as of ``cutoff`` joined with labels of ``(cutoff, cutoff + horizon]``."""
    X = build_features(data, cutoff, lookback_days=config.lookback_days)
    y = churn_labels(data.orders, cutoff, horizon_days=config.horizon_days,
                     lookback_days=config.lookback_days)
    common = X.index.intersection(y.index)
    if len(common) != len(X) or len(common) != len(y):
        log.warning("cutoff %s: %d customers with features, %d with labels; using the %d "
                    "in both", cutoff.date(), len(X), len(y), len(common))
    X = X.loc[common]
    return Rows(X=X, y=y.loc[common].to_numpy(dtype=int),
                cutoff=np.full(len(common), np.datetime64(cutoff.normalize(), "D")))


def stack(rows: list[Rows]) -> Rows:
    return Rows(X=pd.concat([r.X for r in rows]), y=np.concatenate([r.y for r in rows]),
                cutoff=np.concatenate([r.cutoff for r in rows]))


def holdout_fingerprint(holdout: Rows, cutoff: pd.Timestamp, horizon_days: int) -> str:
    """Cutoff, horizon, row count and a hash of ids + labels: equal for the same holdout."""
    h = hashlib.sha1()
    h.update("\n".join(holdout.X.index.astype(str)).encode())
    h.update(holdout.y.astype(np.int8).tobytes())
    return f"cutoff={cutoff:%Y-%m-%d}|h={horizon_days}|rows={len(holdout)}|{h.hexdigest()[:12]}"


@dataclass
class TrainResult:
    """What a training run produced; :mod:`forecasting.churn.track` logs it."""

    model: ChurnModel
    metrics: dict[str, float]
    params: dict
    y_holdout: np.ndarray
    proba_holdout: dict[str, np.ndarray]  # "model" and each baseline prefix
    fingerprint: str
    mode: str = "time"
    notes: list[str] = field(default_factory=list)
    ids_holdout: np.ndarray | None = None  # row ids of y_holdout (the gate pairs on them)
    candidates: pd.DataFrame | None = None  # every candidate's validation + holdout/CV figures
    reference: dict | None = None  # drift reference (forecasting.monitoring.drift)


def baseline_models(features: pd.DataFrame, seed: int) -> dict[str, object]:
    out: dict[str, object] = {}
    if RECENCY_FEATURE in features.columns:
        out["baseline_recency"] = RecencyBaseline()
    out["baseline_logreg"] = LogisticChurn()
    out["baseline_lgbm_default"] = DefaultLightGBM(random_state=seed)
    return out


def plan_cutoffs(data: Dataset, config: ChurnConfig
                 ) -> tuple[pd.Timestamp, list[pd.Timestamp], list[pd.Timestamp]]:
    """Holdout, validation and training cutoffs (see :func:`forecasting.labels.cutoff_plan`)."""
    holdout, valid, train = cutoff_plan(
        data.orders, config.horizon_days, n_train=config.n_cutoffs,
        n_validation=config.n_validation_cutoffs, step_days=config.cutoff_step_days)
    if not valid or not train:
        first, last = data.orders[ORDER_DATE].min(), data.orders[ORDER_DATE].max()
        need = 3 * config.horizon_days + config.cutoff_step_days
        raise ForecastingError(
            f"orders span {first:%Y-%m-%d} to {last:%Y-%m-%d} ({(last - first).days} days): "
            f"too short for a {config.horizon_days}-day horizon with a holdout, a validation "
            f"cutoff and a training cutoff a horizon apart; need about {need} days of "
            f"orders, or a smaller --horizon-days or --cutoff-step-days")
    return holdout, valid, train


def train_time_based(data: Dataset, config: ChurnConfig | None = None,
                     progress: bool = False) -> TrainResult:
    """Choose a candidate on the validation cutoff(s); score it and the baselines on the
    holdout."""
    config = config or ChurnConfig()
    holdout_cutoff, valid_cutoffs, train_cutoffs = plan_cutoffs(data, config)
    per_cutoff = [rows_at(data, c, config)
                  for c in tqdm(train_cutoffs + valid_cutoffs + [holdout_cutoff],
                                desc="features per cutoff", disable=not progress)]
    holdout = per_cutoff.pop()
    train = stack(per_cutoff[:len(train_cutoffs)])
    valid = stack(per_cutoff[len(train_cutoffs):])
    everything = stack(per_cutoff)
    for name, r in (("training", train), ("validation", valid), ("holdout", holdout)):
        if len(np.unique(r.y)) < 2:
            raise ForecastingError(
                f"the {name} rows ({len(r)} customers) have only one class (churned = "
                f"{int(r.y[0]) if len(r) else '-'}): too few customers or a horizon that is "
                "too short or too long for this data")
    log.info("training on %d rows from %d cutoffs, validating on %d, holdout %s: %d rows",
             len(train), len(train_cutoffs), len(valid), holdout_cutoff.date(), len(holdout))
    fit = evaluate_candidates(train, valid, everything, holdout.X, config, progress)
    proba = {"model": fit.proba[fit.selection.chosen]}
    metrics = holdout_metrics(holdout.y, proba["model"], "holdout", holdout.X)
    metrics |= candidate_metrics(fit, holdout.y, "holdout")
    for prefix, base in tqdm(baseline_models(everything.X, config.seed).items(),
                             desc="baselines", disable=not progress):
        base.fit(everything.X, everything.y)
        proba[prefix] = base.predict_proba(holdout.X)[:, 1]
        metrics |= holdout_metrics(holdout.y, proba[prefix], f"{prefix}_holdout", holdout.X,
                                   intervals=False)
    fingerprint = holdout_fingerprint(holdout, holdout_cutoff, config.horizon_days)
    params = {
        "mode": "time", "config": config.to_dict(),
        "holdout_cutoff": f"{holdout_cutoff:%Y-%m-%d}",
        "validation_cutoff": ",".join(f"{c:%Y-%m-%d}" for c in valid_cutoffs),
        "training_cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in train_cutoffs),
        "data_first_order": f"{data.orders[ORDER_DATE].min():%Y-%m-%d}",
        "data_last_order": f"{data.orders[ORDER_DATE].max():%Y-%m-%d}",
        "rows_train": len(train), "rows_validation": len(valid), "rows_holdout": len(holdout),
        "base_rate_train": round(float(train.y.mean()), 4),
        "base_rate_holdout": round(float(holdout.y.mean()), 4),
        "n_features": holdout.X.shape[1], "holdout_fingerprint": fingerprint,
        **selection_params(fit.selection, fit.final),
    }
    info = {k: params[k] for k in ("holdout_cutoff", "validation_cutoff", "training_cutoffs",
                                   "holdout_fingerprint", "rows_train", "rows_holdout",
                                   "chosen_candidate", "choice_reason")}
    info["metrics"] = metrics
    # what `forecasting monitor` compares each refresh with: the features the model learned
    # from and the probabilities it gives customers it never saw
    reference = build_reference(everything.X, proba["model"])
    reference["holdout_cutoff"] = f"{holdout_cutoff:%Y-%m-%d}"
    info["reference"] = reference
    model = ChurnModel(fit.final, list(holdout.X.columns), config.to_dict(), kind="time",
                       info=info, id_column=CUSTOMER_ID)
    return TrainResult(model=model, metrics=metrics, params=params, y_holdout=holdout.y,
                       proba_holdout=proba, fingerprint=fingerprint,
                       ids_holdout=holdout.X.index.astype(str).to_numpy(),
                       candidates=candidate_table(fit, metrics, "holdout"),
                       reference=reference)


@dataclass
class CandidateFit:
    """The selection on validation rows, the chosen model refitted on every training row,
    and every candidate's probabilities on the evaluation rows (holdout or outer fold)."""

    selection: Selection
    final: CalibratedChurn
    proba: dict[str, np.ndarray]


def evaluate_candidates(train: Rows | None, valid: Rows | None, everything: Rows,
                        X_eval: pd.DataFrame | None, config: ChurnConfig,
                        progress: bool = False) -> CandidateFit:
    """Fit and judge the candidates, deploy each as :meth:`Selection.refit` says and predict
    ``X_eval``; the chosen one is the model. With ``train`` and ``valid`` (time mode) the
    candidates are fitted on ``train`` and judged on ``valid``; without (``--table`` mode)
    they are judged by out-of-fold predictions over ``everything``. Without ``X_eval`` only
    the chosen one is deployed."""
    bar = tqdm(total=len(config.candidates), desc="candidates", disable=not progress,
               leave=False)
    if valid is None:
        selection = fit_candidates_cv(everything.X, everything.y, config.candidates,
                                      trials=config.trials, seed=config.seed,
                                      calibration=config.calibration,
                                      search_fraction=config.validation_fraction,
                                      progress=lambda name: bar.update())
    else:
        latest = train.cutoff == train.cutoff.max()  # the search judges on the latest one
        selection = fit_candidates(
            train.X, train.y, valid.X, valid.y, config.candidates, trials=config.trials,
            seed=config.seed, calibration=config.calibration,
            search_valid=latest if len(np.unique(train.cutoff)) > 1 else None,
            search_fraction=config.validation_fraction, progress=lambda name: bar.update())
    bar.close()
    log.info("chosen on validation: %s (%s)", selection.chosen, selection.reason)
    proba, final = {}, None
    for name in selection.candidates:
        if X_eval is None and name != selection.chosen:
            continue
        refit = selection.refit(name, everything.X, everything.y)
        if X_eval is not None:
            proba[name] = refit.predict_proba(X_eval)[:, 1]
        if name == selection.chosen:
            final = refit
    return CandidateFit(selection=selection, final=final, proba=proba)


def holdout_metrics(y: np.ndarray, proba: np.ndarray, prefix: str, X: pd.DataFrame,
                    intervals: bool = True) -> dict[str, float]:
    """Metrics on the holdout rows, their bootstrap intervals, and on recent buyers."""
    out = prefixed(churn_metrics(y, proba), prefix)
    if intervals:
        out |= interval_metrics(y, proba, prefix)
    if RECENCY_FEATURE in X.columns:
        out |= recent_buyer_metrics(y, proba, X[RECENCY_FEATURE].to_numpy(), prefix)
    return out


def candidate_metrics(fit: CandidateFit, y: np.ndarray, scope: str) -> dict[str, float]:
    """``candidate_<name>_valid_log_loss`` / ``_valid_roc_auc`` and each candidate's
    ``candidate_<name>_<scope>_<metric>`` on the evaluation rows."""
    out = {}
    for name, c in fit.selection.candidates.items():
        out[f"candidate_{name}_valid_log_loss"] = c.valid_log_loss
        out[f"candidate_{name}_valid_roc_auc"] = c.valid_roc_auc
        out |= prefixed(churn_metrics(y, fit.proba[name]), f"candidate_{name}_{scope}")
    return out


def candidate_table(fit: CandidateFit, metrics: dict[str, float], scope: str) -> pd.DataFrame:
    """Every candidate's validation and evaluation figures side by side."""
    t = fit.selection.table()
    for m in ("roc_auc", "pr_auc", "brier", "log_loss"):
        t[f"{scope}_{m}"] = [metrics.get(f"candidate_{n}_{scope}_{m}") for n in t.candidate]
    return t


def selection_params(selection: Selection, final: CalibratedChurn) -> dict:
    """What the validation chose, and the chosen model's settings."""
    out = {"chosen_candidate": selection.chosen, "choice_reason": selection.reason,
           "fitted_calibration": final.calibrator.method, "model_size": final.size_}
    if final.n_trees_ is not None:
        out["fitted_trees"] = final.n_trees_
    if selection.search is not None:
        out |= {f"tuned_{k}": v for k, v in selection.search.params.items()}
        out["tuned_trees"] = selection.search.n_trees
    return out
