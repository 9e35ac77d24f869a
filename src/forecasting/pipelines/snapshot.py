"""The scored snapshot the API serves, built as of one date with the champion models.

A snapshot is a folder (default ``models/serving``, or ``FORECASTING_SNAPSHOT_DIR``):

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
* ``meta.json``         -- as-of date, data folder, model versions and notes

The customer features are built once (as of the date, with the churn model's lookback) and
feed both the churn scores and the follow-up list; the scores are then handed to the
analytics functions, which never fetch models themselves. The folder is written aside and
renamed into place, so a reader never sees half a snapshot.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from forecasting import settings, tracking
from forecasting.analytics.events import customer_events
from forecasting.analytics.followup import followup_list
from forecasting.analytics.kpis import kpi_table
from forecasting.analytics.segments import SegmentConfig, segments
from forecasting.churn.score import customer_features, load_champion, score_features
from forecasting.dataset import Dataset
from forecasting.errors import ForecastingError
from forecasting.io import ReadOptions, read_dataset, write_json, write_table

log = logging.getLogger(__name__)


def snapshot_dir() -> Path:
    """Where the API's current snapshot lives (``FORECASTING_SNAPSHOT_DIR``)."""
    return settings.current().snapshot_dir


def churn_part(data: Dataset, as_of: pd.Timestamp, meta: dict):
    """(scores, features) of the champion churn model as of ``as_of``; (None, None) with a
    note in ``meta`` when there is no usable model."""
    try:
        model = load_champion()
        features = customer_features(data, as_of, model)
        scores = score_features(features, model)
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
                churn_adjust: bool) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(forecasts, history) with the champion demand model (or fitted now when there is
    none, said in ``meta``); None with a note when nothing can be forecast."""
    from forecasting.demand.churn_adjust import churn_adjust as adjust, history_end
    from forecasting.demand.pipeline import latest_forecasts
    from forecasting.demand.series import orders_to_series

    try:
        try:
            model, ref = tracking.load_model("demand", alias="champion")
            version = str(ref.version)
        except ForecastingError as exc:
            model, version = None, None
            meta["notes"]["demand"] = (f"{str(exc).splitlines()[0]}; forecasts fitted at "
                                       f"snapshot time, not from a registered model")
        history = orders_to_series(data.orders, freq=freq, products=data.products)
        fc = latest_forecasts(data, horizon=horizon, freq=freq, levels=tuple(levels),
                              model=model, series=history)
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


def build_snapshot(data_dir: str | Path, as_of=None, out_dir: str | Path | None = None,
                   horizon: int = settings.DEFAULT_HORIZON, freq: str = settings.DEFAULT_FREQ,
                   levels=settings.DEFAULT_LEVELS, options: ReadOptions | None = None,
                   churn_adjust: bool = False) -> dict:
    """Score, segment, rank for follow-up, compute KPIs and forecast a data set as of a date
    with the champion models, and write the snapshot the API serves. Parts whose model is
    missing are skipped and noted in ``meta.json`` (the API then says so per endpoint).
    ``options`` say how the data files are written; ``churn_adjust`` adds
    ``yhat_churn_adjusted`` to the forecasts (see :mod:`forecasting.demand.churn_adjust`).
    Returns the snapshot's ``meta``."""
    out = Path(out_dir) if out_dir else snapshot_dir()
    data = read_dataset(data_dir, options=options)
    if as_of is None:
        as_of = data.orders["order_date"].max().normalize()
    as_of = pd.Timestamp(as_of)
    meta: dict = {"as_of": f"{as_of:%Y-%m-%d}", "data_dir": str(data_dir),
                  "created_at": pd.Timestamp.now().isoformat(timespec="seconds"), "notes": {}}
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    scores, features = churn_part(data, as_of, meta)
    if scores is not None:
        churn = scores.assign(reasons=scores["reasons"].map(
            lambda r: json.dumps(list(r or []), default=str)))
        write_table(churn, tmp / "churn.parquet")
    cfg = SegmentConfig()
    seg = segments(data, as_of, cfg, churn_scores=scores)
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
    write_table(seg.drop(columns="reasons", errors="ignore"), tmp / "customers.parquet")
    write_table(follow, tmp / "followup.parquet")
    write_table(kpi_table(data), tmp / "kpis.parquet")
    write_page_tables(data, as_of, tmp)
    demand = demand_part(data, meta, horizon, freq, levels, churn_adjust)
    if demand is not None:
        write_table(demand[0], tmp / "forecasts.parquet")
        write_table(demand[1], tmp / "history.parquet")
    write_json(meta, tmp / "meta.json")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    log.info("snapshot as of %s written to %s", meta["as_of"], out)
    return meta
