"""Evaluation plots of a churn run: ROC, precision-recall, calibration, cumulative gain,
feature importance. Each function returns a matplotlib Figure (the caller logs and closes
it); the model and every baseline are drawn on the same axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.calibration import calibration_curve


def _figure():
    # heavy: matplotlib loads only when a figure is drawn
    import matplotlib

    matplotlib.use("Agg", force=False)
    # after the Agg backend is chosen
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 5))


def roc_figure(y: np.ndarray, probas: dict[str, np.ndarray], title: str = "ROC"):
    fig, ax = _figure()
    for name, p in probas.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, p):.3f})")
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (churners found)",
           title=title)
    ax.legend(fontsize=8)
    return fig


def pr_figure(y: np.ndarray, probas: dict[str, np.ndarray], title: str = "Precision-recall"):
    fig, ax = _figure()
    for name, p in probas.items():
        prec, rec, _ = precision_recall_curve(y, p)
        ax.plot(rec, prec, label=f"{name} (AP {average_precision_score(y, p):.3f})")
    ax.axhline(np.mean(y), ls=":", c="grey", label=f"base rate {np.mean(y):.3f}")
    ax.set(xlabel="recall", ylabel="precision", title=title)
    ax.legend(fontsize=8)
    return fig


def calibration_figure(y: np.ndarray, probas: dict[str, np.ndarray], bins: int = 10,
                       title: str = "Calibration"):
    fig, ax = _figure()
    for name, p in probas.items():
        frac, mean = calibration_curve(y, p, n_bins=bins, strategy="quantile")
        ax.plot(mean, frac, marker="o", ms=3, label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="predicted churn probability", ylabel="observed churn rate", title=title)
    ax.legend(fontsize=8)
    return fig


def gain_figure(y: np.ndarray, probas: dict[str, np.ndarray], title: str = "Cumulative gain"):
    fig, ax = _figure()
    y = np.asarray(y, dtype=float)
    share = np.arange(1, len(y) + 1) / len(y)
    for name, p in probas.items():
        order = np.argsort(-np.asarray(p), kind="stable")
        ax.plot(share, np.cumsum(y[order]) / max(y.sum(), 1), label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    ax.set(xlabel="share of customers contacted (highest risk first)",
           ylabel="share of churners reached", title=title)
    ax.legend(fontsize=8)
    return fig


def importance_figure(importance: pd.Series, top: int = 20,
                      title: str = "Feature importance (gain)"):
    fig, ax = _figure()
    imp = importance.head(top)[::-1]
    ax.barh(imp.index.astype(str), imp.to_numpy())
    ax.set(xlabel="total gain", title=title)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def all_figures(y: np.ndarray, probas: dict[str, np.ndarray],
                importance: pd.Series | None, prefix: str) -> dict[str, object]:
    """``{artifact path: figure}`` for every plot of a run."""
    figs = {
        f"plots/{prefix}_roc.png": roc_figure(y, probas, f"ROC ({prefix})"),
        f"plots/{prefix}_pr.png": pr_figure(y, probas, f"Precision-recall ({prefix})"),
        f"plots/{prefix}_calibration.png": calibration_figure(y, probas,
                                                              title=f"Calibration ({prefix})"),
        f"plots/{prefix}_cumulative_gain.png": gain_figure(y, probas,
                                                           f"Cumulative gain ({prefix})"),
    }
    if importance is not None and len(importance):
        figs["plots/feature_importance.png"] = importance_figure(importance)
    return figs
