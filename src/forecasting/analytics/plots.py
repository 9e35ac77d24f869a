"""Pictures of the customer analytics: segment sizes and revenue share, KPI trends, follow-up.

Each ``*_figure`` function takes the table its module returns and gives a matplotlib
``Figure`` (Agg backend, no screen needed). :func:`save_figures` writes them as PNG files;
:func:`log_figures` logs them to the active MLflow run through :mod:`forecasting.tracking`
(for pipelines). The caller's tables are not modified.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from forecasting.analytics.segments import SEGMENTS
from forecasting import tracking

log = logging.getLogger(__name__)

TREND_KPIS = ("order_fulfilment_rate_pct", "retention_rate_pct", "repurchase_rate_pct",
              "churn_rate_pct", "nps", "csat_mean", "complaint_rate_per_100_orders",
              "resolution_days_mean")


def _plt():
    # heavy: matplotlib loads only when a figure is drawn
    import matplotlib

    matplotlib.use("Agg", force=False)
    # after the Agg backend is chosen
    import matplotlib.pyplot as plt

    return plt


def segments_figure(seg: pd.DataFrame):
    """Customers per segment and each segment's share of revenue in the window."""
    plt = _plt()
    buyers = seg[seg["segment"].notna()]
    rev_col = next((c for c in buyers.columns if c.startswith("revenue_") and c.endswith("d")),
                   "revenue_to_date")
    order = [s for s in SEGMENTS if s in set(buyers["segment"])]
    size = buyers["segment"].value_counts().reindex(order, fill_value=0)
    revenue = buyers.groupby("segment")[rev_col].sum().clip(lower=0).reindex(order,
                                                                             fill_value=0)
    share = 100 * revenue / revenue.sum() if revenue.sum() > 0 else revenue * 0
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    a.barh(order, size.values, color="tab:blue")
    a.set_title(f"Customers per segment ({len(buyers):,} buyers)")
    a.set_xlabel("customers")
    a.invert_yaxis()
    b.barh(order, share.values, color="tab:green")
    b.set_title(f"Share of revenue ({rev_col})")
    b.set_xlabel("% of revenue")
    for ax, vals, fmt in ((a, size.values, "{:,.0f}"), (b, share.values, "{:.1f}%")):
        for y, v in enumerate(vals):
            ax.text(v, y, " " + fmt.format(v), va="center", fontsize=8)
    fig.tight_layout()
    return fig


def kpi_trends_figure(table: pd.DataFrame, kpis: tuple[str, ...] = TREND_KPIS):
    """Overall KPIs by period, one small chart each; empty periods show as gaps."""
    plt = _plt()
    overall = table[(table["level"] == "overall") & table["kpi"].isin(kpis)]
    wide = overall.pivot_table(index="period", columns="kpi", values="value",
                               aggfunc="first", dropna=False)
    present = [k for k in kpis if k in wide.columns]
    ncols = 2
    nrows = max(1, (len(present) + 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.6 * nrows), sharex=True,
                             squeeze=False)
    x = list(range(len(wide.index)))
    for ax, kpi in zip(axes.flat, present):
        ax.plot(x, wide[kpi].to_numpy(dtype=float), marker="o", ms=3)
        ax.set_title(kpi, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(present):]:
        ax.set_visible(False)
    step = max(1, len(x) // 12)
    for ax in axes[-1]:
        ax.set_xticks(x[::step])
        ax.set_xticklabels(list(wide.index)[::step], rotation=45, ha="right", fontsize=8)
    fig.suptitle("KPI trends by period (overall)")
    fig.tight_layout()
    return fig


def followup_figure(follow: pd.DataFrame, top: int = 20):
    """The top customers of the follow-up list: value at risk, labelled with the action."""
    plt = _plt()
    head = follow.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(11, max(3, 0.35 * len(head) + 1)))
    labels = [f"{r.customer_id} ({r.segment})" for r in head.itertuples()]
    ax.barh(labels, head["value_at_risk_12m"].to_numpy(dtype=float), color="tab:red")
    for y, r in enumerate(head.itertuples()):
        ax.text(r.value_at_risk_12m, y, f"  {r.suggested_action}", va="center", fontsize=8)
    ax.set_xlabel("value at risk, next 12 months")
    ax.set_title(f"Follow-up: top {len(head)} customers by value at risk")
    fig.tight_layout()
    return fig


def save_figures(figures: dict[str, object], folder: str | Path) -> list[Path]:
    """Write each figure as ``<folder>/<name>.png`` (folder created) and close it."""
    plt = _plt()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    log.info("wrote %d plot(s) to %s", len(paths), folder)
    return paths


def log_figures(figures: dict[str, object], prefix: str = "plots") -> None:
    """Log each figure to the active MLflow run as ``<prefix>/<name>.png``."""
    for name, fig in figures.items():
        tracking.log_figure(fig, f"{prefix}/{name}.png")
