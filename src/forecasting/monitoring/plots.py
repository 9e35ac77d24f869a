"""Pictures of a monitor report: PSI per feature, score shares against the reference,
calibration of realised refreshes, forecast coverage per horizon step (PNG files)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the screen-less backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecasting.monitoring import drift as D  # noqa: E402

log = logging.getLogger(__name__)


def psi_figure(drift: dict[str, float], title: str):
    """Horizontal bars of psi_score and every feature's PSI, with the 0.1 / 0.25 lines."""
    items = sorted(drift.items(), key=lambda kv: kv[1])
    names = [k[4:] if k.startswith("psi_") else k for k, _ in items]
    values = [v for _, v in items]
    colors = ["tab:red" if v > D.PSI_ACT else "tab:orange" if v > D.PSI_WATCH else "tab:blue"
              for v in values]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.28 * len(items) + 1)))
    ax.barh(names, values, color=colors)
    for x, style in ((D.PSI_WATCH, ":"), (D.PSI_ACT, "--")):
        ax.axvline(x, color="grey", linestyle=style)
    ax.set_xlabel("population stability index (PSI)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def score_figure(reference: dict[str, Any], scores, title: str):
    """Share of customers per score bin: the reference's and the refresh's."""
    ref = reference["score"]
    edges = np.asarray(ref["edges"], dtype=float)
    current = D.numeric_shares(edges, np.asarray(scores, dtype=float))[:-1]
    expected = np.asarray(ref["shares"], dtype=float)[:-1]
    bounds = np.concatenate([[0.0], edges, [1.0]])
    labels = [f"{a:.2f}-{b:.2f}" for a, b in zip(bounds[:-1], bounds[1:])]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.bar(x - 0.2, expected, width=0.4, label="reference (holdout)")
    ax.bar(x + 0.2, current, width=0.4, label="this refresh")
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel("share of customers")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def calibration_figure(table: pd.DataFrame, title: str):
    """Observed churn rate against the mean predicted probability per band."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    ax.scatter(table["predicted"], table["observed"], s=20 + table["customers"], alpha=0.7,
               label="bands (size = customers)")
    ax.set_xlabel("mean predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def coverage_figure(per_step: pd.DataFrame, title: str):
    """Interval coverage per horizon step against the nominal levels."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for col in [c for c in per_step.columns if c.startswith("realised_coverage_")]:
        level = int(col.rsplit("_", 1)[-1])
        line = ax.plot(per_step["step"], per_step[col], marker="o", label=f"{level}% interval")
        ax.axhline(level, color=line[0].get_color(), linestyle="--")
    ax.set_xlabel("horizon step")
    ax.set_ylabel("actuals inside the interval (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def save_figures(report: dict[str, Any], references: dict[str, dict], scores: dict[str, Any],
                 folder: str | Path) -> list[Path]:
    """PNG files of every refresh in ``report``; returns their paths. ``references`` maps a
    churn model version to its reference, ``scores`` a snapshot id to its probabilities."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        path = folder / name
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)

    for sec in report["refreshes"]:
        sid = sec["snapshot_id"]
        churn = sec.get("churn") or {}
        if churn.get("drift"):
            save(psi_figure(churn["drift"], f"drift as of {sec['as_of']}"), f"{sid}-psi.png")
            ref = references.get(str(churn.get("model_version")))
            if ref is not None and sid in scores:
                save(score_figure(ref, scores[sid], f"churn scores as of {sec['as_of']}"),
                     f"{sid}-scores.png")
        if churn.get("calibration") is not None:
            save(calibration_figure(churn["calibration"], f"calibration as of {sec['as_of']}"),
                 f"{sid}-calibration.png")
        demand = sec.get("demand") or {}
        if demand.get("per_step") is not None and len(demand["per_step"]):
            save(coverage_figure(demand["per_step"], f"forecast coverage as of {sec['as_of']}"),
                 f"{sid}-coverage.png")
    log.info("wrote %d figure(s) to %s", len(written), folder)
    return written
