"""Time-based churn training from a data set: several cutoffs, a validation cutoff, a holdout.

Timeline (H = horizon, step = ``cutoff_step_days``)::

    c1 < c2 < ... < c_{n-1} < c_n = holdout - H          <= holdout = last order day - H
    |<- training rows (features as of c_i, labels (c_i, c_i + H]) ->|
                              c_n = validation fold (early stopping, calibration, weights)

Every training label window ends on or before the holdout cutoff, so nothing the holdout
labels depend on is seen in training. The holdout rows are the customers active at the
holdout cutoff, labelled by ``(holdout, holdout + H]``. Never a random split.

The candidate (``config.model``) and the baselines (recency alone, logistic regression on
scaled features, LightGBM with library defaults) are scored on the same holdout rows.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from forecasting.churn.config import ChurnConfig
from forecasting.churn.estimators import (
    RECENCY_FEATURE, DefaultLightGBM, LogisticChurn, RecencyBaseline, make_estimator,
)
from forecasting.churn.metrics import churn_metrics, prefixed
from forecasting.churn.model import ChurnModel
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
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
    from forecasting.features import build_features
    from forecasting.labels import churn_labels

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


def baseline_models(features: pd.DataFrame, seed: int) -> dict[str, object]:
    out: dict[str, object] = {}
    if RECENCY_FEATURE in features.columns:
        out["baseline_recency"] = RecencyBaseline()
    out["baseline_logreg"] = LogisticChurn()
    out["baseline_lgbm_default"] = DefaultLightGBM(random_state=seed)
    return out


def plan_cutoffs(data: Dataset, config: ChurnConfig) -> tuple[pd.Timestamp, list[pd.Timestamp]]:
    """The holdout cutoff and the training cutoffs (oldest first; the last validates)."""
    from forecasting.labels import latest_complete_cutoff, training_cutoffs

    holdout = latest_complete_cutoff(data.orders, config.horizon_days)
    cutoffs = training_cutoffs(data.orders, config.horizon_days, n=config.n_cutoffs,
                               step_days=config.cutoff_step_days, holdout=holdout)
    if len(cutoffs) < 2:
        first, last = data.orders[ORDER_DATE].min(), data.orders[ORDER_DATE].max()
        need = 2 * config.horizon_days + 2 * config.cutoff_step_days
        raise ForecastingError(
            f"orders span {first:%Y-%m-%d} to {last:%Y-%m-%d} ({(last - first).days} days): "
            f"too short for a {config.horizon_days}-day horizon with a holdout and two "
            f"training cutoffs; need about {need} days of orders, or a smaller "
            f"--horizon-days or --cutoff-step-days")
    return holdout, cutoffs


def train_time_based(data: Dataset, config: ChurnConfig | None = None,
                     progress: bool = False) -> TrainResult:
    """Fit the candidate and the baselines on stacked cutoffs; score all on the holdout."""
    from tqdm.auto import tqdm

    config = config or ChurnConfig()
    holdout_cutoff, cutoffs = plan_cutoffs(data, config)
    per_cutoff = [rows_at(data, c, config)
                  for c in tqdm(cutoffs + [holdout_cutoff], desc="features per cutoff",
                                disable=not progress)]
    holdout = per_cutoff.pop()
    train, valid = stack(per_cutoff[:-1]), per_cutoff[-1]
    everything = stack(per_cutoff)
    for name, r in (("training", train), ("validation", valid), ("holdout", holdout)):
        if len(np.unique(r.y)) < 2:
            raise ForecastingError(
                f"the {name} rows ({len(r)} customers) have only one class (churned = "
                f"{int(r.y[0]) if len(r) else '-'}): too few customers or a horizon that is "
                "too short or too long for this data")
    log.info("training on %d rows from %d cutoffs, validating on %d, holdout %s: %d rows",
             len(train), len(cutoffs) - 1, len(valid), holdout_cutoff.date(), len(holdout))
    estimator = make_estimator(config.model, asdict(config.lightgbm), config.calibration,
                               config.validation_fraction, config.seed,
                               **config.for_mode("time"))
    estimator.fit(train.X, train.y, valid.X, valid.y)
    proba = {"model": estimator.predict_proba(holdout.X)[:, 1]}
    metrics = prefixed(churn_metrics(holdout.y, proba["model"]), "holdout")
    for prefix, base in tqdm(baseline_models(everything.X, config.seed).items(),
                             desc="baselines", disable=not progress):
        base.fit(everything.X, everything.y)
        proba[prefix] = base.predict_proba(holdout.X)[:, 1]
        metrics |= prefixed(churn_metrics(holdout.y, proba[prefix]), f"{prefix}_holdout")
    fingerprint = holdout_fingerprint(holdout, holdout_cutoff, config.horizon_days)
    params = {
        "mode": "time", "config": config.to_dict(),
        "holdout_cutoff": f"{holdout_cutoff:%Y-%m-%d}",
        "validation_cutoff": f"{cutoffs[-1]:%Y-%m-%d}",
        "training_cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in cutoffs[:-1]),
        "data_first_order": f"{data.orders[ORDER_DATE].min():%Y-%m-%d}",
        "data_last_order": f"{data.orders[ORDER_DATE].max():%Y-%m-%d}",
        "rows_train": len(train), "rows_validation": len(valid), "rows_holdout": len(holdout),
        "base_rate_train": round(float(train.y.mean()), 4),
        "base_rate_holdout": round(float(holdout.y.mean()), 4),
        "n_features": holdout.X.shape[1], "holdout_fingerprint": fingerprint,
        **_fitted_params(estimator),
    }
    info = {k: params[k] for k in ("holdout_cutoff", "validation_cutoff", "training_cutoffs",
                                   "holdout_fingerprint", "rows_train", "rows_holdout")}
    info["metrics"] = metrics
    model = ChurnModel(estimator, list(holdout.X.columns), config.to_dict(), kind="time",
                       info=info, id_column=CUSTOMER_ID)
    return TrainResult(model=model, metrics=metrics, params=params, y_holdout=holdout.y,
                       proba_holdout=proba, fingerprint=fingerprint)


def _fitted_params(estimator) -> dict:
    """What the fit chose: trees, calibration, blend weight."""
    out = {}
    for attr, key in (("n_trees_", "fitted_trees"), ("weight_", "fitted_blend_weight")):
        if hasattr(estimator, attr):
            out[key] = getattr(estimator, attr)
    if hasattr(estimator, "calibrator_"):
        out["fitted_calibration"] = estimator.calibrator_.method
    return out
