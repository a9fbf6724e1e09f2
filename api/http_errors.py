"""HTTP rendering of the error catalogue: the app's exception handlers. Beside the app, not in the kit below the
services (api/errors.py holds the catalogue and the domain errors and imports no web framework), so a service can
raise a domain error without depending on FastAPI; the import contracts in pyproject.toml keep it that way."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import (
    CATALOGUE,
    DESCRIPTIONS,
    AppError,
    Code,
    ErrorBody,
    catalogue_body,
    database_down,
    error_body,
    timed_out,
    validation_details,
    validation_summary,
)

log = logging.getLogger("api.errors")

_HTTP_CODES = {
    400: Code.bad_request,
    401: Code.not_authenticated,
    403: Code.forbidden,
    404: Code.not_found,
    405: Code.method_not_allowed,
    413: Code.payload_too_large,
    415: Code.unsupported_media_type,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Each problem by its field path (no "body." prefix) with a Vietnamese message and pydantic's English.
        details = validation_details(exc.errors())
        malformed = any(d["type"] == "json_invalid" for d in details)
        code = Code.malformed_json if malformed else Code.validation_error
        return JSONResponse(error_body(code.value, validation_summary(code, details), details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, Code.http_error)
        return JSONResponse(catalogue_body(code), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if timed_out(exc):
            log.warning("statement timeout")
            return JSONResponse(catalogue_body(Code.query_timeout), status_code=503, headers={"Retry-After": "5"})
        if database_down(exc):
            log.warning("database unavailable: %s", type(exc).__name__)
            return JSONResponse(
                catalogue_body(Code.database_unavailable), status_code=503, headers={"Retry-After": "5"}
            )
        # The trace goes to the log (without request data); the client gets no internals.
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(catalogue_body(Code.internal_error), status_code=500)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses with the common body (`errors.ErrorBody`); each description lists the catalogue's codes
    of that status. HTTP documentation, so it lives here beside the handlers, not in the framework-free catalogue."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        codes = ", ".join(f"`{c.value}`" for c, (s, _) in CATALOGUE.items() if s == status)
        out[status] = {"model": ErrorBody, "description": f"{DESCRIPTIONS[status]}. Codes: {codes}"}
    return out


ERROR_RESPONSES = responses(401, 403, 404, 413, 422, 500)
