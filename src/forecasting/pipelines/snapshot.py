"""The scored snapshot the API serves, built as of one date with the champion models.

A snapshot is a folder: a version in the snapshot store (:mod:`forecasting.pipelines.store`,
``<models>/snapshots/<snapshot_id>``, made current by :func:`refresh`), or the fixed folder
``FORECASTING_SNAPSHOT_DIR`` when that is set. It holds:

* ``churn.parquet``     -- churn probability, risk band, reasons, model version per customer
* ``customers.parquet`` -- RFM segment, lifecycle stage and value per customer
* ``followup.parquet``  -- customers with value at risk, ranked, with reasons and actions
* ``kpis.parquet``      -- the KPI table (overall, per segment, per customer)
* ``forecasts.parquet`` -- demand forecasts per product with intervals
* ``history.parquet``   -- the demand history the forecasts came from (for production plans)
* ``customer_events.parquet`` -- orders per month, complaints and surveys per customer (the
  web page's customer view, :mod:`forecasting.analytics.events`)
* ``customer_attributes.parquet`` -- the customers table's attributes (region, tier, ...)
* ``products.parquet``  -- the products table, when the data set has one
* ``meta.json``         -- as-of date, data folder, model versions, notes and the row count of
  every table (the store checks that each one reads back whole before serving it)

The customer features are built once (as of the date, with the churn model's lookback) and
feed both the churn scores and the follow-up list; the scores are then handed to the
analytics functions, which never fetch models themselves. The folder is written aside,
checked and renamed into place, so a reader never sees half a snapshot.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting import settings, tracking
from forecasting.analytics.events import customer_events
from forecasting.analytics.followup import followup_list
from forecasting.analytics.kpis import kpi_table
from forecasting.analytics.segments import SegmentConfig, segments
from forecasting.churn.score import customer_features, load_champion, score_features
from forecasting.cutoff import Cutoff
from forecasting.dataset import Dataset
from forecasting.demand.churn_adjust import churn_adjust as adjust
from forecasting.demand.churn_adjust import history_end
from forecasting.demand.pipeline import latest_forecasts
from forecasting.demand.series import orders_to_series
from forecasting.engines import DEFAULT_ENGINE, DEFAULT_SPARK_MASTER
from forecasting.errors import ForecastingError
from forecasting.io import ReadOptions, read_dataset, write_json, write_table
from forecasting.pipelines import store

log = logging.getLogger(__name__)


def snapshot_dir() -> Path | None:
    """The folder the API serves: ``FORECASTING_SNAPSHOT_DIR`` when set (a fixed folder), else
    the store's current snapshot (None when no refresh has run yet)."""
    s = settings.current()
    return s.snapshot_dir if s.snapshot_dir else store.current_snapshot_dir(s.snapshot_root)


def churn_part(data: Dataset, as_of: pd.Timestamp, meta: dict, engine=None):
    """(scores, features) of the champion churn model as of ``as_of``; (None, None) with a
    note in ``meta`` when there is no usable model. ``engine``: a
    :class:`forecasting.engines.spark_snapshot.SparkParts` that computes them on Spark."""
    try:
        model = load_champion()
        if engine is None:
            features = customer_features(data, as_of, model)
            scores = score_features(features, model)
        else:
            scores, features = engine.churn(as_of, model)
    except ForecastingError as exc:
        meta["notes"]["churn"] = f"no churn scores: {str(exc).splitlines()[0]}"
        log.warning("%s", meta["notes"]["churn"])
        return None, None
    scores.insert(1, "as_of", f"{as_of:%Y-%m-%d}")
    scores = scores.sort_values("churn_probability", ascending=False, kind="stable")
    meta["churn_model_version"] = str(model.version)
    meta["churn_lookback_days"] = int(model.config.get("lookback_days",
                                                       settings.DEFAULT_LOOKBACK_DAYS))
    return scores.reset_index(drop=True), features


def demand_part(data: Dataset, meta: dict, horizon: int, freq: str, levels,
                churn_adjust: bool, engine=None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(forecasts, history) with the champion demand model (or fitted now when there is
    none, said in ``meta``); None with a note when nothing can be forecast."""
    try:
        try:
            model, ref = tracking.load_model("demand", alias="champion")
            version = str(ref.version)
        except ForecastingError as exc:
            model, version = None, None
            meta["notes"]["demand"] = (f"{str(exc).splitlines()[0]}; forecasts fitted at "
                                       f"snapshot time, not from a registered model")
        history = orders_to_series(data.orders, freq=freq, products=data.products)
        if engine is None:
            fc = latest_forecasts(data, horizon=horizon, freq=freq, levels=tuple(levels),
                                  model=model, series=history)
        else:
            fc = engine.forecasts(history, model, horizon, freq, tuple(levels))
        if churn_adjust:
            try:
                churn_model, _ = tracking.load_model("churn", alias="champion")
                fc = adjust(fc, data, churn_model, history_end(history, freq), freq)
            except ForecastingError as exc:
                meta["notes"]["churn_adjust"] = f"no churn adjustment: {str(exc).splitlines()[0]}"
                log.warning("%s", meta["notes"]["churn_adjust"])
    except ForecastingError as exc:
        meta["notes"]["demand"] = f"no forecasts: {str(exc).splitlines()[0]}"
        log.warning("%s", meta["notes"]["demand"])
        return None
    meta["demand_model_version"] = version
    meta["forecast"] = {"horizon": horizon, "freq": freq, "levels": list(levels)}
    return fc, history


def write_page_tables(data: Dataset, as_of: pd.Timestamp, folder: Path) -> None:
    """What only the web page reads: customer events, customer attributes, products."""
    write_table(customer_events(data, as_of), folder / "customer_events.parquet")
    if data.customers is not None:
        write_table(data.customers, folder / "customer_attributes.parquet")
    if data.products is not None:
        write_table(data.products, folder / "products.parquet")


def write_snapshot(data: Dataset, data_dir, as_of: pd.Timestamp, folder: Path,
                   horizon: int = settings.DEFAULT_HORIZON, freq: str = settings.DEFAULT_FREQ,
                   levels=settings.DEFAULT_LEVELS, churn_adjust: bool = False,
                   engine=None) -> dict:
    """Write every table of the snapshot and its ``meta.json`` (with the row counts) into
    ``folder``, which exists and is not served yet. Returns the meta. ``engine``: a
    :class:`forecasting.engines.spark_snapshot.SparkParts` computing the scores, segments
    and forecasts on Spark (None: here)."""
    meta: dict = {"as_of": f"{as_of:%Y-%m-%d}", "data_dir": str(data_dir),
                  "created_at": pd.Timestamp.now().isoformat(timespec="seconds"), "notes": {}}
    tables: dict[str, pd.DataFrame] = {}
    scores, features = churn_part(data, as_of, meta, engine)
    if scores is not None:
        tables["churn.parquet"] = scores.assign(reasons=scores["reasons"].map(
            lambda r: json.dumps(list(r or []), default=str)))
    cfg = SegmentConfig()
    seg = (segments(data, as_of, cfg, churn_scores=scores) if engine is None
           else engine.segments(as_of, cfg, scored=scores is not None))
    follow = followup_list(data, as_of, cfg, seg=seg,
                           features=features if meta.get("churn_lookback_days")
                           == cfg.lookback_days else None)
    for table in (seg, follow):
        for col in ("reasons", "model_reasons", "reason_codes"):
            if col in table:
                table[col] = table[col].map(lambda r: r if isinstance(r, str)
                                            else json.dumps(list(r), default=str)
                                            if r is not None and not isinstance(r, float)
                                            else None)
    tables["customers.parquet"] = seg.drop(columns="reasons", errors="ignore")
    tables["followup.parquet"] = follow
    # KPIs, the page's event tables and the forecasts see only what was known on the as-of
    # day (a refresh as of a past date must not forecast from later orders)
    known = data.known_at(as_of)
    tables["kpis.parquet"] = kpi_table(known)
    write_page_tables(known, as_of, folder)
    demand = demand_part(known, meta, horizon, freq, levels, churn_adjust, engine)
    if demand is not None:
        tables["forecasts.parquet"], tables["history.parquet"] = demand
    for name, table in tables.items():
        write_table(table, folder / name)
    meta["rows"] = {name: int(len(table)) for name, table in tables.items()}
    write_json(meta, folder / "meta.json")
    return meta


def _read(data_dir, as_of, options: ReadOptions | None) -> tuple[Dataset, pd.Timestamp, bool]:
    data = read_dataset(data_dir, options=options)
    if len(data.orders) == 0:
        raise ForecastingError(f"{data_dir}: the orders table is empty; nothing to score")
    default = as_of is None
    if default:
        return data, data.orders["order_date"].max().normalize(), default
    return data, _as_of(as_of), default


def _engine(engine: str, data_dir, spark_master: str, options: ReadOptions | None):
    """None for the local engine; for ``spark``, the Spark parts over ``data_dir``."""
    if engine == DEFAULT_ENGINE:
        return None
    if engine != "spark":
        raise ForecastingError(f"unknown engine {engine!r}: local or spark")
    # heavy: pyspark (and a JVM) only when the Spark engine is asked for
    from forecasting.engines.spark_snapshot import SparkParts

    return SparkParts(data_dir, spark_master, options)


def _as_of(as_of) -> pd.Timestamp:
    """The snapshot's day (see :class:`forecasting.cutoff.Cutoff`)."""
    return Cutoff.of(as_of).day


def build_snapshot(data_dir: str | Path, as_of=None, out_dir: str | Path | None = None,
                   horizon: int = settings.DEFAULT_HORIZON, freq: str = settings.DEFAULT_FREQ,
                   levels=settings.DEFAULT_LEVELS, options: ReadOptions | None = None,
                   churn_adjust: bool = False, engine: str = DEFAULT_ENGINE,
                   spark_master: str = DEFAULT_SPARK_MASTER) -> dict:
    """Score, segment, rank for follow-up, compute KPIs and forecast a data set as of a date
    with the champion models, and write the snapshot the API serves. Parts whose model is
    missing are skipped and noted in ``meta.json`` (the API then says so per endpoint).
    ``options`` say how the data files are written; ``churn_adjust`` adds
    ``yhat_churn_adjusted`` to the forecasts (see :mod:`forecasting.demand.churn_adjust`).
    ``engine="spark"`` computes the scores, segments and forecasts on Spark (``spark_master``;
    see :mod:`forecasting.engines.spark_snapshot`).

    Where: ``out_dir`` (or ``FORECASTING_SNAPSHOT_DIR``), a fixed folder replaced whole; with
    neither, a new version in the snapshot store made current (:func:`refresh`, which a
    running API picks up). Returns the snapshot's ``meta``."""
    fixed = Path(out_dir) if out_dir else settings.current().snapshot_dir
    if fixed is None:
        return refresh(data_dir, as_of=as_of, horizon=horizon, freq=freq, levels=levels,
                       options=options, churn_adjust=churn_adjust, allow_missing=True,
                       engine=engine, spark_master=spark_master).meta
    data, as_of, _ = _read(data_dir, as_of, options)
    parts = _engine(engine, data_dir, spark_master, options)
    tmp = fixed.with_name(fixed.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    meta = write_snapshot(data, data_dir, as_of, tmp, horizon, freq, levels, churn_adjust,
                          parts)
    store.check_snapshot(tmp)
    if fixed.exists():
        shutil.rmtree(fixed)
    tmp.rename(fixed)
    log.info("snapshot as of %s written to %s", meta["as_of"], fixed)
    return meta


@dataclass
class RefreshResult:
    snapshot_id: str
    path: Path
    meta: dict
    as_of_default: bool  # as_of was the last order date of the data (none was given)
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _lost_parts(new: dict, root: Path) -> list[str]:
    """What the current snapshot serves that the new one would not (a refresh that would take
    scores or forecasts away from the CRM is refused unless asked for)."""
    cur = store.current_snapshot_dir(root)
    if cur is None or not (cur / "meta.json").exists():
        return []
    old = store.read_meta(cur)
    lost = []
    for table, part, what in (("churn.parquet", "churn", "churn scores"),
                              ("forecasts.parquet", "demand", "demand forecasts")):
        if old.get("rows", {}).get(table) and not new["rows"].get(table):
            lost.append(f"{what} ({new['notes'].get(part, 'not produced')})")
    return lost


def _fail_early_without_churn_champion(root: Path) -> None:
    """The refusal of :func:`_lost_parts` for churn scores, before the work: the current
    snapshot has scores and the registry names no churn champion."""
    cur = store.current_snapshot_dir(root)
    if cur is None or not (cur / "meta.json").exists():
        return
    if store.read_meta(cur).get("rows", {}).get("churn.parquet") and \
            tracking.alias_version("churn", tracking.CHAMPION) is None:
        raise ForecastingError(
            f"the new snapshot would serve no churn scores (no 'champion' version of model "
            f"'churn' in the MLflow registry at {tracking.tracking_uri()}), which the current "
            f"one serves; the current snapshot stays. Train and promote a churn model, or "
            f"publish anyway with --allow-missing")


def refresh(data_dir: str | Path, as_of=None, root: str | Path | None = None, keep: int = 10,
            horizon: int = settings.DEFAULT_HORIZON, freq: str = settings.DEFAULT_FREQ,
            levels=settings.DEFAULT_LEVELS, options: ReadOptions | None = None,
            churn_adjust: bool = False, allow_missing: bool = False,
            engine: str = DEFAULT_ENGINE, spark_master: str = DEFAULT_SPARK_MASTER
            ) -> RefreshResult:
    """Build a new snapshot version of ``data_dir`` as of ``as_of`` (default: its last order
    date) in the store at ``root`` (default ``FORECASTING_SNAPSHOT_ROOT``): written aside,
    checked, made current atomically, its score and forecast history appended, then all but
    the newest ``keep`` snapshots removed. Holds the store's refresh lock throughout and first
    removes what an interrupted refresh left. A failure (ForecastingError) leaves the current
    snapshot as it was. A new snapshot that would serve no churn scores or no forecasts where
    the current one does is refused unless ``allow_missing``. ``engine="spark"``: the scores,
    segments and forecasts on Spark (``spark_master``), the rest unchanged."""
    t = time.perf_counter()
    root = Path(root) if root else settings.current().snapshot_root
    if keep < 1:
        raise ForecastingError(f"--keep must be at least 1 (the current snapshot), got {keep}")
    if as_of is not None:
        as_of = _as_of(as_of)
    with store.refresh_lock(root):
        store.clean_partials(root)
        if not allow_missing:
            _fail_early_without_churn_champion(root)
        data, as_of, default = _read(data_dir, as_of, options)
        if default:
            log.info("as of %s: the last order date in %s (give --as-of to choose)",
                     f"{as_of:%Y-%m-%d}", data_dir)
        parts = _engine(engine, data_dir, spark_master, options)
        sid = store.snapshot_id(as_of)
        partial = store.begin(root, sid)
        try:
            meta = write_snapshot(data, data_dir, as_of, partial, horizon, freq, levels,
                                  churn_adjust, parts)
            meta["snapshot_id"] = sid
            write_json(meta, partial / "meta.json")
            lost = _lost_parts(meta, root)
            if lost and not allow_missing:
                raise ForecastingError(
                    f"the new snapshot would serve no {' and no '.join(lost)}, which the current "
                    f"one serves; the current snapshot stays. Fix that (train and promote the "
                    f"model) or publish anyway with --allow-missing")
            path = store.commit(root, partial, sid)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        pruned = store.prune(root, keep)
    log.info("snapshot %s is current (%s)", sid, path)
    return RefreshResult(sid, path, meta, default, pruned, time.perf_counter() - t)
