"""What every dashboard route shares: the signed-in officer from the session cookie, the CSRF pair, the query
string read by hand (a bad `unit_id`, date or cursor is a Vietnamese page, never FastAPI's JSON 422), links with
their filters, and the error page (status, a sentence, a way back, a sign-out)."""

import hmac
import secrets
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.dashboard import render
from api.db import driver
from api.deps import officer_for_token
from api.errors import Code, DomainError
from workflows.cases import Role

SESSION, CSRF = "tiepdan_session", "tiepdan_csrf"
MAX_ID = 2**31 - 1


class NotSignedIn(Exception):
    """No session cookie (`expired` False) or one that no longer signs in (`expired` True)."""

    def __init__(self, expired: bool) -> None:
        super().__init__()
        self.expired = expired


class BadParam(Exception):
    """A query or path value that is not one the page takes: the page says which, in Vietnamese."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def csrf_token(request: Request) -> str:
    return request.cookies.get(CSRF) or secrets.token_urlsafe(24)


def set_csrf(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(CSRF, token, httponly=True, samesite="strict", secure=secure, path="/dashboard")


def check_csrf(request: Request, sent: str) -> None:
    cookie = request.cookies.get(CSRF, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise DomainError(Code.forbidden, details={"reason": "csrf"})


async def officer(request: Request, session: AsyncSession) -> Officer:
    token = request.cookies.get(SESSION)
    if not token:
        raise NotSignedIn(expired=False)
    loaded = await officer_for_token(request.app.state.settings, await driver(session), token)
    if loaded is None:
        raise NotSignedIn(expired=True)
    return loaded[0]


def to_sign_in(exc: NotSignedIn) -> Response:
    """Back to the sign-in form; after an expired or ended session, saying so (and the stale cookie dropped)."""
    response = RedirectResponse("/dashboard/login?expired=1" if exc.expired else "/dashboard/login", status_code=303)
    if exc.expired:
        response.delete_cookie(SESSION, path="/dashboard")
    return response


def error_page(
    request: Request, status: int, message: str, who: Officer | None = None, *, back: str = "/dashboard"
) -> HTMLResponse:
    """Every error page of the dashboard (templates/error.html): the status, a short Vietnamese sentence, a link
    back and, for a signed-in officer, the sign-out button."""
    csrf = csrf_token(request)
    response = render.page("error.html", status, officer=who, csrf=csrf, message=message, back=back, code=status)
    set_csrf(response, csrf, request.app.state.settings.production)
    return response


def may_see_dashboard(who: Officer) -> bool:
    return who.has(Role.inspector, Role.unit_head)


FORBIDDEN = "Trang này dành cho Thanh tra tỉnh và thủ trưởng đơn vị (chủ tịch Ủy ban nhân dân)."


def int_param(request: Request, name: str, label: str) -> int | None:
    """A positive id from the query string, or None when absent; otherwise BadParam naming the field."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise BadParam(f"{label} không hợp lệ: “{raw[:40]}” không phải là một mã số.", 404)
    return int(raw)


def date_param(request: Request, name: str, label: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParam(f"{label} không hợp lệ: “{raw[:40]}” (cần dạng năm-tháng-ngày, ví dụ 2026-12-06).") from None


def choice_param(request: Request, name: str, allowed: dict[str, str], label: str) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise BadParam(f"{label} không hợp lệ: “{raw[:40]}”.")
    return raw


def flag_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("0", "1"):
        raise BadParam(f"Tham số “{name}” chỉ nhận 0 hoặc 1.")
    return raw == "1"


def limit_param(request: Request, default: int, most: int = 200) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 < int(raw) <= most:
        raise BadParam(f"Số dòng mỗi trang phải từ 1 đến {most}.")
    return int(raw)


def cursor_param(request: Request) -> str | None:
    raw = request.query_params.get("cursor")
    if raw is not None and len(raw) > 512:
        raise BadParam("Trang không hợp lệ; hãy quay lại trang đầu của danh sách.")
    return raw or None


def href(path: str, **params: Any) -> str:
    """A dashboard link with its filters (None and "" left out; booleans as 1 and 0; dates as ISO)."""
    shown = {
        k: (int(v) if isinstance(v, bool) else v.isoformat() if isinstance(v, date) else v)
        for k, v in params.items()
        if v is not None and v != ""
    }
    return f"{path}?{urlencode(shown)}" if shown else path


def back_from(request: Request) -> str:
    """Where "Quay lại" leads: the dashboard page the officer came from (the Referer, only a /dashboard path of
    this site), else the overview."""
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.netloc == request.url.netloc and parts.path.startswith("/dashboard") and "login" not in parts.path:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/dashboard"
