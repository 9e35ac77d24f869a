"""The HTTP API: a BentoML 1.4 service, the one module that imports ``bentoml``.

Every endpoint is a few lines over :class:`forecasting.api.backend.Backend`, which loads the
scored snapshot and the champion models from the MLflow registry once per worker. Request
bodies are the pydantic models of :mod:`forecasting.api.models` (flat JSON, every field
validated: bad input is a 400 with field-level messages); a request that is well-formed but
cannot be answered (no such period, no model yet) is a 422 with a message; ids that are not
known are reported per item without failing the batch. With ``FORECASTING_API_KEY`` set,
every endpoint but /livez, /readyz, /metrics and the API description needs the key.

Run it with ``forecasting serve`` (or ``bentoml serve forecasting.api.service:ForecastingService``).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import bentoml
from starlette.responses import JSONResponse, Response

from forecasting import settings
from forecasting.api import models as M
from forecasting.api.backend import Backend
from forecasting.api.batcher import RowBatcher
from forecasting.api.guard import ApiGuard, install_log_filter
from forecasting.api.page import create_app as create_page, warm as warm_page
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.api.service")


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
        self.backend = None
        self.problem = None
        try:
            self.backend = Backend()
            self.batcher = RowBatcher(self.backend.score_row_batches)
            warm_page(self.backend)
        except ForecastingError as exc:  # keep running: /readyz says why it is not ready
            self.problem = str(exc)
            log.error("not ready: %s", exc)
        PAGE.state.backend_of = lambda: self.backend

    def __is_ready__(self) -> bool:
        return self.backend is not None and self.backend.ready

    def _call(self, method: str, *args):
        if self.backend is None:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, self.problem or "still loading")
        return _answer(getattr(self.backend, method), *args)

    @bentoml.api(route="/churn/score", input_spec=M.ChurnScoreRequest)
    async def churn_score(self, **fields) -> M.ChurnScoreResponse:
        """Churn probability, risk band, segment, top reasons and model version for 1 to
        10,000 customers: by ``customer_ids`` (latest scored snapshot) or by feature ``rows``
        (scored now by the champion model). Unknown ids get an ``error`` on their item."""
        req = M.ChurnScoreRequest.model_construct(**fields)
        if req.rows is None:  # lookups of pre-serialised answers: on the event loop, no thread
            body = self._call("churn_score_json", req.customer_ids)
            return body if isinstance(body, Response) else Response(
                body, media_type="application/json")
        if self.backend is None:
            return self._call("churn_score", req)
        try:  # feature rows: scored by the model, batched with concurrent requests
            items = await self.batcher.submit(req.rows)
        except ForecastingError as exc:
            return _error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
        version = items[0]["model_version"] if items else None
        return M.ChurnScoreResponse(items=items, model_version=version)

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


ForecastingService.add_asgi_middleware(ApiGuard)
