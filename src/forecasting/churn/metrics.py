"""Churn metrics with the names of PRODUCT.md: ROC AUC, PR AUC, Brier, log loss, lift.

Example:
    >>> import numpy as np
    >>> m = churn_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    >>> round(m["roc_auc"], 2), round(m["brier"], 4)
    (0.75, 0.1581)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRIC_KEYS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_top_decile", "base_rate")


def lift_top_decile(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Churn rate among the 10% highest-scored customers / overall churn rate.

    Ties at the decile boundary are broken by a stable sort (order of the input).
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(proba, dtype=float)
    base = y.mean()
    if len(y) == 0 or base == 0:
        return float("nan")
    k = max(1, int(np.ceil(0.1 * len(y))))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / base)


def churn_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """All churn metrics for one set of labels (1 = churned) and probabilities.

    ROC/PR AUC are NaN when only one class is present.
    """
    y = np.asarray(y_true, dtype=int)
    p = np.clip(np.asarray(proba, dtype=float), 1e-7, 1 - 1e-7)
    two_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if two_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "lift_top_decile": lift_top_decile(y, p),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
    }


def prefixed(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    """``{"roc_auc": x}`` -> ``{"<prefix>_roc_auc": x}``."""
    return {f"{prefix}_{k}": v for k, v in metrics.items()}


def mean_over_folds(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over CV folds (NaN-aware)."""
    keys = per_fold[0].keys()
    return {k: float(np.nanmean([f[k] for f in per_fold])) for k in keys}


BOOTSTRAP_METRICS = ("roc_auc", "pr_auc", "brier")


def _weighted_curves(y: np.ndarray, proba: np.ndarray, counts: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """ROC AUC, average precision and Brier of every bootstrap resample at once.

    ``counts`` is (B, n): how often each row is drawn in each resample. Tied scores are one
    threshold (ROC AUC counts half), as in scikit-learn.
    """
    order = np.argsort(proba, kind="stable")
    p, yy, c = proba[order], y[order], counts[:, order].astype(float)
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    pos = np.add.reduceat(c * yy, starts, axis=1)        # (B, groups) ascending score
    neg = np.add.reduceat(c * (1 - yy), starts, axis=1)
    w1, w0 = pos.sum(axis=1), neg.sum(axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (w1 * w0)
        tp = np.cumsum(pos[:, ::-1], axis=1)              # descending thresholds
        allp = np.cumsum((pos + neg)[:, ::-1], axis=1)
        ap = (pos[:, ::-1] * tp / np.where(allp > 0, allp, 1)).sum(axis=1) / w1
    brier = (c * (p - yy) ** 2).sum(axis=1) / c.sum(axis=1)
    return {"roc_auc": auc, "pr_auc": ap, "brier": brier}


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)


def bootstrap_intervals(y_true: np.ndarray, proba: np.ndarray, n_boot: int = 1000,
                        seed: int = 0, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of ROC AUC, PR AUC and Brier (rows resampled).

    >>> y = np.array([0, 1] * 50); p = np.where(y == 1, 0.7, 0.3)
    >>> lo, hi = bootstrap_intervals(y, p, n_boot=200)["roc_auc"]
    >>> round(lo, 3), round(hi, 3)
    (1.0, 1.0)
    """
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(proba, dtype=float)
    curves = _weighted_curves(y, p, _resamples(len(y), n_boot, seed))
    a = (1 - level) / 2
    return {k: (float(np.nanquantile(v, a)), float(np.nanquantile(v, 1 - a)))
            for k, v in curves.items()}


def interval_metrics(y_true: np.ndarray, proba: np.ndarray, prefix: str,
                     n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """``<prefix>_<metric>_lo95`` / ``_hi95`` for ROC AUC, PR AUC and Brier."""
    out = {}
    for k, (lo, hi) in bootstrap_intervals(y_true, proba, n_boot, seed).items():
        out[f"{prefix}_{k}_lo95"], out[f"{prefix}_{k}_hi95"] = lo, hi
    return out


def paired_bootstrap(y_true: np.ndarray, proba_a: np.ndarray, proba_b: np.ndarray,
                     n_boot: int = 2000, seed: int = 0, level: float = 0.95
                     ) -> dict[str, tuple[float, float, float]]:
    """Differences b - a of ROC AUC and Brier on the SAME resampled rows:
    ``{metric: (difference on all rows, lower, upper)}``."""
    y = np.asarray(y_true, dtype=int)
    counts = _resamples(len(y), n_boot, seed)
    ca = _weighted_curves(y, np.asarray(proba_a, dtype=float), counts)
    cb = _weighted_curves(y, np.asarray(proba_b, dtype=float), counts)
    full = np.ones((1, len(y)), dtype=int)
    fa = _weighted_curves(y, np.asarray(proba_a, dtype=float), full)
    fb = _weighted_curves(y, np.asarray(proba_b, dtype=float), full)
    a = (1 - level) / 2
    out = {}
    for k in ("roc_auc", "brier"):
        d = cb[k] - ca[k]
        out[k] = (float(fb[k][0] - fa[k][0]), float(np.nanquantile(d, a)),
                  float(np.nanquantile(d, 1 - a)))
    return out


def recent_buyer_metrics(y_true: np.ndarray, proba: np.ndarray, days_since_last_order,
                         prefix: str, days: int = 90) -> dict[str, float]:
    """ROC AUC and top-decile lift on customers who bought in the last ``days`` days before
    the cutoff (the ones still worth a call): ``<prefix>_recent90_roc_auc`` etc."""
    recency = np.asarray(pd.to_numeric(pd.Series(days_since_last_order), errors="coerce"),
                         dtype=float)
    keep = recency <= days
    y, p = np.asarray(y_true, dtype=int)[keep], np.asarray(proba, dtype=float)[keep]
    two = len(np.unique(y)) == 2
    return {f"{prefix}_recent{days}_roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
            f"{prefix}_recent{days}_lift_top_decile": lift_top_decile(y, p),
            f"{prefix}_recent{days}_rows": float(keep.sum())}
