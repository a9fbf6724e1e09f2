"""The inspectorate's and the chairs' dashboard (`/dashboard`): a server-rendered page on the statistics, reception
and case services, in Vietnamese, with every asset served here (no CDN, no web font: the system's own fonts).

Sign-in keeps the officer's access token in an HttpOnly, SameSite=Strict cookie (Secure in production) scoped to
/dashboard, so no script can read it and no other site can send it; every form that changes anything (sign-in,
sign-out) carries a CSRF token that must match a cookie of its own (double submit), checked before anything else.
A 401 sends the browser to the sign-in page, a 403 shows a short Vietnamese page — never a stack trace."""

import hmac
import secrets
from datetime import date
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, security
from api.auth import Officer
from api.dashboard import charts
from api.db import driver
from api.deps import SessionDep, officer_for_token
from api.errors import AppError, Code, DomainError
from api.ratelimit import client_address
from api.services import calendar as calendar_service
from api.services import exports, reception, stats
from api.services import users as user_service
from api.services.cases import queries as case_queries
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


def _page(title: str, body: str, *, officer: Officer | None = None, csrf: str = "") -> str:
    nav = ""
    if officer is not None:
        nav = (
            f'<form method="post" action="/dashboard/logout" class="logout"><input type="hidden" name="csrf" '
            f'value="{escape(csrf)}"><span>{escape(officer.username)}</span> <button>Đăng xuất</button></form>'
        )
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
        "</head><body><header><h1>Tiếp công dân, giải quyết khiếu nại, tố cáo — tỉnh Lào Cai</h1>"
        f"{nav}</header><main>{body}</main></body></html>"
    )


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
    body = (
        f'<section class="notice"><h2>{escape(message)}</h2>'
        '<p><a href="/dashboard">Về trang tổng quan</a></p></section>'
    )
    return HTMLResponse(_page("Không thể hiển thị", body), status_code=status)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, error: str = "") -> Response:
    token = _csrf_pair(request)
    message = '<p class="error">Sai tên đăng nhập hoặc mật khẩu.</p>' if error else ""
    body = (
        '<section class="login"><h2>Đăng nhập</h2>'
        f"{message}"
        '<form method="post" action="/dashboard/login">'
        f'<input type="hidden" name="csrf" value="{escape(token)}">'
        '<label>Tên đăng nhập <input name="username" autocomplete="username" required maxlength="64"></label>'
        '<label>Mật khẩu <input name="password" type="password" autocomplete="current-password" required '
        'maxlength="128"></label><button>Đăng nhập</button></form></section>'
    )
    response = HTMLResponse(_page("Đăng nhập", body))
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


def _picker(current: str, unit_id: int | None, today: date) -> str:
    options = []
    for year in (today.year, today.year - 1):
        for label in [
            *(f"{year}-{m:02d}" for m in range(12, 0, -1) if date(year, m, 1) <= today),
            *(f"{year}-Q{q}" for q in range(4, 0, -1)),
            f"{year}-9M",
            f"{year}-H1",
            f"{year}",
        ]:
            selected = " selected" if label == current else ""
            options.append(f'<option value="{label}"{selected}>{label}</option>')
    unit = f'<input type="hidden" name="unit_id" value="{unit_id}">' if unit_id else ""
    return (
        '<form class="picker" method="get" action="/dashboard"><label>Kỳ báo cáo (tháng, quý, 6 tháng, 9 tháng, năm) '
        f'<select name="period">{"".join(options)}</select></label>{unit}<button>Xem</button></form>'
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}".replace(".", ",")


def _num(value: float | int) -> str:
    return f"{value:,.0f}".replace(",", ".")


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
        summary = await stats.summary(session, officer, p, unit_id, today)
        month = periods.parse(today.strftime("%Y-%m"))
        compliance, _ = await reception.compliance(
            session, officer, month, unit_id=unit_id, today=today, limit=500, cursor=None
        )
        watch, _ = await stats.watchlist(
            session, officer, unit_id=unit_id, reason=None, today=today, limit=25, cursor=None
        )
    except DomainError as exc:
        if exc.status_code == 404:
            return _error_page(404, "Không tìm thấy đơn vị trong phạm vi của bạn.")
        return _error_page(exc.status_code, exc.message)
    csrf = _csrf_pair(request)
    html = _page("Tổng quan", _body(summary, compliance, watch, p, unit_id, today), officer=officer, csrf=csrf)
    response = HTMLResponse(html)
    response.headers["Cache-Control"] = "no-store"
    _set_csrf(response, csrf, request.app.state.settings.production)
    return response


def _verdict(row: dict[str, Any]) -> str:
    missing = row["required_days"] - row["counted_days"]
    return f"Chưa đủ {missing} ngày" if missing > 0 else "Đủ"


def _body(
    summary: dict[str, Any],
    compliance: list[dict[str, Any]],
    watch: list[dict[str, Any]],
    p: periods.Period,
    unit_id: int | None,
    today: date,
) -> str:
    sat = summary["satisfaction"]
    cards = [
        ("Đơn tiếp nhận", _num(summary["received"])),
        ("Đã giải quyết", _num(summary["settled"])),
        ("Tỷ lệ đúng hạn", _pct(summary["on_time_rate"])),
        ("Đang quá hạn", _num(summary["overdue_now"])),
        ("Hài lòng (4–5 sao)", _pct(sat["share_4_5"]) + (f" / {sat['ratings']} đánh giá" if sat["ratings"] else "")),
    ]
    head = "".join(f'<div class="card"><span>{escape(k)}</span><strong>{v}</strong></div>' for k, v in cards)
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
    fields = sorted(summary["by_field"].items(), key=lambda kv: -kv[1])
    field_chart = charts.bar_chart("Đơn theo lĩnh vực", [(FIELD_VI.get(k, k), v) for k, v in fields])
    comp_rows = "".join(
        f'<tr class="{"short" if row["counted_days"] < row["required_days"] else ""}">'
        f"<td>{escape(row['unit_name'])}</td><td>{row['in_person_days']}</td><td>{row['delegated_days']}</td>"
        f"<td>{row['required_days']}</td>"
        f"<td>{_verdict(row)}</td></tr>"
        for row in compliance
    )
    watch_rows = "".join(
        f'<tr><td><a href="/dashboard/cases/{w["case_id"]}">{escape(w["tracking_code"])}</a></td>'
        f"<td>{KIND_VI.get(w['kind'], w['kind'])}</td><td>{FIELD_VI.get(w['field'], w['field'])}</td>"
        f"<td>{escape(w['unit_name'])}</td><td>{w['received_at']:%d/%m/%Y}</td>"
        f"<td>{', '.join(REASON_VI[r] for r in w['reasons'])}</td><td>{w['days_overdue'] or ''}</td></tr>"
        for w in watch
    )
    query = {"period": p.label, **({"unit_id": unit_id} if unit_id else {})}
    downloads = "".join(
        f"<li>{escape(stats.get_form(f).official)}: "
        f'<a href="/dashboard/export/{f}.xlsx?{urlencode(query)}">XLSX</a> · '
        f'<a href="/dashboard/export/{f}.csv?{urlencode(query)}">CSV</a></li>'
        for f in ("tcd", "xld", "gqkn", "gqtc", "kqth")
    )
    return (
        f"{_picker(p.label, unit_id, today)}"
        f'<p class="period">Kỳ {escape(p.label)}: từ {p.start:%d/%m/%Y} đến {p.end:%d/%m/%Y} '
        "(mốc chốt số liệu theo quy định)</p>"
        f'<section class="cards">{head}</section>'
        f'<section class="charts"><figure>{line}</figure><figure>{overdue_chart}</figure>'
        f"<figure>{on_time_chart}</figure><figure>{field_chart}</figure></section>"
        f'<section><h2>Tiếp công dân định kỳ của thủ trưởng — tháng {today:%m/%Y}</h2><div class="scroll">'
        "<table><thead><tr><th>Đơn vị</th><th>Ngày trực tiếp</th><th>Ngày ủy quyền</th><th>Yêu cầu</th>"
        f"<th>Đánh giá</th></tr></thead><tbody>{comp_rows}</tbody></table></div></section>"
        '<section><h2>Vụ việc cần theo dõi</h2><div class="scroll"><table><thead><tr><th>Mã hồ sơ</th><th>Loại</th>'
        "<th>Lĩnh vực</th><th>Đơn vị</th><th>Ngày nhận</th><th>Lý do</th><th>Số ngày quá hạn</th></tr></thead>"
        f"<tbody>{watch_rows}</tbody></table></div></section>"
        f'<section class="downloads"><h2>Tải biểu mẫu báo cáo kỳ {escape(p.label)}</h2><ul>{downloads}</ul></section>'
    )


@router.get("/export/{form}.{fmt}")
async def export(
    request: Request, session: SessionDep, form: str, fmt: str, period: str | None = None, unit_id: int | None = None
) -> Response:
    try:
        officer = await _officer(request, session)
    except NotSignedIn:
        return RedirectResponse("/dashboard/login", status_code=303)
    try:
        f = stats.get_form(form)
        if fmt not in ("csv", "xlsx"):
            raise DomainError(Code.unsupported_format)
        p = _period(period, clock.today())
        doc = await stats.build(session, officer, f, p, unit_id)
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
    parties = "".join(f"<li>{escape(p.role)}: {escape(p.full_name)}</li>" for p in out.parties)
    timers = "".join(f"<li>{escape(t.name)}: hạn {t.due_date:%d/%m/%Y} ({escape(t.status)})</li>" for t in out.timers)
    body = (
        f'<p><a href="/dashboard">← Tổng quan</a></p><section><h2>{escape(out.tracking_code)} — '
        f"{escape(KIND_VI.get(out.kind, out.kind))}</h2><p>{escape(out.title)}</p>"
        f"<p>Ngày nhận {out.received_at:%d/%m/%Y}; trạng thái {escape(out.status)}</p>"
        f"<h3>Người liên quan</h3><ul>{parties}</ul><h3>Thời hạn</h3><ul>{timers}</ul></section>"
    )
    response = HTMLResponse(_page(out.tracking_code, body, officer=officer, csrf=_csrf_pair(request)))
    response.headers["Cache-Control"] = "no-store"
    return response
