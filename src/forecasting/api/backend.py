"""What the HTTP API answers, without the HTTP: the request handlers over a snapshot.

:mod:`forecasting.api.service` (the one module that imports ``bentoml``) is a thin shell over
:class:`Backend`, so every answer can be tested and benchmarked in-process. The snapshot (a
folder of tables as of one date) is written by :mod:`forecasting.pipelines.snapshot`.

Models come straight from the MLflow registry by alias ``champion`` (not copied into the
BentoML model store): the registry stays the single source of truth, and promoting a model
needs no second import step.

Reloading without a restart: everything one answer needs (the snapshot's tables and the
models) is one :class:`ServingState`, built completely and never changed afterwards.
:meth:`Backend.reload` builds a new one off to the side when the store's ``CURRENT`` snapshot
or a champion alias has moved, then replaces the single ``Backend.state`` reference; a request
reads that reference once at its start and answers from that state only, so no request fails
during a swap and no answer mixes two versions. A snapshot or model that fails to load never
replaces the working one: the failure is logged and counted, and the old state keeps serving.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting import settings, tracking
from forecasting.api import models as M
from forecasting.demand.churn_adjust import ADJUSTED
from forecasting.demand.pipeline import forecast as forecast_history
from forecasting.demand.planning import production_plan
from forecasting.errors import ForecastingError
from forecasting.pipelines import store
from forecasting.schema import CUSTOMER_ID, DS, PRODUCT_ID, UNIQUE_ID, Y
from forecasting.settings import DEFAULT_FREQ, DEFAULT_HORIZON, DEFAULT_LEVELS

log = logging.getLogger(__name__)

MODEL_NAMES = ("churn", "demand")


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


# --- loading ---------------------------------------------------------------------------------
def _read_table(folder: Path, name: str, rows: dict) -> pd.DataFrame:
    """A snapshot table read whole, its row count checked against meta.json when recorded."""
    try:
        df = pd.read_parquet(folder / name)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ForecastingError(f"{folder / name} does not read back ({type(exc).__name__}: "
                               f"{str(exc)[:200]})") from None
    if name in rows and len(df) != rows[name]:
        raise ForecastingError(f"{folder / name} has {len(df)} rows, meta.json recorded "
                               f"{rows[name]}")
    return df


class SnapshotTables:
    """One snapshot's tables, loaded and indexed for lookups (read-only once built)."""

    def __init__(self, folder: Path, snapshot_id: str | None = None) -> None:
        t = time.perf_counter()
        f = self.folder = Path(folder)
        if not (f / "meta.json").exists():
            raise ForecastingError(
                f"no scored snapshot in {f}; run 'forecasting refresh DATA_DIR' (or 'forecasting "
                f"serve --data DATA_DIR', or 'forecasting demo') to build one")
        self.meta = store.read_meta(f)
        self.snapshot_id = snapshot_id or self.meta.get("snapshot_id")
        rows = self.meta.get("rows") or {}
        for name in rows:
            if name not in ("customers.parquet", "churn.parquet", "kpis.parquet",
                            "forecasts.parquet", "history.parquet", "followup.parquet"):
                continue
            if not (f / name).exists():
                raise ForecastingError(f"{f / name} is missing; meta.json lists it")
        self.churn: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        seg = _read_table(f, "customers.parquet", rows)
        seg[CUSTOMER_ID] = seg[CUSTOMER_ID].astype(str)
        for rec in _records(seg):
            self.customers[rec[CUSTOMER_ID]] = rec
        if (f / "churn.parquet").exists():
            churn = _read_table(f, "churn.parquet", rows)
            for rec in _records(churn):
                cid = str(rec[CUSTOMER_ID])
                self.churn[cid] = M.ChurnScore(
                    customer_id=cid, churn_probability=rec.get("churn_probability"),
                    risk_band=rec.get("risk_band"),
                    segment=(self.customers.get(cid) or {}).get("segment"),
                    reasons=[M.Reason(**r) for r in json.loads(rec.get("reasons") or "[]")],
                    model_version=str(rec.get("model_version")),
                ).model_dump()
        # answers by id never change until the next snapshot: serialise them once
        self.churn_json = {cid: json.dumps(item, separators=(",", ":")).encode()
                           for cid, item in self.churn.items()}
        self.kpis = _read_table(f, "kpis.parquet", rows)
        self.forecasts = (_read_table(f, "forecasts.parquet", rows)
                          if (f / "forecasts.parquet").exists() else None)
        self.history = (_read_table(f, "history.parquet", rows)
                        if (f / "history.parquet").exists() else None)
        self.fc_groups: dict[str, pd.DataFrame] = {}
        if self.forecasts is not None:
            self.forecasts[UNIQUE_ID] = self.forecasts[UNIQUE_ID].astype(str)
            self.fc_groups = {k: g for k, g in self.forecasts.groupby(UNIQUE_ID, sort=False)}
        log.info("snapshot %s as of %s loaded: %d customers scored, %d segmented, %s products "
                 "forecast (%.1f s)", self.snapshot_id or f, self.meta.get("as_of"),
                 len(self.churn), len(self.customers),
                 "no" if self.forecasts is None else len(self.fc_groups),
                 time.perf_counter() - t)


def load_model(name: str, version: str):
    """(model, ModelRef) of ``version`` of ``name``; ForecastingError when it cannot be loaded.
    Models predict single-threaded: a worker serves many small requests, where LightGBM's
    thread pool only costs time."""
    ref = tracking.get_version(name, tracking.CHAMPION)
    if ref is None or str(ref.version) != str(version):
        raise ForecastingError(f"the {name} champion moved or cannot be read while loading "
                               f"version {version}; will try again")
    try:
        obj = tracking.load_version(ref)
    except ForecastingError:
        raise
    except Exception as exc:  # MLflow and the model's own unpickling raise many types
        raise ForecastingError(f"{name} version {version} does not load: "
                               f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from None
    if hasattr(obj, "version"):
        obj.version = ref.version
    return obj, ref


# --- answering requests -----------------------------------------------------------------------
class ServingState:
    """Everything an answer needs: one snapshot's tables and the models loaded with them.
    Built completely before it is served and never changed afterwards."""

    def __init__(self, tables: SnapshotTables, models: dict[str, tuple | None]) -> None:
        self.tables = tables
        self.models = dict(models)
        self.folder = tables.folder
        self.snapshot_id = tables.snapshot_id
        self.meta = tables.meta
        self._churn = tables.churn
        self._churn_json = tables.churn_json
        self._customers = tables.customers
        self._kpis = tables.kpis
        self._forecasts = tables.forecasts
        self._history = tables.history
        self._fc_groups = tables.fc_groups
        self._churn_model = self.models.get("churn")
        self._demand_model = self.models.get("demand")
        self._fitted_demand = None  # plans without a champion: fitted once, on first use
        self.ready = True

    def model_versions(self) -> dict[str, str | None]:
        return {name: (str(m[1].version) if m else None) for name, m in self.models.items()}

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
                           "as_of": self.meta.get("as_of")}, separators=(",", ":"))
        return b'{"items":[' + b",".join(parts) + b"]," + tail[1:].encode()

    def _score_rows(self, rows: list[dict]) -> M.ChurnScoreResponse:
        items = self.score_row_batches([rows])[0]
        return M.ChurnScoreResponse(items=items, model_version=items[0]["model_version"]
                                    if items else None, as_of=self.meta.get("as_of"))

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
        return M.SegmentsResponse.model_construct(
            rows=rows, errors=errors, as_of=self.meta.get("as_of"),
            model_version=self.meta.get("churn_model_version"))

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
        return M.KpisResponse.model_construct(rows=_records(k), as_of=self.meta.get("as_of"))

    def forecast(self, req: M.ForecastRequest) -> M.ForecastResponse:
        levels = sorted(set(req.levels))
        if req.history is not None:  # the user's own series: chosen and fitted on them
            hist = history_frame([h.model_dump() for h in req.history])
            fc = forecast_history(hist, horizon=req.horizon, freq=req.freq, levels=levels,
                          progress=False).table
            return M.ForecastResponse.model_construct(
                points=self._points(fc, levels), errors={}, model_version="fitted on request",
                as_of=self.meta.get("as_of"))
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
            model_version=self.meta.get("demand_model_version"), as_of=self.meta.get("as_of"))

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
        return M.PlanResponse.model_construct(
            rows=_records(plan), errors={}, as_of=self.meta.get("as_of"),
            model_version=None if self._demand_model is None
            else str(self._demand_model[1].version))

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
        return M.ModelInfoResponse(models=models, snapshot_as_of=self.meta.get("as_of"),
                                   snapshot_id=self.snapshot_id)


class Backend:
    """The served :class:`ServingState` and how it is replaced.

    ``folder`` (or ``FORECASTING_SNAPSHOT_DIR``) is a fixed snapshot served as is; without it
    the store at ``root`` (``FORECASTING_SNAPSHOT_ROOT``) is followed: whatever its ``CURRENT``
    names. Champion models are followed in both cases. :meth:`reload` swaps in a new state only
    when the snapshot id or a champion version changed and the new part loaded; ``on_event``
    (``kind``, ``part``) is told of every ``"reload"`` and ``"failure"`` (the service counts
    them in /metrics). With ``require`` a start without anything to serve is an error;
    without it the backend starts not ready and becomes ready once a snapshot appears."""

    def __init__(self, folder: str | Path | None = None, root: str | Path | None = None,
                 require: bool = True,
                 on_event: Callable[[str, str], None] | None = None) -> None:
        s = settings.current()
        self.fixed = Path(folder) if folder else s.snapshot_dir
        self.root = Path(root) if root else s.snapshot_root
        self.on_event = on_event
        self.state: ServingState | None = None
        self.problem: str | None = None
        self.last_errors: list[str] = []
        self._lock = threading.Lock()
        self._seen: set[str] = set()  # failure messages already logged at ERROR
        self._refused: set[str] = set()  # snapshots that failed to load (logged once)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()
        if self.state is None and require:
            raise ForecastingError(self.problem or "nothing to serve")

    @property
    def ready(self) -> bool:
        return self.state is not None

    @property
    def meta(self) -> dict:
        state = self.state
        return state.meta if state is not None else {}

    @property
    def folder(self) -> Path | None:
        state = self.state
        return state.folder if state is not None else self.fixed

    # reloading ----------------------------------------------------------------------------
    def _event(self, kind: str, part: str) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, part)
            except Exception:  # counting must never break serving
                log.exception("could not record a %s of %s", kind, part)

    def _fail(self, part: str, message: str, errors: list[str]) -> None:
        errors.append(message)
        self._event("failure", part)
        if message in self._seen:  # the same failure at every poll: one ERROR line is enough
            log.debug("reload of %s still failing: %s", part, message)
        else:
            self._seen.add(message)
            log.error("reload of %s failed, the current state keeps serving: %s", part, message)

    def _wanted_snapshot(self, old: ServingState | None, errors: list[str]
                         ) -> tuple[Path, str | None] | None:
        """(folder, id) of a snapshot to load, or None when the served one is still current."""
        if self.fixed is not None:
            return (self.fixed, None) if old is None else None
        try:
            sid = store.current_id(self.root)
        except (ForecastingError, OSError) as exc:
            self._fail("snapshot", f"{self.root / store.CURRENT}: {exc}", errors)
            return None
        if sid is None:
            if old is None:
                self.problem = (f"no current snapshot in {self.root} yet: run 'forecasting "
                                f"refresh DATA_DIR' (the service picks it up by itself)")
            return None
        if old is not None and old.snapshot_id == sid:
            return None
        return self.root / sid, sid

    def reload(self) -> M.ReloadResponse:
        """Load what changed (a new CURRENT snapshot, a moved champion alias) and swap it in
        atomically; anything that fails to load is logged and counted, and never replaces the
        working part. Safe to call from several threads (one reload runs at a time)."""
        with self._lock:
            t = time.perf_counter()
            old = self.state
            errors: list[str] = []
            tables = old.tables if old is not None else None
            models: dict[str, tuple | None] = (dict(old.models) if old is not None
                                               else {n: None for n in MODEL_NAMES})
            changed: list[str] = []
            wanted = self._wanted_snapshot(old, errors)
            if wanted is not None:
                folder, sid = wanted
                log.log(logging.DEBUG if str(folder) in self._refused else logging.INFO,
                        "loading snapshot %s", sid or folder)
                try:
                    tables = SnapshotTables(folder, sid)
                    changed.append("snapshot")
                except Exception as exc:  # a damaged snapshot must never stop serving
                    self._refused.add(str(folder))
                    msg = str(exc) if isinstance(exc, ForecastingError) else \
                        f"{type(exc).__name__}: {exc}"
                    self._fail("snapshot", f"snapshot {sid or folder} refused: {msg}", errors)
            for name in MODEL_NAMES:
                have = models[name][1].version if models[name] else None
                try:
                    version = tracking.alias_version(name, tracking.CHAMPION)
                except ForecastingError as exc:
                    self._fail(name, f"{name} champion not checked: {exc}; the loaded "
                               f"{'version ' + str(have) if have else 'state'} keeps serving",
                               errors)
                    continue
                if version is None or str(version) == str(have):
                    if version is None and have is not None:
                        log.warning("the registry has no %s champion now; version %s keeps "
                                    "serving", name, have)
                    continue
                try:
                    models[name] = load_model(name, version)
                    changed.append(f"{name} v{version}")
                except ForecastingError as exc:
                    self._fail(name, str(exc), errors)
            if tables is not None and changed:
                self.state = ServingState(tables, models)  # the one reference a request reads
                self.problem = None
                for part in changed:
                    self._event("reload", part.split()[0])
                log.info("now serving snapshot %s (as of %s), models %s: reloaded %s in %.2f s",
                         self.state.snapshot_id or self.state.folder,
                         self.state.meta.get("as_of"), self.state.model_versions(),
                         ", ".join(changed), time.perf_counter() - t)
            elif tables is None and errors:
                self.problem = "; ".join(errors)
            self.last_errors = errors
            state = self.state
            return M.ReloadResponse(
                reloaded=changed if state is not None and state is not old else [],
                snapshot_id=state.snapshot_id if state else None,
                as_of=state.meta.get("as_of") if state else None,
                models=state.model_versions() if state else {},
                errors=errors, seconds=round(time.perf_counter() - t, 3))

    def start_polling(self, seconds: float) -> None:
        """Call :meth:`reload` every ``seconds`` in a daemon thread (until :meth:`stop`)."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    self.reload()
                except Exception:  # a bug here must not end the polling
                    log.exception("reload check failed")

        self._thread = threading.Thread(target=loop, name="forecasting-reload", daemon=True)
        self._thread.start()
        log.info("looking for a new snapshot or champion every %g s", seconds)

    def stop(self) -> None:
        self._stop.set()

    # endpoints: each reads self.state once and answers from that state alone ---------------
    def _current(self) -> ServingState:
        state = self.state
        if state is None:
            raise ForecastingError(self.problem or "no snapshot loaded yet")
        return state

    def churn_score(self, req: M.ChurnScoreRequest) -> M.ChurnScoreResponse:
        return self._current().churn_score(req)

    def churn_score_json(self, customer_ids: list[str]) -> bytes:
        return self._current().churn_score_json(customer_ids)

    def score_row_batches(self, batches: list[list[dict]]) -> list[list[dict]]:
        return self._current().score_row_batches(batches)

    def score_row_batches_as_of(self, batches: list[list[dict]]
                                ) -> list[tuple[list[dict], str | None]]:
        """:meth:`score_row_batches` with the as-of date of the one state that scored them."""
        state = self._current()
        return [(items, state.meta.get("as_of")) for items in state.score_row_batches(batches)]

    def segments(self, req: M.SegmentsRequest) -> M.SegmentsResponse:
        return self._current().segments(req)

    def kpis(self, req: M.KpisRequest) -> M.KpisResponse:
        return self._current().kpis(req)

    def forecast(self, req: M.ForecastRequest) -> M.ForecastResponse:
        return self._current().forecast(req)

    def plan(self, req: M.PlanRequest) -> M.PlanResponse:
        return self._current().plan(req)

    def model_info(self) -> M.ModelInfoResponse:
        return self._current().model_info()


def history_frame(history: list[dict]) -> pd.DataFrame:
    """Request history rows as a long series table."""
    df = pd.DataFrame(history, columns=[UNIQUE_ID, DS, Y])
    df[DS] = pd.to_datetime(df[DS])
    return df


