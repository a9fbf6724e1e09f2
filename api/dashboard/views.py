"""The inspectorate's and the chairs' dashboard (`/dashboard`): server-rendered pages on the statistics, reception
and case services, in Vietnamese, with every asset served here (no CDN, no web font: the system's own fonts).

Pages: the overview of a period for a scope (`overview.py`), the cases a figure counts (`/dashboard/cases?…`), the
register entries of a unit and a span (`/dashboard/register?…`), the watch-list (`/dashboard/watch`), one case
(`/dashboard/cases/{id}`) and the report forms (`/dashboard/export/{form}.{xlsx|csv|pdf}`). Every list is read through
the services (or `queries.py`) in the caller's scope and shown through the API's presenters.

Sign-in keeps the officer's access token in an HttpOnly, SameSite=Strict cookie (Secure in production) scoped to
/dashboard, so no script can read it and no other site can send it; every form that changes anything (sign-in,
sign-out) carries a CSRF token that must match a cookie of its own (double submit), checked before anything else.
Without a session the browser goes to the sign-in page (saying so when the session expired); every other error —
a bad `unit_id` or case number, a page the role may not see — is a Vietnamese page with a way back and a sign-out,
never JSON and never a stack trace. The pages are Jinja2 templates with autoescape (`render.py`)."""

import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, security
from api.auth import Officer
from api.dashboard import overview, queries, render, web
from api.dashboard.web import CSRF, SESSION, BadParam, NotSignedIn, href
from api.deps import ReadSessionDep, SessionDep
from api.errors import AppError, Code, DomainError
from api.ratelimit import client_address
from api.services import calendar as calendar_service
from api.services import users as user_service
from api.services.cases import presenters
from api.services.reception import sealing
from api.services.stats import forms, oversight
from api.vault import vault_for
from workflows import periods, vocabulary
from workflows.cases import Role

__all__ = ["CSRF", "SESSION", "router"]

router = APIRouter(prefix="/dashboard", include_in_schema=False)
LIST_PAGE = 50

_DOMAIN_PAGES: dict[str, tuple[int, str]] = {
    Code.no_such_unit: (404, "Không tìm thấy đơn vị này trong phạm vi bạn được xem."),
    Code.case_not_found: (404, "Không tìm thấy hồ sơ này trong phạm vi bạn được xem."),
    Code.invalid_cursor: (400, "Trang của danh sách không hợp lệ; hãy quay lại trang đầu của danh sách."),
    Code.invalid_period: (400, "Kỳ báo cáo không hợp lệ."),
    Code.forbidden: (403, web.FORBIDDEN),
}


async def _guarded(
    request: Request,
    session: AsyncSession,
    build: Callable[[Officer], Awaitable[Response]],
    *,
    oversight: bool = True,
) -> Response:
    """A dashboard page: signed in (else the sign-in page), an inspector or a head for the oversight pages (else
    403), and any refusal of the services or of the query string as a Vietnamese error page."""
    try:
        who = await web.officer(request, session)
    except NotSignedIn as exc:
        return web.to_sign_in(exc)
    if oversight and not web.may_see_dashboard(who):
        return web.error_page(request, 403, web.FORBIDDEN, who)
    try:
        return await build(who)
    except BadParam as exc:
        return web.error_page(request, exc.status, exc.message, who)
    except DomainError as exc:
        status, message = _DOMAIN_PAGES.get(exc.code, (exc.status_code, exc.message))
        return web.error_page(request, status, message, who)


def _html(request: Request, template: str, who: Officer, **context: Any) -> HTMLResponse:
    csrf = web.csrf_token(request)
    response = render.page(template, officer=who, csrf=csrf, today=clock.today(), **context)
    web.set_csrf(response, csrf, request.app.state.settings.production)
    return response


# ---- sign-in ----


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, error: str = "", expired: str = "") -> Response:
    token = web.csrf_token(request)
    response = render.page("login.html", officer=None, csrf=token, error=bool(error), expired=bool(expired))
    web.set_csrf(response, token, request.app.state.settings.production)
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
        web.check_csrf(request, csrf)
    except DomainError:
        return web.error_page(
            request, 403, "Phiên đăng nhập không hợp lệ, hãy tải lại trang đăng nhập.", back="/dashboard/login"
        )
    settings = request.app.state.settings
    client = client_address(request)  # behind a trusted proxy (FORWARDED_ALLOW_IPS), the caller's own
    try:
        user = await user_service.authenticate(
            session, request.app.state.passwords, settings, username, password, client
        )
    except AppError as exc:
        if exc.status_code == 429:
            return web.error_page(request, 429, "Thử quá nhiều lần; vui lòng đợi rồi thử lại.", back="/dashboard/login")
        if exc.code == Code.password_change_required:  # a one-time password: its owner sets their own first
            return web.error_page(request, 403, exc.message, back="/dashboard/login")
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
    web.set_csrf(response, secrets.token_urlsafe(24), settings.production)  # a fresh token after sign-in
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    try:
        web.check_csrf(request, csrf)
        who = await web.officer(request, session)
    except (DomainError, NotSignedIn):
        return web.error_page(request, 403, "Yêu cầu đăng xuất không hợp lệ; hãy tải lại trang.")
    await user_service.sign_out(session, who.id)  # every token of this officer ends
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION, path="/dashboard")
    return response


# ---- the overview ----


def _period(label: str | None, today: date) -> periods.Period:
    if not label:
        label = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    try:
        p = periods.parse(label, cutoffs=periods.STATUTORY)
    except periods.PeriodError:
        raise BadParam(f"Kỳ báo cáo không hợp lệ: “{label[:40]}”.") from None
    if p.start > today:  # a future period's page would be all zeros, as if nothing had happened
        raise BadParam(
            f"Kỳ báo cáo chưa bắt đầu: {vocabulary.period_name(p.label)} bắt đầu từ ngày {p.start:%d/%m/%Y}."
        )
    return p


def _choices(today: date) -> list[tuple[str, str]]:
    """The picker's periods, named in Vietnamese: this year's and last year's months (up to today), quarters,
    9 months, first half, year."""
    labels = [
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
    return [(label, vocabulary.period_name(label)) for label in labels]


async def _scope_name(session: AsyncSession, who: Officer, unit_id: int | None) -> str:
    if unit_id is not None:
        return await queries.unit_name(session, who, unit_id)
    if who.has(Role.inspector):
        return "toàn tỉnh"
    return await queries.unit_name(session, who, who.unit_id)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, read: ReadSessionDep) -> Response:
    async def build(who: Officer) -> Response:
        today = clock.today()
        unit_id = web.int_param(request, "unit_id", "Mã đơn vị")
        p = _period(request.query_params.get("period"), today)
        scope_name = await _scope_name(read, who, unit_id)
        data = await overview.gather(read, who, p, unit_id, scope_name, today)
        return _html(
            request,
            "overview.html",
            who,
            period=p,
            choices=_choices(today),
            unit_id=unit_id,
            scope_name=scope_name,
            query={"period": p.label, **({"unit_id": unit_id} if unit_id else {})},
            **data,
        )

    return await _guarded(request, session, build)


# ---- what a figure counts ----


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _span(label: str, start: date | None, end: date | None) -> tuple[str, str] | None:
    if start and end:
        return label, f"từ {_day(start)} đến {_day(end)}"
    if start:
        return label, f"từ {_day(start)}"
    if end:
        return label, f"đến {_day(end)}"
    return None


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request, session: SessionDep) -> Response:
    """/dashboard/cases?unit_id=&subtree=&kind=&field=&status=&received_from=&received_to=&settled_from=
    &settled_to=&late=&overdue=&rated_from=&rated_to=&cursor= — the cases a figure of the overview counts."""

    async def build(who: Officer) -> Response:
        today = clock.today()
        subtree = web.flag_param(request, "subtree")
        q = queries.CaseQuery(
            unit_id=web.int_param(request, "unit_id", "Mã đơn vị"),
            subtree=subtree is not False,
            kind=web.choice_param(request, "kind", dict(vocabulary.KIND), "Loại đơn"),
            field=web.choice_param(request, "field", dict(vocabulary.FIELD), "Lĩnh vực"),
            status=web.choice_param(request, "status", dict(vocabulary.STATUS), "Trạng thái"),
            received_from=web.date_param(request, "received_from", "Ngày nhận từ"),
            received_to=web.date_param(request, "received_to", "Ngày nhận đến"),
            settled_from=web.date_param(request, "settled_from", "Ngày giải quyết xong từ"),
            settled_to=web.date_param(request, "settled_to", "Ngày giải quyết xong đến"),
            late=web.flag_param(request, "late"),
            overdue=web.flag_param(request, "overdue") is True,
            rated_from=web.date_param(request, "rated_from", "Ngày đánh giá từ"),
            rated_to=web.date_param(request, "rated_to", "Ngày đánh giá đến"),
        )
        cursor = web.cursor_param(request)
        limit = web.limit_param(request, LIST_PAGE)
        rows, next_cursor, total = await queries.cases(session, who, q, today=today, limit=limit, cursor=cursor)
        vault = vault_for(request.app.state.settings)
        hidden = await queries.hidden_identities(session, rows, vault)  # masked for every caller here
        items = [presenters.list_item(c, today, vault, hidden.get(c.id) if c.id is not None else None) for c in rows]
        scope = await _scope_name(session, who, q.unit_id)
        filters = [
            ("Đơn vị giải quyết", scope + (" và các đơn vị trực thuộc" if q.subtree and q.unit_id else "")),
            ("Loại đơn", vocabulary.name(vocabulary.KIND, q.kind)) if q.kind else None,
            ("Lĩnh vực", vocabulary.name(vocabulary.FIELD, q.field)) if q.field else None,
            ("Trạng thái", vocabulary.name(vocabulary.STATUS, q.status)) if q.status else None,
            _span("Ngày nhận đơn", q.received_from, q.received_to),
            _span("Ngày giải quyết xong", q.settled_from, q.settled_to),
            ("Thời hạn giải quyết", "trễ hạn" if q.late else "đúng hạn") if q.late is not None else None,
            ("Quá hạn", f"đang giải quyết và đã quá hạn đến ngày {_day(today)}") if q.overdue else None,
            _span("Công dân đánh giá", q.rated_from, q.rated_to),
        ]
        params = {k: request.query_params[k] for k in request.query_params if k != "cursor"}
        return _html(
            request,
            "cases.html",
            who,
            items=items,
            total=total,
            units=await queries.unit_names(session, {c.competent_unit_id for c in rows}),
            filters=[f for f in filters if f],
            next_href=href("/dashboard/cases", **params, cursor=next_cursor) if next_cursor else None,
            first_href=href("/dashboard/cases", **params) if cursor else None,
            back=href("/dashboard", unit_id=q.unit_id),
        )

    return await _guarded(request, session, build)


@router.get("/register", response_class=HTMLResponse)
async def register(request: Request, session: SessionDep) -> Response:
    """/dashboard/register?unit_id=&subtree=&start=&end=&cursor= — the register entries of a unit and a span."""

    async def build(who: Officer) -> Response:
        unit_id = web.int_param(request, "unit_id", "Mã đơn vị")
        subtree = web.flag_param(request, "subtree") is not False
        start = web.date_param(request, "start", "Ngày bắt đầu")
        end = web.date_param(request, "end", "Ngày kết thúc")
        cursor = web.cursor_param(request)
        rows, next_cursor, total = await queries.entries(
            session,
            who,
            unit_id=unit_id,
            subtree=subtree,
            start=start,
            end=end,
            limit=web.limit_param(request, LIST_PAGE),
            cursor=cursor,
        )
        codes = await queries.case_codes(session, {e.case_id for e in rows if e.case_id is not None})
        vault = vault_for(request.app.state.settings)
        # Never opened here (reveal=False): the page shows no visitor's name or words, so it reads no identity.
        items = [
            sealing.entry_out(e, reveal=False, vault=vault, case_code=codes.get(e.case_id) if e.case_id else None)
            for e in rows
        ]
        scope = await _scope_name(session, who, unit_id)
        filters = [
            ("Đơn vị", scope + (" và các đơn vị trực thuộc" if subtree and unit_id else "")),
            _span("Ngày tiếp", start, end),
        ]
        params = {k: request.query_params[k] for k in request.query_params if k != "cursor"}
        return _html(
            request,
            "register.html",
            who,
            items=items,
            total=total,
            units=await queries.unit_names(session, {e.unit_id for e in rows}),
            filters=[f for f in filters if f],
            next_href=href("/dashboard/register", **params, cursor=next_cursor) if next_cursor else None,
            first_href=href("/dashboard/register", **params) if cursor else None,
            back=href("/dashboard", unit_id=unit_id),
        )

    return await _guarded(request, session, build)


@router.get("/watch", response_class=HTMLResponse)
async def watch(request: Request, session: SessionDep) -> Response:
    """The whole watch-list of the scope, a page at a time."""

    async def build(who: Officer) -> Response:
        unit_id = web.int_param(request, "unit_id", "Mã đơn vị")
        cursor = web.cursor_param(request)
        rows, next_cursor = await oversight.watchlist(
            session,
            who,
            unit_id=unit_id,
            reason=None,
            today=clock.today(),
            limit=web.limit_param(request, LIST_PAGE),
            cursor=cursor,
        )
        params = {k: request.query_params[k] for k in request.query_params if k != "cursor"}
        return _html(
            request,
            "watch.html",
            who,
            watch=rows,
            scope_name=await _scope_name(session, who, unit_id),
            next_href=href("/dashboard/watch", **params, cursor=next_cursor) if next_cursor else None,
            first_href=href("/dashboard/watch", **params) if cursor else None,
            back=href("/dashboard", unit_id=unit_id),
        )

    return await _guarded(request, session, build)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case(request: Request, session: SessionDep, case_id: str) -> Response:
    """A case as the dashboard shows it: named in Vietnamese, a protected party masked."""

    async def build(who: Officer) -> Response:
        if not case_id.isdigit() or not 0 < int(case_id) < 2**63:
            raise BadParam(f"Mã hồ sơ không hợp lệ: “{case_id[:40]}”.", 404)
        today = clock.today()
        env = await calendar_service.env(session, request.app.state.settings)
        view = await queries.case_view(
            session, who, int(case_id), today=today, env=env, vault=vault_for(request.app.state.settings)
        )
        return _html(request, "case.html", who, view=view, back=web.back_from(request))

    # Any officer who may read the case (its scope decides, else 404), as GET /cases/{id}.
    return await _guarded(request, session, build, oversight=False)


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@router.get("/export/{form}.{fmt}")
async def export(request: Request, session: SessionDep, read: ReadSessionDep, form: str, fmt: str) -> Response:
    """A report form of the overview's period and scope, as the statistics API serves it (the same cache)."""

    async def build(who: Officer) -> Response:
        f = forms.get_form(form)
        if fmt not in MEDIA:
            raise BadParam("Chỉ tải được biểu mẫu dạng XLSX, CSV hoặc PDF.", 415)
        today = clock.today()
        p = _period(request.query_params.get("period"), today)
        unit_id = web.int_param(request, "unit_id", "Mã đơn vị")
        body = await forms.answer(read, who, f, p, unit_id, fmt, today=today)
        return Response(
            body,
            media_type=MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="{f.code}_{p.label}.{fmt}"'},
        )

    return await _guarded(request, session, build)
