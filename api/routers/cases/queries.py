"""Reading cases: the list with filters and search, one case, its events and their verification, duplicates."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api import http_errors
from api.clock import today
from api.deps import Ctx, CurrentOfficer, ExpensiveOfficer, ReadableCase, SessionDep, SettingsDep
from api.models.cases.schemas import CaseFilters, CaseItemOut, CaseOut, ChainReportOut, DuplicateOut, EventOut
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import checkpoints
from api.services.cases import duplicates as duplicate_service
from api.services.cases import presenters, sealed_text
from api.services.cases import queries as query_service
from api.types import Id64
from api.vault import vault_for

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get(
    "",
    response_model=Page[CaseItemOut],
    summary="Danh sách, lọc và tìm kiếm hồ sơ",
    responses=http_errors.responses(422, 429),
)
async def list_(
    request: Request,
    session: SessionDep,
    principal: CurrentOfficer,
    settings: SettingsDep,
    filters: Annotated[CaseFilters, Query()],
) -> Page[CaseItemOut]:
    if filters.q:  # text search is the expensive kind of list: counted per officer
        request.app.state.expensive_limiter.check(f"officer:{principal.id}")
    now = today()
    rows, next_cursor = await query_service.list_cases(
        session,
        principal,
        filters,
        today=now,
        limit=filters.limit,
        cursor=filters.cursor,
        text_keys=sealed_text.keys_for(settings),
    )
    vault = vault_for(settings)
    hidden = await presenters.hidden_identities_of(session, principal, rows, vault)
    items = [presenters.list_item(c, now, vault, hidden.get(c.id) if c.id is not None else None) for c in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    summary="Một hồ sơ (danh tính người tố cáo được che)",
    responses=http_errors.responses(404),
)
async def get(case_id: Id64, response: Response, ctx: Ctx) -> CaseOut:
    out = await query_service.read(
        ctx.session, ctx.officer, case_id, today=today(), env=ctx.env, vault=vault_for(ctx.settings)
    )
    out = await presenters.with_oversight(ctx.session, out)
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.get(
    "/{case_id}/events",
    response_model=Page[EventOut],
    summary="Nhật ký (audit trail) của hồ sơ",
    responses=http_errors.responses(404, 422),
)
async def events(case_id: Id64, ctx: Ctx, limit: LimitQuery = 100, cursor: CursorQuery = None) -> Page[EventOut]:
    # Ctx and ReadableCase cannot be combined (both sign in on the same hot connection): the case is read here.
    case = await query_service.get_readable(ctx.session, ctx.officer, case_id)
    assert case.id is not None
    rows, next_cursor = await query_service.events(ctx.session, case.id, limit=limit, cursor=cursor)
    vault = vault_for(ctx.settings)
    items = await query_service.open_sealed(
        ctx.session,
        ctx.officer,
        case,
        {"event_seqs": [e.seq for e in rows if e.sealed is not None]},
        lambda reveal: [presenters.event(e, reveal, vault) for e in rows],
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}/events/verify",
    response_model=ChainReportOut,
    response_model_exclude_unset=True,  # `problems` only when there are some
    summary="Kiểm tra chuỗi băm của nhật ký, dòng hồ sơ, các bên và dữ liệu niêm phong",
    responses=http_errors.responses(404),
)
async def verify_events(case: ReadableCase, session: SessionDep, settings: SettingsDep) -> ChainReportOut:
    assert case.id is not None
    # The chain under the key and against its anchor, the case row and its parties against the state the chain
    # recorded, and every sealed text of the case (api/services/checkpoints.py).
    report = await checkpoints.verify_case(session, case.id, vault_for(settings))
    if report.valid:
        return ChainReportOut(valid=True, events_checked=report.events, first_tampered_seq=None)
    seqs = [p.seq for p in report.problems if p.seq is not None]  # the chain's own first, then the state's
    return ChainReportOut(
        valid=False,
        events_checked=report.events,
        first_tampered_seq=seqs[0] if seqs else None,
        problems=[p.why for p in report.problems],
    )


@router.get(
    "/{case_id}/duplicates",
    response_model=list[DuplicateOut],
    summary="Đơn trùng / lặp lại: cùng người hoặc nội dung tương tự",
    responses=http_errors.responses(404, 429),
)
async def duplicates(
    case: ReadableCase, session: SessionDep, principal: ExpensiveOfficer, settings: SettingsDep
) -> list[DuplicateOut]:
    return await duplicate_service.similar(
        session, principal, case, vault_for(settings), sealed_text.keys_for(settings)
    )
