"""`/stats`: the inspectorate's report forms (JSON, CSV, XLSX, PDF), frozen submissions and their diff, the summary,
the watch-list and urging notices. Inspectors see the province; a unit head their subtree.

Forms, their exports, the summary and the diff are limited per officer by their own limit (STATS_PER_MINUTE /
STATS_BURST, separate from text search's), counted only when figures are computed: an answer served from the cache
(stats/cache.py) costs nothing. Computations wait for one of STATS_CONCURRENCY places per process."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from api import clock, errors, http_errors
from api.auth import Officer
from api.deps import Ctx, CurrentOfficer, ReadSessionDep
from api.models.cases.schemas import Strict
from api.models.stats import DiffItemOut, ReportSubmissionIn
from api.routers.params import CursorQuery, LimitQuery
from api.services.stats import cache, forms, oversight, reports
from api.types import CleanStr, Id32, Id64, StrictDate
from api.vault import vault_for

router = APIRouter(prefix="/stats", tags=["statistics"])

PeriodQuery = Annotated[
    str | None,
    Query(max_length=16, description="YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-9M or YYYY (statutory cut-offs)"),
]
FromQuery = Annotated[StrictDate | None, Query(alias="from", description="Instead of period: first day")]
ToQuery = Annotated[StrictDate | None, Query(alias="to", description="Instead of period: last day")]
MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class ColumnOut(BaseModel):
    number: int
    key: str
    label: str
    groups: list[str]
    money: bool


class RowOut(BaseModel):
    type: Literal["unit", "subtotal", "total"]
    unit_id: int | None
    unit_code: str
    unit_name: str
    level: str | None
    values: dict[str, int | float]


class FormOut(BaseModel):
    form: str
    official: str
    title: str
    period: str
    start: date
    end: date
    unit_id: int | None
    generated_at: datetime
    columns: list[ColumnOut]
    rows: list[RowOut]


class ReportOut(BaseModel):
    id: int
    form: str
    period: str
    start: date
    end: date
    unit_id: int
    submitted_by_id: int
    submitted_at: datetime | None
    rows: list[RowOut]


class DiffOut(BaseModel):
    report_id: int
    changed: bool
    changes: list[DiffItemOut]


class UrgeIn(Strict):
    unit_id: Id32
    case_ids: list[Id64] | None = Field(default=None, min_length=1, max_length=oversight.MAX_URGE)
    reason: str | None = Field(default=None, max_length=2000)


def _use(request: Request, officer: Officer) -> cache.Use:
    """The process's cache layer, and what a computation costs this officer (their statistics limit, a place)."""
    state = request.app.state
    return cache.Use(state.stats_local, lambda: state.stats_limiter.check(f"officer:{officer.id}"), state.stats_gate)


def _report_out(r: Any) -> ReportOut:
    return ReportOut(
        id=r.id,
        form=r.form,
        period=r.period,
        start=r.start,
        end=r.end,
        unit_id=r.unit_id,
        submitted_by_id=r.submitted_by_id,
        submitted_at=r.submitted_at,
        rows=[RowOut(**row) for row in r.figures["rows"]],
    )


@router.get(
    "/forms/{form}",
    response_model=FormOut,
    summary="Biểu mẫu báo cáo: tcd, xld, gqkn, gqtc, kqth (JSON, CSV, XLSX, PDF)",
    description="One row per unit of your scope (or of `unit_id`'s subtree), subtotals per parent and the total "
    "row; columns carry the official numbers. `format=csv` is UTF-8 with BOM; `format=xlsx` the official table; "
    "`format=pdf` the print-ready form (A4 landscape, title block, signature block, page numbers). A period whose "
    "cut-off has passed is answered from the cache while the data it counts are unchanged; only computed answers "
    "count against the statistics limit (429 `rate_limited` with Retry-After beyond it).",
    responses={
        200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}, MEDIA["pdf"]: {}}},
        **http_errors.responses(403, 404, 415, 422, 429),
    },
)
async def form(
    form: str,
    request: Request,
    session: ReadSessionDep,  # DATABASE_READ_URL's replica when set (X-Data-As-Of)
    principal: CurrentOfficer,
    period: PeriodQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
    unit_id: Id32 | None = None,
    format: Annotated[str, Query(max_length=8)] = "json",  # noqa: A002 - the query parameter's public name
) -> Any:
    f = forms.get_form(form)
    if format not in forms.FORMATS:
        raise errors.DomainError(
            errors.Code.unsupported_format, details={"field": "format", "allowed": list(forms.FORMATS)}
        )
    p = forms.parse_period(period, start, end)
    body = await forms.answer(
        session, principal, f, p, unit_id, format, today=clock.today(), use=_use(request, principal)
    )
    if format == "json":
        # Written directly (the document is built to FormOut's shape; re-validating 150 rows of 30 figures would
        # cost more than the aggregate over a small province).
        return Response(body, media_type=MEDIA["json"])
    name = f"{f.code}_{p.label.replace('..', '_')}.{format}"
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post(
    "/forms/{form}/submissions",
    response_model=ReportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Gửi (chốt) báo cáo của đơn vị cho một kỳ",
    description="The figures are stored with who and when and never change; a second submission is 409.",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def submit(form: str, data: ReportSubmissionIn, ctx: Ctx) -> ReportOut:
    f = forms.get_form(form)
    p = forms.parse_period(data.period, None, None)
    return _report_out(await reports.submit(ctx.session, ctx.officer, f, p, data.unit_id))


@router.get(
    "/forms/{form}/submissions/{report_id}",
    response_model=ReportOut,
    summary="Một báo cáo đã gửi",
    responses=http_errors.responses(404),
)
async def get_report(form: str, report_id: Id64, ctx: Ctx) -> ReportOut:
    f = forms.get_form(form)
    return _report_out(await reports.get_report(ctx.session, ctx.officer, f, report_id))


@router.get(
    "/forms/{form}/submissions/{report_id}/diff",
    response_model=DiffOut,
    summary="Số liệu đã thay đổi kể từ khi gửi báo cáo",
    responses=http_errors.responses(404, 429),
)
async def report_diff(form: str, report_id: Id64, ctx: Ctx, request: Request) -> DiffOut:
    request.app.state.stats_limiter.check(f"officer:{ctx.officer.id}")
    f = forms.get_form(form)
    report = await reports.get_report(ctx.session, ctx.officer, f, report_id)
    assert report.id is not None
    changes = await reports.diff(ctx.session, ctx.officer, f, report)
    return DiffOut(report_id=report.id, changed=bool(changes), changes=[DiffItemOut(**c) for c in changes])


@router.get(
    "/submissions",
    summary="Tình hình gửi báo cáo của các đơn vị (đã gửi / chưa gửi, hạn gửi)",
    responses=http_errors.responses(403, 404, 422),
)
async def submission_status(
    ctx: Ctx, form: Annotated[str, Query(max_length=8)], period: Annotated[str, Query(max_length=16)]
) -> dict[str, Any]:
    f = forms.get_form(form)
    p = forms.parse_period(period, None, None)
    return await reports.submissions(ctx.session, ctx.officer, f, p, clock.today())


@router.get(
    "/summary",
    summary="Tổng quan: tiếp nhận, giải quyết đúng hạn, quá hạn, xu hướng, mức độ hài lòng",
    responses=http_errors.responses(403, 404, 422, 429),
)
async def summary(
    request: Request,
    session: ReadSessionDep,
    principal: CurrentOfficer,
    period: PeriodQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
    unit_id: Id32 | None = None,
) -> dict[str, Any]:
    p = forms.parse_period(period, start, end)
    return await oversight.summary(session, principal, p, unit_id, clock.today(), use=_use(request, principal))


@router.get(
    "/watchlist",
    summary="Vụ việc cần theo dõi: kéo dài, vượt cấp, đông người ở lĩnh vực nhạy cảm",
    responses=http_errors.responses(403, 404, 422),
)
async def watchlist(
    ctx: Ctx,
    unit_id: Id32 | None = None,
    reason: Annotated[CleanStr | None, Query(max_length=32)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    items, next_cursor = await oversight.watchlist(
        ctx.session, ctx.officer, unit_id=unit_id, reason=reason, today=clock.today(), limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/urge",
    summary="Đôn đốc đơn vị giải quyết các hồ sơ quá hạn",
    description="Records an `urge` event on each overdue case of the unit's subtree (all, up to 500, or the "
    "`case_ids` given); form 02/XLD counts them for the urging unit.",
    responses=http_errors.responses(403, 404, 422),
)
async def urge(data: UrgeIn, ctx: Ctx) -> dict[str, Any]:
    ids = await oversight.urge(
        ctx.session,
        ctx.officer,
        data.unit_id,
        data.case_ids,
        data.reason,
        today=clock.today(),
        vault=vault_for(ctx.settings),
    )
    return {"urged": len(ids), "case_ids": ids}
