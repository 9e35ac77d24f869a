"""What stands in front of every API endpoint: the API key, the media type, quiet 4xx logs.

Pure ASGI and ``logging`` only, so it is testable without a server and reusable by any
framework. :mod:`forecasting.api.service` installs it on the BentoML service.
"""

from __future__ import annotations

import hmac
import json
import logging

from forecasting import settings

log = logging.getLogger(__name__)

# endpoints that answer without a key: health and the API description
OPEN_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics", "/docs.json",
                        "/schema.json", "/"})
OPEN_PREFIXES = ("/static_content", "/assets", "/ui/static")  # the page's own files: public


def _json_error(status: int, message: str, **extra) -> tuple[dict, list, bytes]:
    body = json.dumps({"error": message, **extra}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    return start, [], body


class ApiGuard:
    """ASGI middleware.

    * With ``FORECASTING_API_KEY`` set, every path but the open ones needs the key in
      ``X-API-Key`` or ``Authorization: Bearer <key>``, else 401.
    * A POST body must be JSON: any other declared media type is a 415 with a message
      (the framework would otherwise fail on it with a 500).
    """

    def __init__(self, app, api_key: str | None = None):
        self.app = app
        self.api_key = api_key if api_key is not None else settings.current().api_key

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        if not self.api_key:
            return True
        given = headers.get(b"x-api-key", b"").decode("latin-1").strip()
        auth = headers.get(b"authorization", b"").decode("latin-1").strip()
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return bool(given) and hmac.compare_digest(given.encode(), self.api_key.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        is_open = path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
        if not is_open and not self._authorised(headers):
            log.info("401 %s %s: missing or wrong API key", scope.get("method"), path)
            return await self._send(send, 401, "missing or wrong API key: send it as "
                                    "'X-API-Key: <key>' or 'Authorization: Bearer <key>'")
        if scope.get("method") == "POST" and not is_open:
            ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
            if ctype and ctype.lower() != "application/json":
                log.info("415 %s %s: content-type %s", scope.get("method"), path, ctype)
                return await self._send(send, 415, f"unsupported media type '{ctype}': send "
                                        "a JSON body with 'Content-Type: application/json'")
        return await self.app(scope, receive, send)

    @staticmethod
    async def _send(send, status: int, message: str) -> None:
        start, _, body = _json_error(status, message)
        await send(start)
        await send({"type": "http.response.body", "body": body})


class QuietClientErrors(logging.Filter):
    """Turns the framework's ERROR-with-traceback log of a request validation failure into
    one INFO line with the field-level summary (a bad request is not a server error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        status = _client_status(exc)
        if status is None:
            return True
        try:
            where = record.getMessage().replace("Exception on ", "")
        except Exception:  # never let logging break a response
            where = str(record.msg)
        summary = str(exc).replace("\n", " | ")[:500]
        record.msg = "%s %s: %s"
        record.args = (status, where, summary)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text = None, None
        return True


def _client_status(exc: BaseException) -> int | None:
    try:
        # optional: the guard works without pydantic
        from pydantic import ValidationError
    except ImportError:  # pragma: no cover
        ValidationError = ()  # type: ignore[assignment]
    if isinstance(exc, ValidationError):
        return 400
    code = getattr(getattr(exc, "error_code", None), "value", None)
    if isinstance(code, int) and 400 <= code < 500:
        return code
    return None


def install_log_filter(logger_names: tuple[str, ...] = (
        "bentoml._internal.server.http_app", "bentoml")) -> None:
    """Attach :class:`QuietClientErrors` once to the loggers the framework reports with."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
            logger.addFilter(QuietClientErrors())
