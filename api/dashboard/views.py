"""The inspectorate's and the chairs' dashboard (`/dashboard`): a server-rendered page on the statistics, reception
and case services, in Vietnamese, with every asset served here (no CDN, no web font: the system's own fonts).

Sign-in keeps the officer's access token in an HttpOnly, SameSite=Strict cookie (Secure in production) scoped to
/dashboard, so no script can read it and no other site can send it; every form that changes anything (sign-in,
sign-out) carries a CSRF token that must match a cookie of its own (double submit), checked before anything else.
A 401 sends the browser to the sign-in page, a 403 shows a short Vietnamese page — never a stack trace.

The pages are Jinja2 templates with autoescape (`templates/`, rendered by `render.py`): this module gathers what a
page shows and picks its template; it writes no HTML."""

import hmac
import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, security
from api.auth import Officer
from api.dashboard import charts, render
from api.db import driver
from api.deps import SessionDep, officer_for_token
from api.errors import AppError, Code, DomainError
from api.ratelimit import client_address
from api.services import calendar as calendar_service
from api.services import reception
from api.services import users as user_service
from api.services.cases import queries as case_queries
from api.services.stats import exports, forms, oversight
from api.vault import vault_for
from workflows import periods
from workflows.cases import Role

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SESSION, CSRF = "tiepdan_session", "tiepdan_csrf"
PERIOD_FORMS = (("month", "Tháng"), ("quarter", "Quý"), ("half", "6 tháng"), ("nine", "9 tháng"), ("year", "Năm"))
KIND_VI = {"complaint": "Khiếu nại", "denunciation": "Tố cáo", "petition": "Kiến nghị", "feedback": "Phản ánh"}
FIELD_VI = {
    "land": "Đất đai, nhà ở",
    "compensation": "Bồi thường, GPMB",
    "policy": "Chính sách xã hội",
    "civil_service": "Công chức, công vụ",
    "admin_other": "Hành chính khác",
    "judicial": "Tư pháp",
    "corruption": "Tham nhũng",
    "party": "Đảng",
    "other": "Khác",
}
REASON_VI = {
    "overdue": "quá hạn",
    "repeat_after_decision": "khiếu nại, tố cáo tiếp",
    "level_skipping": "vượt cấp",
    "multi_person": "đông người",
}


class NotSignedIn(Exception):
    pass


def _csrf_pair(request: Request) -> str:
    return request.cookies.get(CSRF) or secrets.token_urlsafe(24)


def _set_csrf(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(CSRF, token, httponly=True, samesite="strict", secure=secure, path="/dashboard")


def _check_csrf(request: Request, sent: str) -> None:
    cookie = request.cookies.get(CSRF, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise DomainError(Code.forbidden, details={"reason": "csrf"})


async def _officer(request: Request, session: AsyncSession) -> Officer:
    token = request.cookies.get(SESSION)
    if not token:
        raise NotSignedIn
    loaded = await officer_for_token(request.app.state.settings, await driver(session), token)
    if loaded is None:
        raise NotSignedIn
    return loaded[0]


def _error_page(status: int, message: str) -> HTMLResponse:
    """Every error page of the dashboard (templates/error.html): the status and a short Vietnamese sentence."""
    return render.page("error.html", status, officer=None, message=message)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, error: str = "") -> Response:
    token = _csrf_pair(request)
    response = render.page("login.html", officer=None, csrf=token, error=bool(error))
    _set_csrf(response, token, request.app.state.settings.production)
    return response


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        _check_csrf(request, csrf)
    except DomainError:
        return _error_page(403, "Phiên đăng nhập không hợp lệ, hãy tải lại trang đăng nhập.")
    settings = request.app.state.settings
    client = client_address(request)  # behind a trusted proxy (FORWARDED_ALLOW_IPS), the caller's own
    try:
        user = await user_service.authenticate(
            session, request.app.state.passwords, settings, username, password, client
        )
    except AppError as exc:
        if exc.status_code == 429:
            return _error_page(429, "Thử quá nhiều lần; vui lòng đợi rồi thử lại.")
        if exc.code == Code.password_change_required:  # a one-time password: its owner sets their own first
            return _error_page(403, exc.message)
        return RedirectResponse("/dashboard/login?error=1", status_code=303)
    token, lifetime = security.create_access_token(settings, str(user.id), version=user.token_version)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        SESSION,
        token,
        max_age=lifetime,
        httponly=True,
        samesite="strict",
        secure=settings.production,
        path="/dashboard",
    )
    _set_csrf(response, secrets.token_urlsafe(24), settings.production)  # a fresh token after sign-in
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    try:
        _check_csrf(request, csrf)
        officer = await _officer(request, session)
    except (DomainError, NotSignedIn):
        return _error_page(403, "Yêu cầu không hợp lệ.")
    await user_service.sign_out(session, officer.id)  # every token of this officer ends
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION, path="/dashboard")
    return response


def _period(label: str | None, today: date) -> periods.Period:
    if not label:
        q = (today.month - 1) // 3 + 1
        label = f"{today.year}-Q{q}"
    try:
        return periods.parse(label, cutoffs=periods.STATUTORY)
    except periods.PeriodError:
        raise DomainError(Code.invalid_period) from None


def _choices(today: date) -> list[str]:
    """The picker's periods: this year's and last year's months (up to today), quarters, 9 months, half, year."""
    return [
        label
        for year in (today.year, today.year - 1)
        for label in [
            *(f"{year}-{m:02d}" for m in range(12, 0, -1) if date(year, m, 1) <= today),
            *(f"{year}-Q{q}" for q in range(4, 0, -1)),
            f"{year}-9M",
            f"{year}-H1",
            f"{year}",
        ]
    ]


@router.get("", response_class=HTMLResponse)
async def dashboard(
    request: Request, session: SessionDep, period: str | None = None, unit_id: int | None = None
) -> Response:
    try:
        officer = await _officer(request, session)
    except NotSignedIn:
        return RedirectResponse("/dashboard/login", status_code=303)
    if not officer.has(Role.inspector, Role.unit_head):
        return _error_page(403, "Trang này dành cho Thanh tra tỉnh và thủ trưởng đơn vị.")
    today = clock.today()
    try:
        p = _period(period, today)
        summary = await oversight.summary(session, officer, p, unit_id, today)
        month = periods.parse(today.strftime("%Y-%m"))
        compliance, _ = await reception.compliance(
            session, officer, month, unit_id=unit_id, today=today, limit=500, cursor=None
        )
        watch, _ = await oversight.watchlist(
            session, officer, unit_id=unit_id, reason=None, today=today, limit=25, cursor=None
        )
    except DomainError as exc:
        if exc.status_code == 404:
            return _error_page(404, "Không tìm thấy đơn vị trong phạm vi của bạn.")
        return _error_page(exc.status_code, exc.message)
    csrf = _csrf_pair(request)
    line, bars = _charts(summary)
    response = render.page(
        "overview.html",
        officer=officer,
        csrf=csrf,
        period=p,
        choices=_choices(today),
        unit_id=unit_id,
        today=today,
        summary=summary,
        line=line,
        bars=bars,
        compliance=compliance,
        watch=watch,
        downloads=[(f, forms.get_form(f).official) for f in ("tcd", "xld", "gqkn", "gqtc", "kqth")],
        query={"period": p.label, **({"unit_id": unit_id} if unit_id else {})},
        kinds=KIND_VI,
        fields=FIELD_VI,
        reasons=REASON_VI,
    )
    response.headers["Cache-Control"] = "no-store"
    _set_csrf(response, csrf, request.app.state.settings.production)
    return response


def _charts(summary: dict[str, Any]) -> tuple[charts.LineChart, list[charts.BarChart]]:
    """The page's four charts: received vs settled by month; overdue by unit (worst first); on-time rate by unit
    (lowest first); letters by field."""
    trend = summary["trend"]
    line = charts.line_chart(
        "Tiếp nhận và giải quyết theo tháng",
        [t["month"][5:] + "/" + t["month"][2:4] for t in trend],
        [("Tiếp nhận", [t["received"] for t in trend]), ("Giải quyết", [t["settled"] for t in trend])],
    )
    units = summary["by_unit"]
    overdue = sorted((u for u in units if u["overdue"]), key=lambda u: -u["overdue"])[:15]
    overdue_chart = charts.bar_chart("Hồ sơ quá hạn theo đơn vị", [(u["unit_name"], u["overdue"]) for u in overdue])
    rated = sorted((u for u in units if u["on_time_rate"] is not None), key=lambda u: u["on_time_rate"])[:15]
    on_time_chart = charts.bar_chart(
        "Tỷ lệ giải quyết đúng hạn theo đơn vị (thấp nhất trước)",
        [(u["unit_name"], u["on_time_rate"]) for u in rated],
        percent=True,
    )
    by_field = sorted(summary["by_field"].items(), key=lambda kv: -kv[1])
    field_chart = charts.bar_chart("Đơn theo lĩnh vực", [(FIELD_VI.get(k, k), v) for k, v in by_field])
    return line, [overdue_chart, on_time_chart, field_chart]


@router.get("/export/{form}.{fmt}")
async def export(
    request: Request, session: SessionDep, form: str, fmt: str, period: str | None = None, unit_id: int | None = None
) -> Response:
    try:
        officer = await _officer(request, session)
    except NotSignedIn:
        return RedirectResponse("/dashboard/login", status_code=303)
    try:
        f = forms.get_form(form)
        if fmt not in ("csv", "xlsx"):
            raise DomainError(Code.unsupported_format)
        p = _period(period, clock.today())
        doc = await forms.build(session, officer, f, p, unit_id)
    except DomainError as exc:
        return _error_page(exc.status_code, exc.message)
    body = exports.to_csv(doc) if fmt == "csv" else exports.to_xlsx(doc)
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{f.code}_{p.label}.{fmt}"'}
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case(request: Request, session: SessionDep, case_id: int) -> Response:
    """A case from the watch-list, shown as the API shows it to this officer (a denouncer masked)."""
    try:
        officer = await _officer(request, session)
    except NotSignedIn:
        return RedirectResponse("/dashboard/login", status_code=303)
    if not 0 < case_id < 2**63:
        return _error_page(404, "Không tìm thấy hồ sơ.")
    try:
        env = await calendar_service.env(session, request.app.state.settings)
        out = await case_queries.read(
            session, officer, case_id, today=clock.today(), env=env, vault=vault_for(request.app.state.settings)
        )
    except DomainError:
        return _error_page(404, "Không tìm thấy hồ sơ.")
    response = render.page("case.html", officer=officer, csrf=_csrf_pair(request), case=out, kinds=KIND_VI)
    response.headers["Cache-Control"] = "no-store"
    return response
