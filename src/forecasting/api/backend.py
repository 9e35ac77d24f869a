"""What the HTTP API answers, without the HTTP: the request handlers over a snapshot.

:mod:`forecasting.api.service` (the one module that imports ``bentoml``) is a thin shell over
:class:`Backend`, so every answer can be tested and benchmarked in-process. The snapshot (a
folder of tables as of one date) is written by :mod:`forecasting.pipelines.snapshot`.

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

from forecasting import tracking
from forecasting.api import models as M
from forecasting.demand.churn_adjust import ADJUSTED
from forecasting.demand.pipeline import forecast as forecast_history
from forecasting.demand.planning import production_plan
from forecasting.errors import ForecastingError
from forecasting.pipelines.snapshot import snapshot_dir
from forecasting.schema import CUSTOMER_ID, DS, PRODUCT_ID, UNIQUE_ID, Y
from forecasting.settings import DEFAULT_FREQ, DEFAULT_HORIZON, DEFAULT_LEVELS

log = logging.getLogger(__name__)

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
        self._fitted_demand = None  # plans without a champion: fitted once, on first use
        self.ready = True
        log.info("serving snapshot as of %s: %d customers scored, %d segmented, %s products "
                 "forecast (loaded in %.1f s)", self.meta.get("as_of"), len(self._churn),
                 len(self._customers),
                 "no" if self._forecasts is None else self._forecasts[UNIQUE_ID].nunique(),
                 time.perf_counter() - t)

    def _load_model(self, name: str):
        """(model, ModelRef) of the champion, or None. Models predict single-threaded: a
        worker serves many small requests, where LightGBM's thread pool only costs time."""
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
            hist = history_frame([h.model_dump() for h in req.history])
            fc = forecast_history(hist, horizon=req.horizon, freq=req.freq, levels=levels,
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
        adj = (fc[ADJUSTED].to_numpy(float) if ADJUSTED in fc else None)
        for i in range(len(fc)):
            point = {"unique_id": uid[i], "ds": ds[i], "yhat": float(yhat[i]),
                     "lo": {str(lv): float(lo[lv][i]) for lv in levels},
                     "hi": {str(lv): float(hi[lv][i]) for lv in levels}}
            if adj is not None:
                point[ADJUSTED] = _jsonable(float(adj[i]))
            out.append(point)
        return out

    def plan(self, req: M.PlanRequest) -> M.PlanResponse:
        if self._forecasts is None or self._history is None:
            raise ForecastingError(self.meta["notes"].get(
                "demand", "no forecasts in the snapshot; train and promote a demand model"))
        inv = pd.DataFrame([r.model_dump() for r in req.inventory])
        dup = inv[PRODUCT_ID][inv[PRODUCT_ID].duplicated()].unique().tolist()
        if dup:
            raise ForecastingError(f"inventory lists product_id {', '.join(map(repr, dup))} "
                                   f"more than once; send one row per product")
        # every inventory product gets a row, as in the CLI plan: a young product a quantity
        # from its (cold-start) forecast, one never ordered a row with quantity 0 and a note;
        # the whole history goes in, so a young product's peers are the same as in the CLI's
        freq = self.meta.get("forecast", {}).get("freq", DEFAULT_FREQ)
        known = inv[PRODUCT_ID].isin(self._fc_groups).any()
        plan = production_plan(self._history, inv, req.service_level, freq=freq,
                               model=self._plan_model(freq) if known else None)
        rows, errors = _records(plan), {}
        return M.PlanResponse.model_construct(rows=rows, errors=errors)

    def _plan_model(self, freq: str):
        """The champion demand model; without one, a model fitted on the snapshot's history
        at the first plan request and kept until the next snapshot (the snapshot's own
        forecasts were fitted the same way)."""
        if self._demand_model is not None:
            return self._demand_model[0]
        if self._fitted_demand is None:
            spec = self.meta.get("forecast", {})
            log.info("no demand champion: fitting a model on the snapshot's history for plans")
            self._fitted_demand = forecast_history(
                self._history, horizon=int(spec.get("horizon", DEFAULT_HORIZON)), freq=freq,
                levels=tuple(spec.get("levels", DEFAULT_LEVELS)), progress=False).model
        return self._fitted_demand

    def model_info(self) -> M.ModelInfoResponse:
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


