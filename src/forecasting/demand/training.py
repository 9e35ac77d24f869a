"""``forecasting train demand`` and ``promote demand``: the pipeline, tracked in MLflow.

The run (experiment ``demand``) logs the config as params, the chosen forecast's backtest
metrics (``backtest_smape``, ``backtest_mase``, ``backtest_wape``, ``backtest_bias``,
``backtest_coverage_80``, ``backtest_coverage_95``) plus every candidate's as
``<model>.backtest_<metric>``, the per-series metrics table, the series it saw
(``data/series.parquet``, so the champion can be re-scored on it), plots (forecast against
actuals on the last backtest window for a sample of series; coverage by level) and the model
``demand`` (a :class:`~forecasting.demand.pipeline.DemandModel`).

Promotion (:func:`decide`) compares like with like:

* models trained for a different **horizon**, **frequency** or interval **levels** are not
  comparable (a 1-step model's error is smaller than a 12-step one's by construction): the
  gate refuses and says which differs;
* when only the data (or the number of backtest windows) differ, the champion's method (its
  members, re-chosen per history group) is re-run on the challenger's data with the
  challenger's windows, and the two are compared there;
* then the challenger must have backtest sMAPE and MASE no worse than the champion's and an
  interval coverage error (mean |coverage - level|) no worse (0.5 point tolerance);
* a missing (or non-finite) metric never passes.
"""

from __future__ import annotations

import hashlib
import logging
import re

import numpy as np
import pandas as pd

from forecasting import tracking
from forecasting.demand import freq as freqs
from forecasting.demand.panel import period_dates
from forecasting.demand.pipeline import DemandConfig, ForecastResult, fit_panel, prepare
from forecasting.errors import ForecastingError
from forecasting.settings import DEFAULT_LEVELS

log = logging.getLogger(__name__)

EXPERIMENT = "demand"
MODEL_NAME = "demand"
COVERAGE_TOLERANCE = 0.5
GATE_METRICS = ("backtest_smape", "backtest_mase")


def fingerprint(panel) -> str:
    h = hashlib.sha256()
    h.update(panel.ids.astype(str).tobytes())
    h.update(np.nan_to_num(panel.y, nan=-1.0).tobytes())
    h.update(panel.last_ds.astype(np.int64).tobytes())
    return h.hexdigest()[:16]


def coverage_error(metrics: dict, levels=DEFAULT_LEVELS) -> float:
    """Mean |empirical - nominal| coverage over the levels (NaN when a level is missing)."""
    vals = [abs(metrics.get(f"backtest_coverage_{lv}", np.nan) - lv) for lv in levels]
    return float(np.mean(vals)) if vals else float("nan")


def _plots(result: ForecastResult, n: int = 6) -> dict:
    """Forecast against actuals on the last backtest window for ``n`` series (dates on the
    axis, the model's 80/95 % bands), and coverage by level."""
    # heavy: matplotlib loads only when a figure is drawn
    import matplotlib

    matplotlib.use("Agg")
    # after the Agg backend is chosen
    import matplotlib.pyplot as plt

    bt, panel, model = result.backtest, result.panel, result.model
    chosen = model.choice.combine(bt.forecasts, bt.intermittent, bt.history)
    rng = np.random.default_rng(0)
    ok = np.flatnonzero(~np.isnan(bt.actual[-1, :, 0]))
    pick = rng.choice(ok, size=min(n, len(ok)), replace=False) if len(ok) else []
    _, ints = model._grouped()
    groups = bt.history[-1]
    scale = ints.scale(np.nan_to_num(chosen[-1]), bt.level[-1], bt.noise[-1], groups)
    bands = ints.bounds(np.nan_to_num(chosen[-1]), scale, groups)
    fig, axes = plt.subplots(len(pick) or 1, 1, figsize=(8, 2.2 * max(len(pick), 1)),
                             squeeze=False)
    cut = bt.origins[-1]
    for ax, i in zip(axes[:, 0], pick):
        rel = np.arange(-panel.T + 1, 1)
        dates = period_dates(panel, np.full(panel.T, i), rel)
        seen = ~np.isnan(panel.y[i, : panel.T - cut])
        ax.plot(dates[: panel.T - cut][seen], panel.y[i, : panel.T - cut][seen], color="0.4",
                lw=1, label="history")
        x = dates[panel.T - cut: panel.T - cut + bt.h]
        for lv, alpha in zip(sorted(bands, reverse=True), (0.15, 0.3)):
            lo, hi = bands[lv]
            ax.fill_between(x, lo[i], hi[i], color="C1", alpha=alpha, lw=0,
                            label=f"{lv} % interval")
        ax.plot(x, bt.actual[-1, i], color="k", lw=1.2, label="actual")
        ax.plot(x, chosen[-1, i], color="C1", lw=1.5, label="forecast")
        ax.set_title(f"{panel.ids[i]} ({groups[i]} history)", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig2, ax2 = plt.subplots(figsize=(4, 3))
    levels = list(result.model.config.levels)
    cov = [result.backtest_metrics.loc["chosen", f"backtest_coverage_{lv}"] for lv in levels]
    ax2.bar([str(lv) for lv in levels], cov, color="C0", label="empirical")
    ax2.scatter([str(lv) for lv in levels], levels, color="k", zorder=3, label="nominal")
    ax2.set_ylabel("coverage %"); ax2.set_xlabel("interval level %"); ax2.legend(fontsize=7)
    fig2.tight_layout()
    return {"plots/forecast_vs_actual.png": fig, "plots/coverage_by_level.png": fig2}


def input_example(panel, n: int = 2):
    """The whole history of the ``n`` longest series, with their attributes: a request the
    model's own validation accepts (a few rows per series would be short series) and that
    MLflow can run to infer the signature and check the serving example."""
    rows = np.argsort(-panel.lengths, kind="stable")[:n]
    return panel.to_long(np.sort(rows))


def train(series: pd.DataFrame, config: DemandConfig, run_name: str | None = None,
          source: str = "", adjust=None) -> tuple[ForecastResult, dict, str]:
    """Backtest, choose, fit and log one run; returns the result, its metrics and run id.

    ``adjust`` (e.g. :func:`forecasting.demand.churn_adjust.adjuster`) turns the run's
    forecast table into one with ``yhat_churn_adjusted``; it is logged as
    ``forecast.parquet`` with the metric ``churn_adjusted_volume_pct`` (adjusted volume in %
    of the plain forecast's)."""
    panel = prepare(series, config.freq)
    config.freq = panel.freq
    result = fit_panel(panel, config)
    chosen = result.backtest_metrics.loc["chosen"].to_dict()
    metrics = {k: float(v) for k, v in chosen.items()}
    for model, row in result.backtest_metrics.drop(index="chosen").iterrows():
        for k, v in row.items():
            metrics[f"{model}.{k}"] = float(v)
    fp = fingerprint(panel)
    with tracking.run(EXPERIMENT, run_name=run_name or f"demand-{panel.freq}-h{config.horizon}",
                      tags={"data_fingerprint": fp, "source": source}) as run_id:
        tracking.log_params({**config.to_dict(), "n_series": panel.n, "n_periods": panel.T,
                             "chosen": "+".join(result.model.choice.members()),
                             "chosen_by_history": result.model.summary()["chosen_by_history"],
                             "interval_scaling": result.model.summary()["interval_scaling"],
                             "data_fingerprint": fp})
        tracking.log_metrics(metrics)
        tracking.log_table(result.per_series, "per_series_metrics.csv")
        tracking.log_table(result.backtest_metrics.reset_index(), "backtest_metrics.csv")
        tracking.log_table(panel.to_long(), "data/series.parquet")
        table = result.table
        if adjust is not None:
            table = result.table = adjust(result.table)
            tracking.log_metrics({"churn_adjusted_volume_pct": float(
                100 * table["yhat_churn_adjusted"].sum() / max(table["yhat"].sum(), 1e-12))})
        tracking.log_table(table, "forecast.parquet")
        for path, fig in _plots(result).items():
            tracking.log_figure(fig, path)
        example = input_example(panel)
        tracking.log_model(result.model, MODEL_NAME, input_example=example,
                           metadata={"config": config.to_dict()})
    return result, {k: metrics[k] for k in chosen}, run_id


def rescore(model, series: pd.DataFrame, n_windows: int | None = None) -> dict:
    """Backtest metrics of a fitted DemandModel's method (its members, re-chosen on this
    data) on another data set, with ``n_windows`` backtest windows (default: its own)."""
    cfg = model.config
    members = list(model.choice.members())
    again = DemandConfig(horizon=cfg.horizon, freq=cfg.freq, levels=cfg.levels,
                         candidates=tuple(members), n_windows=n_windows or cfg.n_windows,
                         metric=cfg.metric, max_ensemble=cfg.max_ensemble,
                         lightgbm=cfg.lightgbm)
    res = fit_panel(prepare(series, cfg.freq), again, progress=False)
    return res.backtest_metrics.loc["chosen"].to_dict()


def _spec(ref) -> dict:
    """What a run's model forecasts: horizon, frequency, interval levels, backtest windows
    (from its logged params; None when not logged)."""
    p = ref.params

    def get(key, conv):
        try:
            return conv(p[key])
        except (KeyError, ValueError, TypeError, ForecastingError):
            return None

    return {"horizon": get("horizon", int), "freq": get("freq", freqs.canonical),
            "levels": get("levels", lambda v: tuple(sorted(int(x)
                                                           for x in re.findall(r"\d+", v)))),
            "n_windows": get("n_windows", int)}


def _missing(metrics: dict, names) -> list[str]:
    return [m for m in names if not np.isfinite(float(metrics.get(m, np.nan)))]


def decide(champion, challenger) -> tuple[bool, str]:
    """Promote the challenger when it is no worse than the champion on the same data and
    the same task (see the module docstring); returns (promote, reason)."""
    a, b = _spec(champion), _spec(challenger)
    differ = [f"{k} (champion {a[k]}, challenger {b[k]})"
              for k in ("horizon", "freq", "levels") if a[k] != b[k] or a[k] is None]
    if differ:
        return False, ("not comparable: the models differ in " + "; ".join(differ)
                       + ": train the challenger with the champion's horizon, frequency and "
                       "levels, or replace the champion deliberately with --run-id after "
                       "review")
    levels = b["levels"]
    needed = [*GATE_METRICS, *(f"backtest_coverage_{lv}" for lv in levels)]
    cc, ch = dict(challenger.metrics), dict(champion.metrics)
    missing = _missing(cc, needed)
    if missing:
        return False, (f"challenger has no {', '.join(missing)}: a missing metric never "
                       "passes")
    same = (champion.params.get("data_fingerprint") == challenger.params.get("data_fingerprint")
            and a["n_windows"] == b["n_windows"])
    if same and not _missing(ch, needed):
        note = " (same data)"
    else:
        path = tracking.download_artifact(challenger.run_id, "data/series.parquet")
        ch = rescore(tracking.load_version(champion), pd.read_parquet(path), b["n_windows"])
        note = " (champion's method re-run on the challenger's data)"
        missing = _missing(ch, needed)
        if missing:
            return False, (f"the champion re-run on the challenger's data has no "
                           f"{', '.join(missing)}: a missing metric never passes")
    worse = []
    for m in GATE_METRICS:
        if cc[m] > ch[m] + 1e-9:
            worse.append(f"{m} {cc[m]:.4f} > {ch[m]:.4f}")
    ce_new, ce_old = coverage_error(cc, levels), coverage_error(ch, levels)
    if ce_new > ce_old + COVERAGE_TOLERANCE:
        worse.append(f"coverage error {ce_new:.2f} > {ce_old:.2f} points")
    if worse:
        return False, "challenger is worse: " + "; ".join(worse) + note
    return True, (f"challenger no worse: sMAPE {cc['backtest_smape']:.4f} vs "
                  f"{ch['backtest_smape']:.4f}, MASE {cc['backtest_mase']:.4f} vs "
                  f"{ch['backtest_mase']:.4f}, coverage error {ce_new:.2f} vs {ce_old:.2f}"
                  + note)
