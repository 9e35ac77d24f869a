"""The web page for planners, account managers and managers: a small Starlette app.

:mod:`forecasting.api.service` mounts it at ``/`` on the BentoML service, so it shares the
port, the API key (:class:`forecasting.api.guard.ApiGuard` guards every path but ``/`` and
the static files under ``/ui/static``) and the served snapshot. The page itself is static
HTML, CSS and plain JavaScript modules (``static/``, no build step, nothing from a CDN); it
calls the API's endpoints where they fit and the read-only ``/ui/api/...`` endpoints below
for the lists the API does not answer (see :mod:`forecasting.api.pagedata`):

| Path | Answer |
|---|---|
| ``GET /ui/api/session`` | snapshot date, notes, model versions, filter values |
| ``GET /ui/api/customers?segment=&risk_band=&<attribute>=&q=&limit=&offset=`` | customers ranked by value at risk |
| ``GET /ui/api/customers/{id}`` | one customer: scores, reasons, orders, complaints, surveys, score history, follow-up |
| ``GET /ui/api/products`` | products with demand history |
| ``GET /ui/api/products/{id}/history`` | a product's demand history |
| ``GET /ui/api/segments`` | segment sizes and revenue share |
| ``GET /ui/api/monitor`` | the newest monitoring report, or ``{"report": null}`` |
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from forecasting import settings
from forecasting.api.pagedata import NotFound, PageData, monitor_report, page_data
from forecasting.errors import ForecastingError

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
API = "/ui/api"
STATIC_PREFIX = "/ui/static"


def _data(request: Request) -> PageData:
    backend = request.app.state.backend_of()
    if backend is None or not getattr(backend, "ready", False):
        raise _Unavailable("the service is still loading its snapshot, or has none; see /readyz")
    return page_data(backend.folder, backend.meta)


class _Unavailable(Exception):
    pass


def _guarded(fn: Callable[[Request], object]) -> Callable:
    """JSON answers; a clear 4xx/503 message instead of a traceback."""
    def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(fn(request))
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except _Unavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        except ForecastingError as exc:
            log.info("400 %s: %s", request.url.path, exc)
            return JSONResponse({"error": str(exc)}, status_code=400)
    endpoint.__name__ = fn.__name__
    return endpoint


@_guarded
def session(request: Request):
    return _data(request).session()


@_guarded
def customers(request: Request):
    return _data(request).customers(dict(request.query_params))


@_guarded
def customer(request: Request):
    return _data(request).customer(request.path_params["customer_id"])


@_guarded
def products(request: Request):
    return {"rows": _data(request).product_list()}


@_guarded
def product_history(request: Request):
    return _data(request).product_history(request.path_params["product_id"])


@_guarded
def segment_summary(request: Request):
    return {"rows": _data(request).segment_summary()}


@_guarded
def monitor(request: Request):
    return monitor_report() or {"report": None}


@lru_cache(maxsize=1)
def _index_html() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def index(request: Request) -> HTMLResponse:
    """The page; it says whether the service wants a key (not the key), so the page asks
    for one before calling anything."""
    required = "true" if settings.current().api_key else "false"
    return HTMLResponse(_index_html().replace("{{KEY_REQUIRED}}", required),
                        headers={"Cache-Control": "no-cache"})


def warm(backend) -> None:
    """Read the page's tables of ``backend``'s snapshot now (at start-up), so the first
    visitor does not wait for them; a problem is logged, the API keeps serving."""
    try:
        page_data(backend.folder, backend.meta)
    except Exception as exc:  # the page then answers 5xx with the reason, the API is unaffected
        log.error("web page tables of %s not loaded: %s", backend.folder, exc)


def create_app(backend_of: Callable[[], object] = lambda: None) -> Starlette:
    """The page's ASGI app; ``backend_of()`` returns the service's current Backend (or None
    while it is not loaded), read on every request so a reloaded snapshot shows at once."""
    app = Starlette(routes=[
        Route("/", index, methods=["GET"]),
        Route(f"{API}/session", session, methods=["GET"]),
        Route(f"{API}/customers", customers, methods=["GET"]),
        Route(f"{API}/customers/{{customer_id:path}}", customer, methods=["GET"]),
        Route(f"{API}/products", products, methods=["GET"]),
        Route(f"{API}/products/{{product_id:path}}/history", product_history, methods=["GET"]),
        Route(f"{API}/segments", segment_summary, methods=["GET"]),
        Route(f"{API}/monitor", monitor, methods=["GET"]),
        Mount(STATIC_PREFIX, app=StaticFiles(directory=STATIC), name="ui-static"),
    ])
    app.state.backend_of = backend_of
    return app
