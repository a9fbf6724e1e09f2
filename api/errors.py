"""One error body for everything: {"error": {"code", "message", "details"}}.

Services raise `AppError` subclasses; this module maps them (and framework errors) to HTTP.
Messages are Vietnamese for the people at the desk; codes are English for the programs.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("api.errors")


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    message = "Yêu cầu không hợp lệ"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    message = "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ"

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message, code=code, details=details, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Không tìm thấy"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "Xung đột với trạng thái hiện tại"


class PreconditionFailed(AppError):
    status_code = 412
    code = "version_mismatch"
    message = "Hồ sơ đã được người khác thay đổi; hãy tải lại rồi thử lại"


class PreconditionRequired(AppError):
    status_code = 428
    code = "if_match_required"
    message = "Thiếu tiêu đề If-Match (phiên bản hồ sơ)"


class Invalid(AppError):
    status_code = 422
    code = "validation_error"
    message = "Dữ liệu không hợp lệ"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_attempts"
    message = "Thử quá nhiều lần; vui lòng đợi rồi thử lại"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "Dữ liệu gửi lên vượt quá giới hạn cho phép"


class ErrorDetail(BaseModel):
    code: str = Field(description="English, stable: what programs branch on")
    message: str = Field(description="Vietnamese, for the person at the desk")
    details: Any = Field(default=None, description="e.g. [{field, type, message}] or {allowed_actions}")


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description} for status, description in (
        (401, "Chưa đăng nhập / mã truy cập không hợp lệ"), (403, "Không có quyền"), (404, "Không tìm thấy"),
        (409, "Xung đột trạng thái"), (413, "Dữ liệu quá lớn"), (422, "Dữ liệu không hợp lệ"),
        (500, "Lỗi hệ thống"))
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


_HTTP_CODES = {
    400: ("bad_request", "Yêu cầu không hợp lệ"),
    401: ("not_authenticated", "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ"),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này"),
    404: ("not_found", "Không tìm thấy"),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ"),
    413: ("payload_too_large", "Dữ liệu gửi lên vượt quá giới hạn cho phép"),
    415: ("unsupported_media_type", "Định dạng dữ liệu không được hỗ trợ"),
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            kind = err.get("type", "")
            details.append({"field": _field(err.get("loc", ())), "type": kind, "message": err.get("msg", "")})
        malformed = any(d["type"] == "json_invalid" for d in details)
        code = "malformed_json" if malformed else "validation_error"
        message = "Nội dung JSON không đúng cú pháp" if malformed else "Dữ liệu không hợp lệ: " + ", ".join(
            sorted({d["field"] for d in details}))
        return JSONResponse(error_body(code, message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "Lỗi yêu cầu"))
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the log (without request data); the client gets no internals.
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(error_body("internal_error", "Lỗi hệ thống, vui lòng thử lại sau"), status_code=500)
