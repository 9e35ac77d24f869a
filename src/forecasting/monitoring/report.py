"""``forecasting monitor``: is each refresh like what the model learned from, and were past
refreshes right?

For each of the latest refreshes recorded in the snapshot store's histories
(:mod:`forecasting.monitoring.store`):

* **drift** -- ``psi_score`` (the refresh's churn probabilities) and ``psi_<feature>`` (the
  churn features of the scored customers, rebuilt from DATA_DIR as of the refresh's date with
  the model's lookback) against the reference saved with the model version that served it
  (:mod:`forecasting.monitoring.drift`);
* **realised churn** -- once the data reach ``as_of + horizon_days`` (the model's horizon):
  ``realised_roc_auc``, ``realised_brier``, ``realised_lift_top_decile``, a calibration table
  (:mod:`forecasting.monitoring.realised`), compared with the model's holdout interval;
* **realised forecasts** -- ``realised_wape``, ``realised_bias`` and interval coverage, overall
  and per horizon step, over the forecast periods the data now cover.

Each refresh's figures are logged as one MLflow run per model family in experiment
``monitoring``, tagged with the snapshot and the model version that served it. The findings
say in words what crossed a threshold and what to do. The latest figures go to
``<store>/monitor/latest.json``, which the API publishes on /metrics.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting import settings, tracking
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.features import build_features
from forecasting.io import ReadOptions, read_dataset, write_json
from forecasting.monitoring import drift as D
from forecasting.monitoring import realised as R
from forecasting.monitoring import store as S
from forecasting.schema import CUSTOMER_ID, DS

log = logging.getLogger(__name__)

EXPERIMENT = "monitoring"
CHURN_MODEL = "churn"
DEMAND_MODEL = "demand"
REFERENCE_ARTIFACT = "reference.json"
COVERAGE_SLACK = 10.0  # percentage points below nominal before intervals are called too narrow
BIAS_LIMIT = 10.0  # % of actual volume


@dataclass
class Finding:
    """Something that crossed a threshold (``action``), deserves a look (``warning``) or is
    worth knowing (``info``), in words."""

    level: str
    snapshot_id: str | None
    message: str


@dataclass
class ChurnModelInfo:
    version: str
    run_id: str | None
    horizon_days: int
    lookback_days: int
    holdout_cutoff: pd.Timestamp | None
    data_last_order: pd.Timestamp | None
    metrics: dict[str, float]
    reference: dict | None


def _date(value) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(value) if value else None
    except (TypeError, ValueError):
        return None


def churn_model_info(version: str, cache: dict) -> ChurnModelInfo | None:
    """Horizon, lookback, training window, holdout metrics and drift reference of churn
    model ``version`` (from the registry; cached)."""
    if version in cache:
        return cache[version]
    ref = tracking.get_model_version(CHURN_MODEL, version)
    if ref is None:
        cache[version] = None
        return None
    p = ref.params
    reference = tracking.load_json_artifact(ref.run_id, REFERENCE_ARTIFACT) if ref.run_id else None
    info = ChurnModelInfo(
        version=str(version), run_id=ref.run_id,
        horizon_days=int(float(p.get("config.horizon_days",
                                     settings.DEFAULT_CHURN_HORIZON_DAYS))),
        lookback_days=int(float(p.get("config.lookback_days", settings.DEFAULT_LOOKBACK_DAYS))),
        holdout_cutoff=_date(p.get("holdout_cutoff")),
        data_last_order=_date(p.get("data_last_order")),
        metrics=dict(ref.metrics), reference=reference)
    cache[version] = info
    return info


def _main_version(values: pd.Series) -> str | None:
    v = values.dropna().astype(str)
    return None if v.empty else str(v.value_counts().index[0])


def _features(data: Dataset, as_of: pd.Timestamp, lookback: int, ids: pd.Index,
              cache: dict) -> pd.DataFrame | None:
    key = (as_of, lookback)
    if key not in cache:
        try:
            cache[key] = build_features(data, as_of, lookback_days=lookback)
        except ForecastingError as exc:
            log.warning("features as of %s: %s", as_of.date(), str(exc).splitlines()[0])
            cache[key] = None
    f = cache[key]
    if f is None:
        return None
    f = f.copy()
    f.index = f.index.astype(str)
    return f.loc[f.index.intersection(ids)]


def churn_section(data: Dataset, refresh: S.Refresh, last_day: pd.Timestamp,
                  models: dict, feature_cache: dict, findings: list[Finding]
                  ) -> dict[str, Any] | None:
    """Drift and (when the window has passed) realised figures of one refresh's scores."""
    if refresh.scores is None:
        return None
    sid = refresh.snapshot_id
    scores = S.read_scores(refresh)
    version = _main_version(scores["model_version"])
    out: dict[str, Any] = {"model_version": version, "customers": int(len(scores)),
                           "drift": {}, "realised": None, "calibration": None}
    info = churn_model_info(version, models) if version else None
    if info is None:
        findings.append(Finding("warning", sid, (
            f"churn scores of {sid} name model version {version!r}, which the MLflow registry "
            f"at {tracking.tracking_uri()} does not hold: no drift reference and no holdout "
            f"interval to compare with")))
        horizon, lookback = settings.DEFAULT_CHURN_HORIZON_DAYS, settings.DEFAULT_LOOKBACK_DAYS
    else:
        horizon, lookback = info.horizon_days, info.lookback_days
    out["horizon_days"] = horizon
    # drift -------------------------------------------------------------------------------
    if info is not None and info.reference is None:
        findings.append(Finding("warning", sid, (
            f"churn model version {version} has no training reference (it was trained before "
            f"monitoring, or with --table): drift cannot be measured for it. Retrain with "
            f"'forecasting train churn DATA_DIR' and promote; the new version saves one")))
    elif info is not None:
        feats = _features(data, refresh.as_of, lookback, pd.Index(scores[CUSTOMER_ID]),
                          feature_cache)
        figures = D.drift(info.reference, feats, scores["churn_probability"])
        out["drift"] = figures
        _drift_findings(sid, figures, findings)
    # realised ----------------------------------------------------------------------------
    end = R.window_end(refresh.as_of, horizon)
    out["window_end"] = f"{end:%Y-%m-%d}"
    if end > last_day:
        out["realised_note"] = (f"label window ({refresh.as_of:%Y-%m-%d}, {end:%Y-%m-%d}] not "
                                f"complete: the data end on {last_day:%Y-%m-%d}")
        return out
    outcomes = R.churn_outcomes(data.orders, scores, refresh.as_of, horizon, lookback)
    if outcomes.empty:
        out["realised_note"] = "no scored customer is active at the as-of date in DATA_DIR"
        return out
    figures, calibration = R.churn_realised(outcomes)
    out["realised"] = figures
    out["calibration"] = calibration
    _realised_findings(sid, refresh, end, figures, info, findings)
    return out


def _drift_findings(sid: str, figures: dict[str, float], findings: list[Finding]) -> None:
    score = figures.get("psi_score", float("nan"))
    feats = sorted(((k[4:], v) for k, v in figures.items()
                    if k != "psi_score" and np.isfinite(v)), key=lambda kv: -kv[1])
    moved = [(k, v) for k, v in feats if v > D.PSI_ACT]
    watch = [(k, v) for k, v in feats if D.PSI_WATCH < v <= D.PSI_ACT]
    named = ", ".join(f"{k} ({v:.2f})" for k, v in moved[:5])
    if D.level(score) == "act":
        findings.append(Finding("action", sid, (
            f"score distribution has shifted: PSI {score:.2f} > {D.PSI_ACT} against the "
            f"model's holdout scores. Retrain the churn model on recent data"
            + (f"; the features that moved most: {named}" if moved else
               "; no single feature moved past the threshold, so look at the combination "
               "(and at the data feed)"))))
    elif D.level(score) == "watch":
        findings.append(Finding("warning", sid, (
            f"score distribution shifting: PSI {score:.2f} (0.1-0.25 is a moderate shift); "
            f"watch the next refreshes")))
    if moved and D.level(score) != "act":
        findings.append(Finding("warning", sid, (
            f"feature(s) shifted (PSI > {D.PSI_ACT}): {named}; the scores have not moved as "
            f"much yet. Look at these features (a change in the data feed? a real change in "
            f"customers?) and retrain if it is real")))
    if watch:
        findings.append(Finding("info", sid, "moderate shift (PSI 0.1-0.25): " + ", ".join(
            f"{k} ({v:.2f})" for k, v in watch[:5])))


def _realised_findings(sid: str, refresh: S.Refresh, end: pd.Timestamp,
                       figures: dict[str, float], info: ChurnModelInfo | None,
                       findings: list[Finding]) -> None:
    auc = figures.get("realised_roc_auc", float("nan"))
    if info is None:
        return
    lo = info.metrics.get("holdout_roc_auc_lo95")
    hold = info.metrics.get("holdout_roc_auc")
    if lo is not None and np.isfinite(auc) and auc < lo:
        findings.append(Finding("action", sid, (
            f"realised ROC AUC {auc:.3f} of the scores as of {refresh.as_of:%Y-%m-%d} is below "
            f"the holdout interval of churn model version {info.version} ({hold:.3f}, 95% "
            f"from {lo:.3f}): the model ranks customers worse than when it was chosen. "
            f"Retrain it on recent data and promote through the gate")))
    elif lo is not None and np.isfinite(auc):
        findings.append(Finding("info", sid, (
            f"realised ROC AUC {auc:.3f} as of {refresh.as_of:%Y-%m-%d} is within or above the "
            f"holdout interval of version {info.version} (from {lo:.3f})")))
    trained_to = info.holdout_cutoff
    seen_to = info.data_last_order
    if trained_to is not None and refresh.as_of < trained_to:
        findings.append(Finding("warning", sid, (
            f"churn model version {info.version} was trained on labels up to "
            f"{trained_to:%Y-%m-%d}, which overlap this snapshot's outcome window "
            f"({refresh.as_of:%Y-%m-%d}, {end:%Y-%m-%d}]: its realised figures are optimistic "
            f"(the model has seen what happened)")))
    elif seen_to is not None and refresh.as_of < seen_to:
        findings.append(Finding("warning", sid, (
            f"churn model version {info.version} was chosen on a holdout whose outcomes run to "
            f"{seen_to:%Y-%m-%d}, overlapping this snapshot's outcome window "
            f"({refresh.as_of:%Y-%m-%d}, {end:%Y-%m-%d}]: its realised figures are somewhat "
            f"optimistic")))


def _infer_freq(ds: pd.Series) -> str:
    days = pd.Series(sorted(pd.to_datetime(ds).unique())).diff().dt.days.median()
    if not np.isfinite(days) or days >= 28:
        return "MS"
    return "W" if days >= 7 else "D"


def demand_section(data: Dataset, refresh: S.Refresh, store: Path, actual_cache: dict,
                   findings: list[Finding]) -> dict[str, Any] | None:
    """Realised forecast figures of one refresh (periods the data now cover)."""
    fc = S.read_forecasts(refresh)
    if fc is None or fc.empty:
        return None
    sid = refresh.snapshot_id
    spec = refresh.meta(store).get("forecast", {})
    freq = spec.get("freq") or _infer_freq(fc[DS])
    levels = tuple(spec.get("levels") or settings.DEFAULT_LEVELS)
    version = _main_version(fc["model_version"]) if "model_version" in fc else None
    out: dict[str, Any] = {"model_version": version, "freq": freq, "realised": None,
                           "per_step": None}
    if freq not in actual_cache:
        actual_cache[freq] = R.actual_demand(data.orders, freq, data.products)
    outcomes = R.forecast_outcomes(fc, actual_cache[freq])
    if outcomes.empty:
        out["realised_note"] = (f"no forecast period is covered by the data yet (first forecast "
                                f"period {fc[DS].min():%Y-%m-%d})")
        return out
    figures, per_step = R.forecast_realised(outcomes, levels)
    out["realised"], out["per_step"] = figures, per_step
    for lv in levels:
        cov = figures.get(f"realised_coverage_{lv}")
        if cov is not None and np.isfinite(cov) and cov < lv - COVERAGE_SLACK:
            findings.append(Finding("warning", sid, (
                f"the {lv}% forecast intervals held only {cov:.0f}% of the actual demand over "
                f"{int(figures['realised_rows'])} product-periods: they are too narrow; "
                f"retrain the demand model (its intervals are calibrated on backtests)")))
    bias = figures.get("realised_bias", float("nan"))
    if np.isfinite(bias) and abs(bias) > BIAS_LIMIT:
        findings.append(Finding("warning", sid, (
            f"forecasts as of {refresh.as_of:%Y-%m-%d} were {abs(bias):.0f}% "
            f"{'above' if bias > 0 else 'below'} the actual volume: check for a change in "
            f"demand and retrain the demand model")))
    return out


def _log(refresh: S.Refresh, family: str, section: dict[str, Any], model_name: str) -> None:
    """One MLflow run in experiment ``monitoring`` for a refresh and a model family."""
    metrics = {**section.get("drift", {}), **(section.get("realised") or {})}
    if not metrics:
        return
    tags = {"snapshot_id": refresh.snapshot_id, "as_of": f"{refresh.as_of:%Y-%m-%d}",
            "family": family, "model_name": model_name,
            "model_version": section.get("model_version") or "unknown"}
    logged = tracking.search_runs(EXPERIMENT, f"tags.snapshot_id = '{refresh.snapshot_id}' "
                                              f"and tags.family = '{family}'")
    if logged and set(logged[0]["metrics"]) >= set(metrics):  # nothing new since last time
        return
    with tracking.run(EXPERIMENT, run_name=f"{family}-{refresh.snapshot_id}", tags=tags):
        tracking.log_metrics(metrics)
        if section.get("calibration") is not None:
            tracking.log_table(section["calibration"], "calibration.csv")
        if section.get("per_step") is not None:
            tracking.log_table(section["per_step"], "per_step.csv")


def _gauges(sections: list[dict[str, Any]]) -> dict[str, float]:
    """The latest drift figures and the latest realised figures of each family."""
    out: dict[str, float] = {}
    for sec in sections:
        churn = sec.get("churn") or {}
        if churn.get("drift"):
            out.update({k: v for k, v in churn["drift"].items()})
        if churn.get("realised"):
            out.update({k: v for k, v in churn["realised"].items()
                        if k in ("realised_roc_auc", "realised_brier",
                                 "realised_lift_top_decile", "realised_base_rate")})
        demand = sec.get("demand") or {}
        if demand.get("realised"):
            out.update({f"demand_{k}": v for k, v in demand["realised"].items()
                        if k.startswith(("realised_wape", "realised_bias",
                                         "realised_coverage"))})
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def monitor(data_dir: str | Path, store: str | Path | None = None, last: int = 12,
            options: ReadOptions | None = None, track: bool = True,
            data: Dataset | None = None) -> dict[str, Any]:
    """Drift and realised performance of the latest ``last`` refreshes; returns the report
    (tables as DataFrames) and writes ``<store>/monitor/latest.json``."""
    root = Path(store) if store else S.root()
    history = S.refreshes(root)
    if not history:
        raise ForecastingError(
            f"no refresh recorded in {root} (no history/scores/*.parquet): run "
            f"'forecasting refresh DATA_DIR' first, or point FORECASTING_SNAPSHOT_ROOT (or "
            f"--store) at the snapshot store")
    data = data if data is not None else read_dataset(data_dir, options=options)
    last_day = R.last_order_day(data.orders)
    history = history[-last:] if last else history
    findings: list[Finding] = []
    models: dict = {}
    feature_cache: dict = {}
    actual_cache: dict = {}
    sections = []
    for refresh in history:
        sec = {"snapshot_id": refresh.snapshot_id, "as_of": f"{refresh.as_of:%Y-%m-%d}",
               "churn": churn_section(data, refresh, last_day, models, feature_cache,
                                      findings),
               "demand": demand_section(data, refresh, root, actual_cache, findings)}
        sections.append(sec)
        if track:
            for family, model_name in (("churn", CHURN_MODEL), ("demand", DEMAND_MODEL)):
                if sec[family]:
                    try:
                        _log(refresh, family, sec[family], model_name)
                    except Exception as exc:  # the report matters more than the log
                        findings.append(Finding("warning", refresh.snapshot_id, (
                            f"could not log the {family} figures to MLflow at "
                            f"{tracking.tracking_uri()}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:300]}; the report is still written")))
    if not any((s["churn"] or {}).get("realised") for s in sections):
        findings.append(Finding("info", None, (
            f"no refresh's churn label window has passed yet (the data end on "
            f"{last_day:%Y-%m-%d}): realised performance comes once the data reach "
            f"as-of + horizon")))
    report = {
        "data_dir": str(data_dir), "data_last_order": f"{last_day:%Y-%m-%d}",
        "store": str(root), "created_at": pd.Timestamp.now(tz="UTC").isoformat(
            timespec="seconds"),
        "refreshes": sections, "findings": [asdict(f) for f in findings],
        "gauges": _gauges(sections),
        "latest_snapshot_id": sections[-1]["snapshot_id"],
    }
    write_json(jsonable(report, tables=False), S.latest_report_path(root))
    return report


def jsonable(report: dict[str, Any], tables: bool = True) -> Any:
    """The report as plain JSON: tables as lists of records (or left out)."""
    def conv(v):
        if isinstance(v, pd.DataFrame):
            return v.replace({np.nan: None}).to_dict("records") if tables else None
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, (np.floating, float)):
            f = float(v)
            return f if np.isfinite(f) else None
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
        return v
    return conv(report)


def summary_text(report: dict[str, Any]) -> str:
    """What a person reads in the terminal: one block per refresh, then the findings."""
    lines = [f"data {report['data_dir']} reach {report['data_last_order']}; store "
             f"{report['store']}"]
    for sec in report["refreshes"]:
        lines.append(f"\n{sec['snapshot_id']} (as of {sec['as_of']})")
        churn = sec.get("churn")
        if churn:
            d = churn.get("drift") or {}
            top = sorted(((k, v) for k, v in d.items() if k != "psi_score"),
                         key=lambda kv: -kv[1])[:3]
            if d:
                lines.append(f"  churn v{churn['model_version']}: psi_score "
                             f"{d['psi_score']:.3f} [{D.level(d['psi_score'])}]; largest "
                             "feature shifts: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
            r = churn.get("realised")
            if r:
                lines.append(
                    f"  churn realised over ({sec['as_of']}, {churn['window_end']}]: ROC AUC "
                    f"{r['realised_roc_auc']:.3f}, Brier {r['realised_brier']:.4f}, top-decile "
                    f"lift {r['realised_lift_top_decile']:.2f}, churn rate "
                    f"{r['realised_base_rate']:.3f} ({int(r['realised_customers'])} customers)")
            elif churn.get("realised_note"):
                lines.append(f"  churn realised: {churn['realised_note']}")
        demand = sec.get("demand")
        if demand:
            r = demand.get("realised")
            if r:
                cov = ", ".join(f"{k.split('_')[-1]}% interval held {v:.0f}%"
                                for k, v in r.items() if k.startswith("realised_coverage"))
                who = (f"v{demand['model_version']}" if demand.get("model_version")
                       else "(fitted at refresh time, no registered model)")
                lines.append(f"  demand {who} realised over "
                             f"{int(r['realised_steps'])} step(s): WAPE {r['realised_wape']:.1f}%"
                             f", bias {r['realised_bias']:+.1f}%; {cov}")
            elif demand.get("realised_note"):
                lines.append(f"  demand realised: {demand['realised_note']}")
    if report["findings"]:
        lines.append("\nfindings:")
        for f in report["findings"]:
            where = f" [{f['snapshot_id']}]" if f["snapshot_id"] else ""
            lines.append(f"  {f['level'].upper()}{where}: {f['message']}")
    else:
        lines.append("\nfindings: none -- no threshold crossed")
    return "\n".join(lines)
