"""What the HTTP API serves, without the HTTP: the scored snapshot and the request handlers.

:mod:`forecasting.service` (the one module that imports ``bentoml``) is a thin shell over
:class:`Backend`, so every answer can be tested and benchmarked in-process.

The snapshot is a folder (default ``models/serving``, or ``FORECASTING_SNAPSHOT_DIR``) written
by :func:`build_snapshot` from a data set as of a date, with the champion models:

* ``churn.parquet``     -- churn probability, risk band, reasons, model version per customer
* ``customers.parquet`` -- RFM segment, lifecycle stage and value per customer
* ``kpis.parquet``      -- the KPI table (overall, per segment, per customer)
* ``forecasts.parquet`` -- demand forecasts per product with intervals
* ``history.parquet``   -- the demand history the forecasts came from (for production plans)
* ``meta.json``         -- as-of date, data folder, model versions and notes

Models come straight from the MLflow registry by alias ``champion`` (not copied into the
BentoML model store): the registry stays the single source of truth, and promoting a model
needs no second import step. Restart the service (or call ``Backend.reload``) after a
promotion.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import api_models as M
from forecasting import settings
from forecasting.errors import ForecastingError
from forecasting.schema import CUSTOMER_ID, DS, PRODUCT_ID, UNIQUE_ID, Y

log = logging.getLogger(__name__)

def snapshot_dir() -> Path:
    return settings.current().snapshot_dir


def _jsonable(v):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, (np.floating, np.integer)):
        return _jsonable(v.item())
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict("records")]


# --- building the snapshot --------------------------------------------------------------------
def build_snapshot(data_dir: str | Path, as_of=None, out_dir: str | Path | None = None,
                   horizon: int = 12, freq: str = "W", levels=(80, 95), options=None,
                   churn_adjust: bool = False) -> dict:
    """Score, segment, compute KPIs and forecast a data set as of a date with the champion
    models, and write the snapshot the API serves. Parts whose model is missing are skipped
    and noted in ``meta.json`` (the API then says so per endpoint). ``options``
    (:class:`forecasting.io.ReadOptions`) say how the data files are written;
    ``churn_adjust`` adds ``yhat_churn_adjusted`` to the forecasts (champion churn model; see
    :mod:`forecasting.demand.churn_adjust`)."""
    from forecasting.io import read_dataset, write_json, write_table
    from forecasting.analytics.kpis import kpi_table
    from forecasting.analytics.segments import segments

    out = Path(out_dir) if out_dir else snapshot_dir()
    data = read_dataset(data_dir, options=options)
    if as_of is None:
        as_of = data.orders["order_date"].max().normalize()
    as_of = pd.Timestamp(as_of)
    meta: dict = {"as_of": f"{as_of:%Y-%m-%d}", "data_dir": str(data_dir),
                  "created_at": pd.Timestamp.now().isoformat(timespec="seconds"), "notes": {}}
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    scores = None
    try:
        from forecasting.churn.score import score_customers

        scores = score_customers(data, as_of)
        churn = scores.assign(reasons=scores["reasons"].map(
            lambda r: json.dumps(list(r or []), default=str)))
        write_table(churn, tmp / "churn.parquet")
        meta["churn_model_version"] = str(churn["model_version"].iloc[0]) if len(churn) else None
    except (ForecastingError, ImportError) as exc:
        meta["notes"]["churn"] = f"no churn scores: {str(exc).splitlines()[0]}"
        log.warning("%s", meta["notes"]["churn"])
    seg = segments(data, as_of, churn_scores=scores)
    if "reasons" in seg:
        seg = seg.drop(columns="reasons")
    write_table(seg, tmp / "customers.parquet")
    write_table(kpi_table(data), tmp / "kpis.parquet")
    try:
        from forecasting import tracking
        from forecasting.demand.pipeline import latest_forecasts
        from forecasting.demand.series import orders_to_series

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
            from forecasting.demand.churn_adjust import churn_adjust as adjust
            from forecasting.demand.churn_adjust import history_end

            try:
                churn_model, _ = tracking.load_model("churn", alias="champion")
                fc = adjust(fc, data, churn_model, history_end(history, freq), freq)
            except ForecastingError as exc:
                meta["notes"]["churn_adjust"] = f"no churn adjustment: {str(exc).splitlines()[0]}"
                log.warning("%s", meta["notes"]["churn_adjust"])
        write_table(fc, tmp / "forecasts.parquet")
        write_table(history, tmp / "history.parquet")
        meta["demand_model_version"] = version
        meta["forecast"] = {"horizon": horizon, "freq": freq, "levels": list(levels)}
    except (ForecastingError, ImportError) as exc:
        meta["notes"]["demand"] = f"no forecasts: {str(exc).splitlines()[0]}"
        log.warning("%s", meta["notes"]["demand"])
    write_json(meta, tmp / "meta.json")
    if out.exists():
        for f in out.iterdir():
            f.unlink()
        out.rmdir()
    tmp.rename(out)
    log.info("snapshot as of %s written to %s", meta["as_of"], out)
    return meta


# --- answering requests -----------------------------------------------------------------------
@dataclass
class Backend:
    """Loads the snapshot and the champion models once; answers API requests."""

    folder: Path | None = None
    meta: dict = field(default_factory=dict)
    ready: bool = False

    def __post_init__(self) -> None:
        self.folder = Path(self.folder) if self.folder else snapshot_dir()
        self.load()

    # loading ------------------------------------------------------------------------------
    def load(self) -> None:
        t = time.perf_counter()
        f = self.folder
        if not (f / "meta.json").exists():
            raise ForecastingError(
                f"no scored snapshot in {f}; run 'forecasting serve --data DATA_DIR' (or "
                f"'forecasting demo') to build one")
        self.meta = json.loads((f / "meta.json").read_text())
        self._churn: dict[str, dict] = {}
        self._customers: dict[str, dict] = {}
        seg = pd.read_parquet(f / "customers.parquet")
        seg[CUSTOMER_ID] = seg[CUSTOMER_ID].astype(str)
        for rec in _records(seg):
            self._customers[rec[CUSTOMER_ID]] = rec
        if (f / "churn.parquet").exists():
            churn = pd.read_parquet(f / "churn.parquet")
            for rec in _records(churn):
                cid = str(rec[CUSTOMER_ID])
                self._churn[cid] = M.ChurnScore(
                    customer_id=cid, churn_probability=rec.get("churn_probability"),
                    risk_band=rec.get("risk_band"),
                    segment=(self._customers.get(cid) or {}).get("segment"),
                    reasons=[M.Reason(**r) for r in json.loads(rec.get("reasons") or "[]")],
                    model_version=str(rec.get("model_version")),
                ).model_dump()
        # answers by id never change until the next snapshot: serialise them once
        self._churn_json = {cid: json.dumps(item, separators=(",", ":")).encode()
                            for cid, item in self._churn.items()}
        self._kpis = pd.read_parquet(f / "kpis.parquet")
        self._forecasts = (pd.read_parquet(f / "forecasts.parquet")
                           if (f / "forecasts.parquet").exists() else None)
        self._history = (pd.read_parquet(f / "history.parquet")
                         if (f / "history.parquet").exists() else None)
        if self._forecasts is not None:
            self._forecasts[UNIQUE_ID] = self._forecasts[UNIQUE_ID].astype(str)
            self._fc_groups = {k: g for k, g in self._forecasts.groupby(UNIQUE_ID, sort=False)}
        self._churn_model = self._load_model("churn")
        self._demand_model = self._load_model("demand")
        self.ready = True
        log.info("serving snapshot as of %s: %d customers scored, %d segmented, %s products "
                 "forecast (loaded in %.1f s)", self.meta.get("as_of"), len(self._churn),
                 len(self._customers),
                 "no" if self._forecasts is None else self._forecasts[UNIQUE_ID].nunique(),
                 time.perf_counter() - t)

    def _load_model(self, name: str):
        """(model, ModelRef) of the champion, or None. Models predict single-threaded: a
        worker serves many small requests, where LightGBM's thread pool only costs time."""
        from forecasting import tracking

        try:
            obj, ref = tracking.load_model(name, alias="champion")
        except ForecastingError as exc:
            log.info("no %s champion: %s", name, str(exc).splitlines()[0])
            return None
        if hasattr(obj, "version"):
            obj.version = ref.version
        return obj, ref

    # endpoints ----------------------------------------------------------------------------
    def churn_score(self, req: M.ChurnScoreRequest) -> M.ChurnScoreResponse:
        if req.customer_ids is not None:
            if not self._churn:
                raise ForecastingError(self.meta["notes"].get(
                    "churn", "no churn scores in the snapshot; train and promote a churn model"))
            items = []
            for cid in req.customer_ids:
                hit = self._churn.get(cid)
                if hit is not None:
                    items.append(hit)
                else:
                    why = ("is a known customer without an order in the lookback window, so "
                           "not scored" if cid in self._customers else "is not a known customer")
                    items.append(M.ChurnScore(customer_id=cid,
                                              error=f"customer_id {cid!r} {why}").model_dump())
            return M.ChurnScoreResponse(
                items=items, model_version=self.meta.get("churn_model_version"),
                as_of=self.meta.get("as_of"))
        return self._score_rows(req.rows or [])

    def churn_score_json(self, customer_ids: list[str]) -> bytes:
        """The ``/churn/score`` answer for ids as JSON bytes (same content as
        :meth:`churn_score`), joined from pre-serialised items: no per-request encoding."""
        if not self._churn:
            raise ForecastingError(self.meta["notes"].get(
                "churn", "no churn scores in the snapshot; train and promote a churn model"))
        parts = []
        for cid in customer_ids:
            hit = self._churn_json.get(cid)
            if hit is None:
                hit = self.churn_score(M.ChurnScoreRequest.model_construct(
                    customer_ids=[cid])).items[0].model_dump_json().encode()
            parts.append(hit)
        tail = json.dumps({"model_version": self.meta.get("churn_model_version"),
                           "as_of": self.meta.get("as_of")})
        return b'{"items":[' + b",".join(parts) + b"]," + tail[1:].encode()

    def _score_rows(self, rows: list[dict]) -> M.ChurnScoreResponse:
        items = self.score_row_batches([rows])[0]
        return M.ChurnScoreResponse(items=items, model_version=items[0]["model_version"]
                                    if items else None, as_of=None)

    def score_row_batches(self, batches: list[list[dict]]) -> list[list[dict]]:
        """Score several requests' feature rows in ONE model call (the model's cost is mostly
        per call, not per row); returns the items of each request, in order."""
        if self._churn_model is None:
            raise ForecastingError("no champion churn model is loaded; run 'forecasting train "
                                   "churn' and 'forecasting promote churn'")
        model, ref = self._churn_model
        rows = [r for batch in batches for r in batch]
        scored = model.score(pd.DataFrame(rows)).to_dict("records")
        items = []
        for row, rec in zip(rows, scored):
            cid = row.get(CUSTOMER_ID)
            items.append({
                "customer_id": None if cid is None else str(cid),
                "churn_probability": _jsonable(rec.get("churn_probability")),
                "risk_band": rec.get("risk_band"),
                "segment": (self._customers.get(str(cid)) or {}).get("segment"),
                "reasons": list(rec.get("reasons") or []),
                "model_version": str(ref.version)})
        out, start = [], 0
        for batch in batches:
            out.append(items[start:start + len(batch)])
            start += len(batch)
        return out

    def segments(self, req: M.SegmentsRequest) -> M.SegmentsResponse:
        rows, errors = [], {}
        for cid in req.customer_ids:
            rec = self._customers.get(cid)
            if rec is None:
                errors[cid] = f"customer_id {cid!r} is not a known customer"
            else:
                rows.append(rec)
        return M.SegmentsResponse.model_construct(rows=rows, errors=errors,
                                                  as_of=self.meta.get("as_of"))

    def kpis(self, req: M.KpisRequest) -> M.KpisResponse:
        k = self._kpis
        k = k[k["level"] == req.scope]
        if req.periods:
            unknown = sorted(set(req.periods) - set(k["period"].unique()))
            if unknown and len(unknown) == len(set(req.periods)):
                raise ForecastingError(
                    f"no KPIs for period(s) {', '.join(unknown)}; the data covers "
                    f"{k['period'].min()} to {k['period'].max()}")
            k = k[k["period"].isin(req.periods)]
        if req.customer_ids:
            if req.scope != "customer":
                raise ForecastingError("customer_ids needs scope 'customer'")
            k = k[k["group"].isin(req.customer_ids)]
        k = k.drop(columns=["period_start", "period_end"], errors="ignore")
        return M.KpisResponse.model_construct(rows=_records(k))

    def forecast(self, req: M.ForecastRequest) -> M.ForecastResponse:
        levels = sorted(set(req.levels))
        if req.history is not None:  # the user's own series: chosen and fitted on them
            from forecasting.demand.pipeline import forecast

            hist = history_frame([h.model_dump() for h in req.history])
            fc = forecast(hist, horizon=req.horizon, freq=req.freq, levels=levels,
                          progress=False).table
            return M.ForecastResponse.model_construct(
                points=self._points(fc, levels), errors={}, model_version="fitted on request")
        if self._forecasts is None:
            raise ForecastingError(self.meta["notes"].get(
                "demand", "no forecasts in the snapshot; train and promote a demand model"))
        spec = self.meta.get("forecast", {})
        if req.freq != spec.get("freq", req.freq):
            raise ForecastingError(
                f"the latest forecasts are {spec.get('freq')!r}; ask for freq "
                f"{spec.get('freq')!r} or send 'history' to forecast at {req.freq!r}")
        if req.horizon > int(spec.get("horizon", req.horizon)):
            raise ForecastingError(
                f"the latest forecasts reach {spec.get('horizon')} periods; ask for at most that "
                f"or send 'history'")
        missing = [lv for lv in levels if f"yhat_lo_{lv}" not in self._forecasts]
        if missing:
            raise ForecastingError(
                f"the latest forecasts have levels {spec.get('levels')}; level(s) {missing} "
                f"need 'history' in the request")
        frames, errors = [], {}
        for pid in req.product_ids or []:
            g = self._fc_groups.get(pid)
            if g is None:
                errors[pid] = f"product_id {pid!r} has no forecast (unknown product)"
            else:
                frames.append(g.head(req.horizon))
        fc = pd.concat(frames) if frames else self._forecasts.iloc[:0]
        return M.ForecastResponse.model_construct(
            points=self._points(fc, levels), errors=errors,
            model_version=self.meta.get("demand_model_version"))

    @staticmethod
    def _points(fc: pd.DataFrame, levels: list[int]) -> list[dict]:
        out = []
        ds = pd.to_datetime(fc[DS]).dt.strftime("%Y-%m-%d").to_numpy()
        uid = fc[UNIQUE_ID].astype(str).to_numpy()
        yhat = fc["yhat"].to_numpy(float)
        lo = {lv: fc[f"yhat_lo_{lv}"].to_numpy(float) for lv in levels}
        hi = {lv: fc[f"yhat_hi_{lv}"].to_numpy(float) for lv in levels}
        for i in range(len(fc)):
            out.append({"unique_id": uid[i], "ds": ds[i], "yhat": float(yhat[i]),
                        "lo": {str(lv): float(lo[lv][i]) for lv in levels},
                        "hi": {str(lv): float(hi[lv][i]) for lv in levels}})
        return out

    def plan(self, req: M.PlanRequest) -> M.PlanResponse:
        if self._forecasts is None or self._history is None:
            raise ForecastingError(self.meta["notes"].get(
                "demand", "no forecasts in the snapshot; train and promote a demand model"))
        from forecasting.planning import production_plan

        inv = pd.DataFrame([r.model_dump() for r in req.inventory])
        dup = inv[PRODUCT_ID][inv[PRODUCT_ID].duplicated()].unique().tolist()
        if dup:
            raise ForecastingError(f"inventory lists product_id {', '.join(map(repr, dup))} "
                                   f"more than once; send one row per product")
        known = inv[PRODUCT_ID].isin(self._fc_groups)
        errors = {pid: f"product_id {pid!r} has no demand history (unknown product)"
                  for pid in inv.loc[~known, PRODUCT_ID]}
        rows = []
        if known.any():
            hist = self._history[self._history[UNIQUE_ID].isin(inv.loc[known, PRODUCT_ID])]
            model = None if self._demand_model is None else self._demand_model[0]
            plan = production_plan(hist, inv[known], req.service_level,
                                   freq=self.meta.get("forecast", {}).get("freq", "W"),
                                   model=model)
            rows = _records(plan)
        return M.PlanResponse.model_construct(rows=rows, errors=errors)

    def model_info(self) -> M.ModelInfoResponse:
        from forecasting import tracking

        models = []
        for name in ("churn", "demand"):
            loaded = getattr(self, f"_{name}_model")
            try:
                ref = loaded[1] if loaded else tracking.get_version(name, "champion")
            except ForecastingError:
                ref = None
            if ref is None:
                models.append(M.ModelInfo(name=name, loaded=False,
                                          note=self.meta.get("notes", {}).get(name)
                                          or f"no champion; run 'forecasting train {name}'"))
                continue
            models.append(M.ModelInfo(
                name=name, version=str(ref.version), run_id=ref.run_id,
                trained_at=str(ref.created),
                metrics={k: float(v) for k, v in (ref.metrics or {}).items()
                         if isinstance(v, (int, float)) and np.isfinite(v)},
                loaded=loaded is not None))
        return M.ModelInfoResponse(models=models, snapshot_as_of=self.meta.get("as_of"))


def history_frame(history: list[dict]) -> pd.DataFrame:
    """Request history rows as a long series table."""
    df = pd.DataFrame(history, columns=[UNIQUE_ID, DS, Y])
    df[DS] = pd.to_datetime(df[DS])
    return df


class RowBatcher:
    """Adaptive batching of feature-row scoring across concurrent requests.

    While one model call runs (in a thread), requests that arrive queue up; the next call takes
    all of them at once (up to ``max_rows``). Under light load a request is scored alone at
    once (no added wait); under load, batches grow with the queue. Only requests with the same
    columns share a call, so a request missing a feature still gets its own error; when a
    shared call fails, each request is retried alone so one bad request fails only itself.
    """

    def __init__(self, score_batches, max_rows: int = 2000):
        import collections

        self.score_batches = score_batches
        self.max_rows = max_rows
        self._pending: collections.deque = collections.deque()
        self._worker = None

    async def submit(self, rows: list[dict]) -> list[dict]:
        import asyncio

        fut = asyncio.get_running_loop().create_future()
        self._pending.append((rows, fut))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        import asyncio

        while self._pending:
            taken, n = [], 0
            while self._pending and (not taken or n + len(self._pending[0][0]) <= self.max_rows):
                taken.append(self._pending.popleft())
                n += len(taken[-1][0])
            groups: dict[tuple, list] = {}
            for rows, fut in taken:
                key = tuple(sorted({k for r in rows for k in r}))
                groups.setdefault(key, []).append((rows, fut))
            for items in groups.values():
                await self._score(items)

    async def _score(self, items: list) -> None:
        import asyncio

        try:
            results = await asyncio.to_thread(self.score_batches, [rows for rows, _ in items])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
            if len(items) == 1:
                items[0][1].set_exception(exc)
                return
            for one in items:  # one bad request must not fail the others
                await self._score([one])
            return
        for (_, fut), res in zip(items, results):
            if not fut.done():
                fut.set_result(res)
