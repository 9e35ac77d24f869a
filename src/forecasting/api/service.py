"""The HTTP API: a BentoML 1.4 service, the one module that imports ``bentoml``.

Every endpoint is a few lines over :class:`forecasting.api.backend.Backend`, which loads the
scored snapshot and the champion models from the MLflow registry once per worker. Request
bodies are the pydantic models of :mod:`forecasting.api.models` (flat JSON, every field
validated: bad input is a 400 with field-level messages); a request that is well-formed but
cannot be answered (no such period, no model yet) is a 422 with a message; ids that are not
known are reported per item without failing the batch. With ``FORECASTING_API_KEY`` set,
every endpoint but /livez, /readyz, /metrics and the API description needs the key.

Each worker follows the snapshot store and the champion aliases by itself: every
``FORECASTING_RELOAD_SECONDS`` (default 30) and on ``POST /admin/reload`` it loads what changed
off to the side and swaps it in at once (see :class:`forecasting.api.backend.Backend`); with
several workers, ``/admin/reload`` reaches one of them and the others follow at their next
poll. /metrics counts the swaps (``forecasting_reloads_total{part}``) and the loads that failed
and were refused (``forecasting_reload_failures_total{part}``).

Run it with ``forecasting serve`` (or ``bentoml serve forecasting.api.service:ForecastingService``).
"""

from __future__ import annotations

import functools
import logging
import threading
from http import HTTPStatus

import bentoml
from prometheus_client import Gauge
from starlette.responses import JSONResponse, Response

from forecasting import settings
from forecasting.api import models as M
from forecasting.api.backend import Backend
from forecasting.api.batcher import RowBatcher
from forecasting.api.guard import ApiGuard, install_log_filter
from forecasting.api.page import create_app as create_page, warm as warm_page
from forecasting.errors import ForecastingError
from forecasting.monitoring.store import latest_report_path, read_gauges

log = logging.getLogger("forecasting.api.service")

MONITOR_POLL_SECONDS = 30.0  # how often a worker re-reads the monitor's latest.json

# prometheus_client directly, as BentoML 1.4 asks (bentoml.metrics is deprecated); BentoML's
# /metrics collects it across worker processes (multiprocess mode: the latest value wins)
MONITOR_GAUGE = Gauge(
    name="forecasting_monitor",
    documentation="latest 'forecasting monitor' figures: psi_score, psi_<feature>, "
                  "realised_roc_auc, realised_brier, realised_lift_top_decile, demand_realised_*",
    labelnames=["metric"],
    multiprocess_mode="mostrecent",
)


class MonitorGauges:
    """Publishes ``<store>/monitor/latest.json`` on /metrics; re-read when the file changes
    (checked every ``MONITOR_POLL_SECONDS`` by a daemon thread)."""

    def __init__(self, interval: float = MONITOR_POLL_SECONDS):
        self.path = latest_report_path()
        self.mtime: float | None = None
        self.published: set[str] = set()
        self.interval = interval
        self.update()
        threading.Thread(target=self._poll, name="monitor-gauges", daemon=True).start()

    def update(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return
        if mtime == self.mtime:
            return
        gauges, snapshot = read_gauges(self.path)
        for name in self.published - set(gauges):
            MONITOR_GAUGE.labels(metric=name).set(float("nan"))
        for name, value in gauges.items():
            MONITOR_GAUGE.labels(metric=name).set(value)
        self.published, self.mtime = set(gauges), mtime
        log.info("published %d monitor figure(s) of %s on /metrics", len(gauges), snapshot)

    def _poll(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.interval):
            try:
                self.update()
            except Exception:  # never let a bad file stop the thread
                log.exception("could not read the monitor report %s", self.path)


def _error(status: HTTPStatus, message: str) -> JSONResponse:
    log.info("%d: %s", status.value, message.splitlines()[0])
    return JSONResponse({"error": message}, status_code=status.value)


def _answer(fn, *args):
    """The handler's answer, or a 422 naming what is missing when a valid request cannot be
    answered (no model yet, no data for that period)."""
    try:
        return fn(*args)
    except ForecastingError as exc:
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))


def _log_to_stderr() -> None:
    """The package's INFO messages (what was loaded, what a reload swapped or refused) in the
    server's log: BentoML configures only its own loggers."""
    logger = logging.getLogger("forecasting")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(
            "%(asctime)s [%(levelname)s] [%(name)s] %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # a registry that cannot be reached is reported by the reload in one line, not by
    # MLflow's traceback at every poll
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)


@functools.cache
def _counters():
    """The reload counters, created once per worker process. Imported here, not at module
    level: BentoML sets PROMETHEUS_MULTIPROC_DIR in each worker after importing this module,
    and prometheus_client must see it to write where /metrics reads (bentoml.metrics, a
    deprecated alias of prometheus_client since 1.4, documents the same)."""
    # deferred: must run after the worker has set PROMETHEUS_MULTIPROC_DIR (see docstring)
    import prometheus_client

    return {
        "reload": prometheus_client.Counter(
            "forecasting_reloads", "snapshot or model versions swapped in without a restart",
            ["part"]),
        "failure": prometheus_client.Counter(
            "forecasting_reload_failures", "snapshots or models that failed to load and were "
            "refused (the previous state kept serving)", ["part"]),
    }


def _count(kind: str, part: str) -> None:
    _counters()[kind].labels(part=part).inc()


# the web page at / (same port, same API key); each worker's service instance plugs its
# backend in, read per request so a reloaded snapshot shows at once
PAGE = create_page()


@bentoml.asgi_app(PAGE, path="/", name="page")
@bentoml.service(name="forecasting", traffic={"timeout": 60},
                 workers=settings.current().api_workers, threads=4,
                 logging={"access": {"enabled": False}})
class ForecastingService:
    """Churn scores, demand forecasts, production plans, segments, KPIs and model info."""

    def __init__(self) -> None:
        install_log_filter()
        _log_to_stderr()
        self.backend = None
        self.problem = None
        self.monitor = MonitorGauges()
        try:
            _counters()
            self.backend = Backend(require=False, on_event=_count)
            self.batcher = RowBatcher(self.backend.score_row_batches_as_of)
            if not self.backend.ready:  # keep running: /readyz says why it is not ready
                log.error("not ready: %s", self.backend.problem)
            self.backend.start_polling(settings.current().reload_seconds)
            warm_page(self.backend)
        except ForecastingError as exc:  # keep running: /readyz says why it is not ready
            self.problem = str(exc)
            log.error("not ready: %s", exc)
        PAGE.state.backend_of = lambda: self.backend

    def __is_ready__(self) -> bool:
        return self.backend is not None and self.backend.ready

    def _call(self, method: str, *args):
        """``method`` of the served state, read once: the whole answer comes from one
        snapshot and one set of models even while a reload swaps them."""
        state = None if self.backend is None else self.backend.state
        if state is None:
            problem = self.problem or (self.backend.problem if self.backend else None)
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, problem or "still loading")
        return _answer(getattr(state, method), *args)

    @bentoml.api(route="/churn/score", input_spec=M.ChurnScoreRequest)
    async def churn_score(self, **fields) -> M.ChurnScoreResponse:
        """Churn probability, risk band, segment, top reasons and model version for 1 to
        10,000 customers: by ``customer_ids`` (latest scored snapshot) or by feature ``rows``
        (scored now by the champion model). Unknown ids get an ``error`` on their item."""
        req = M.ChurnScoreRequest.model_construct(**fields)
        if self.backend is None or self.backend.state is None:
            return self._call("churn_score", req)
        if req.rows is None:  # lookups of pre-serialised answers: on the event loop, no thread
            body = self._call("churn_score_json", req.customer_ids)
            return body if isinstance(body, Response) else Response(
                body, media_type="application/json")
        try:  # feature rows: scored by the model, batched with concurrent requests
            items, as_of = await self.batcher.submit(req.rows)
        except ForecastingError as exc:
            return _error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
        version = items[0]["model_version"] if items else None
        return M.ChurnScoreResponse(items=items, model_version=version, as_of=as_of)

    @bentoml.api(route="/demand/forecast", input_spec=M.ForecastRequest)
    def demand_forecast(self, **fields) -> M.ForecastResponse:
        """Demand forecasts with prediction intervals per product: by ``product_ids`` (latest
        forecasts) or from a ``history`` of (unique_id, ds, y) rows sent in the request."""
        return self._call("forecast", M.ForecastRequest.model_construct(**fields))

    @bentoml.api(route="/production/plan", input_spec=M.PlanRequest)
    def production_plan(self, **fields) -> M.PlanResponse:
        """Safety stock and quantity to make per product for the inventory rows sent and a
        service level, from the latest demand forecasts."""
        return self._call("plan", M.PlanRequest.model_construct(**fields))

    @bentoml.api(route="/customers/segments", input_spec=M.SegmentsRequest)
    def customer_segments(self, **fields) -> M.SegmentsResponse:
        """RFM scores, segment, lifecycle stage and value for the given customers."""
        return self._call("segments", M.SegmentsRequest.model_construct(**fields))

    @bentoml.api(route="/customers/kpis", input_spec=M.KpisRequest)
    def customer_kpis(self, **fields) -> M.KpisResponse:
        """The managers' KPIs per month: overall, per segment or per customer."""
        return self._call("kpis", M.KpisRequest.model_construct(**fields))

    @bentoml.api(route="/models/info")
    def model_info(self) -> M.ModelInfoResponse:
        """Champion versions, when they were trained and their holdout/backtest metrics."""
        return self._call("model_info")

    @bentoml.api(route="/admin/reload")
    def admin_reload(self) -> M.ReloadResponse:
        """Load a new current snapshot or champion model now (the service also looks every
        FORECASTING_RELOAD_SECONDS). Swaps only what changed and loaded; what failed is
        listed in ``errors`` and the working state keeps serving."""
        if self.backend is None:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, self.problem or "still loading")
        return self.backend.reload()


ForecastingService.add_asgi_middleware(ApiGuard)
