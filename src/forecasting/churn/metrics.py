"""Churn metrics with the names of PRODUCT.md: ROC AUC, PR AUC, Brier, log loss, lift.

Example:
    >>> import numpy as np
    >>> m = churn_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    >>> round(m["roc_auc"], 2), round(m["brier"], 4)
    (0.75, 0.1581)
"""

from __future__ import annotations

import numpy as np
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
