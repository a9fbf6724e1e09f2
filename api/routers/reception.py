"""`/reception-sessions`: citizen reception sessions, the register (sổ tiếp công dân), the heads' compliance
and the public schedule."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from api import clock, errors, http_errors
from api.deps import Ctx, CurrentOfficer, SessionDep
from api.models.reception import (
    ComplianceOut,
    ComplianceRowOut,
    EntryIn,
    EntryOut,
    EntryUpdate,
    Handling,
    ScheduleItemOut,
    SessionIn,
    SessionOut,
    SessionUpdate,
)
from api.pagination import Page
from api.ratelimit import client_address
from api.routers.params import CursorQuery, LimitQuery
from api.services import reception as service
from api.types import Id32, Id64, StrictDate
from api.vault import vault_for
from workflows.cases import Kind
from workflows.reception import SessionKind, SessionStatus

router = APIRouter(prefix="/reception-sessions", tags=["reception"])
# A reception sitting ("buổi tiếp"; `session` here is the database's). The URL keeps `{session_id}`: the HTTP contract.
SittingId = Annotated[Id64, Path(alias="session_id")]


class EntryCreatedOut(EntryOut):
    case_access_key: str | None = None


@router.get(
    "/schedule",
    response_model=Page[ScheduleItemOut],
    summary="Lịch tiếp công dân sắp tới (công khai)",
    description="Public, no sign-in: when and where each unit's head (or deputy) receives citizens. No personal "
    "data; online sessions show no link (it goes to the notified citizens).",
    responses=http_errors.responses(422, 429),
)
async def public_schedule(
    request: Request,
    session: SessionDep,
    unit_id: Id32 | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ScheduleItemOut]:
    client = request.app.state.tagger.tag("ip", client_address(request))  # no address kept, even in memory
    request.app.state.expensive_limiter.check(f"schedule:{client}")
    items, next_cursor = await service.schedule(session, unit_id=unit_id, now=clock.now(), limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/compliance",
    response_model=ComplianceOut,
    summary="Việc tiếp công dân định kỳ của thủ trưởng so với quy định",
    description="Per unit: distinct periodic (định kỳ) days the head received in person and by delegation, the "
    "days its level requires month by month under the rules in force that month, and the shortfall of the months "
    "already over (units short first). Ad-hoc (đột xuất) days are listed beside them (`adhoc_days`, "
    "`adhoc_dates`) and never make up a shortfall (LTCD art. 12–18). Inspectors see every unit, a unit head their "
    "subtree.",
    responses=http_errors.responses(403, 404, 422),
)
async def compliance(
    session: SessionDep,
    principal: CurrentOfficer,
    period: Annotated[str, Query(max_length=16, description="YYYY-MM, YYYY-Qn or YYYY")],
    unit_id: Id32 | None = None,
    limit: LimitQuery = 200,
    cursor: CursorQuery = None,
) -> ComplianceOut:
    p = service.parse_period(period)
    rows, next_cursor = await service.compliance(
        session, principal, p, unit_id=unit_id, today=clock.today(), limit=limit, cursor=cursor
    )
    return ComplianceOut(
        period=p.label,
        start=p.start,
        end=p.end,
        items=[ComplianceRowOut(**r) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/entries",
    response_model=Page[EntryOut],
    summary="Sổ tiếp công dân (mẫu 03/TCD)",
    responses=http_errors.responses(422),
)
async def register(
    ctx: Ctx,
    unit_id: Id32 | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Kind | None = None,
    visit: Annotated[str | None, Query(pattern="^(first|repeat)$")] = None,
    handling: Handling | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[EntryOut]:
    rows, next_cursor = await service.list_entries(
        ctx.session,
        ctx.officer,
        unit_id=unit_id,
        year=year,
        kind=kind.value if kind else None,
        visit=visit,
        handling=handling.value if handling else None,
        limit=limit,
        cursor=cursor,
    )
    items = await service.present_entries(ctx.session, ctx.officer, rows, vault_for(ctx.settings))
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Một mục sổ tiếp công dân",
    responses=http_errors.responses(404),
)
async def get_entry(entry_id: Id64, response: Response, ctx: Ctx) -> EntryOut:
    out = await service.read_entry(ctx.session, ctx.officer, entry_id, vault_for(ctx.settings))
    if out.sealed:
        response.headers["Cache-Control"] = "no-store"
    return out


@router.patch(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Bổ sung văn bản hướng dẫn / chuyển đơn / thông báo từ chối, theo dõi kết quả",
    responses=http_errors.responses(403, 404, 422),
)
async def update_entry(entry_id: Id64, data: EntryUpdate, response: Response, ctx: Ctx) -> EntryOut:
    response.headers["Cache-Control"] = "no-store"
    return await service.update_entry(ctx.session, ctx.officer, entry_id, data, vault_for(ctx.settings))


@router.post(
    "",
    response_model=SessionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Lên lịch hoặc ghi nhận buổi tiếp công dân",
    description="Online sessions (Decree 154/2026): `citizens_notified_on` at least 5 working days before the day, "
    "`online_link`, and a `recording_ref` once held. `in_person: false` records a deputy receiving for the head.",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def create_sitting(data: SessionIn, ctx: Ctx) -> SessionOut:
    return await service.create_sitting(ctx.session, ctx.officer, data, env=ctx.env, now=clock.now())


@router.get("", response_model=Page[SessionOut], summary="Các buổi tiếp công dân", responses=http_errors.responses(422))
async def list_sittings(
    session: SessionDep,
    principal: CurrentOfficer,
    unit_id: Id32 | None = None,
    status_: Annotated[SessionStatus | None, Query(alias="status")] = None,
    kind: SessionKind | None = None,
    day_from: Annotated[StrictDate | None, Query(alias="from")] = None,
    day_to: Annotated[StrictDate | None, Query(alias="to")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SessionOut]:
    if day_from and day_to and day_to < day_from:
        raise errors.DomainError(errors.Code.invalid_range, details={"field": "to"})
    rows, next_cursor = await service.list_sittings(
        session,
        principal,
        unit_id=unit_id,
        status=status_.value if status_ else None,
        kind=kind.value if kind else None,
        day_from=day_from,
        day_to=day_to,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[service.sitting_out(s) for s in rows], next_cursor=next_cursor)


@router.get("/{session_id}", response_model=SessionOut, summary="Một buổi tiếp", responses=http_errors.responses(404))
async def get_sitting(sitting_id: SittingId, session: SessionDep, principal: CurrentOfficer) -> SessionOut:
    return service.sitting_out(await service.get_sitting(session, principal, sitting_id))


@router.patch(
    "/{session_id}",
    response_model=SessionOut,
    summary="Cập nhật buổi tiếp: đã diễn ra / hủy (có lý do), bản ghi hình, thông báo kết luận",
    description="A session with entries in the register cannot be cancelled (409 `session_has_entries`, naming "
    "them): people were received on it.",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def update_sitting(
    sitting_id: SittingId, data: SessionUpdate, session: SessionDep, principal: CurrentOfficer
) -> SessionOut:
    return await service.update_sitting(session, principal, sitting_id, data, now=clock.now())


@router.get(
    "/{session_id}/entries",
    response_model=Page[EntryOut],
    summary="Các mục sổ tiếp công dân của buổi tiếp",
    responses=http_errors.responses(404, 422),
)
async def sitting_entries(
    sitting_id: SittingId, ctx: Ctx, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[EntryOut]:
    await service.get_sitting(ctx.session, ctx.officer, sitting_id)
    rows, next_cursor = await service.list_entries(
        ctx.session, ctx.officer, sitting_id=sitting_id, limit=limit, cursor=cursor
    )
    items = await service.present_entries(ctx.session, ctx.officer, rows, vault_for(ctx.settings))
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{session_id}/entries",
    response_model=EntryCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Ghi sổ tiếp công dân (có thể tạo hoặc liên kết hồ sơ)",
    description="Numbered per unit and year. `create_case` opens a case (channel reception_session, received on "
    "the session's day; its `case_access_key` is shown here only); `case_id` links an existing one. A group of 5 or "
    "more names 1–2 representatives (5–10 people) or at most 5. A refusal names its LTCD art. 9 ground; the "
    "written notice is due within 3 working days.",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def add_entry(sitting_id: SittingId, data: EntryIn, response: Response, ctx: Ctx) -> EntryCreatedOut:
    response.headers["Cache-Control"] = "no-store"
    out, key = await service.add_entry(
        ctx.session, ctx.officer, ctx.settings, sitting_id, data, env=ctx.env, today=clock.today()
    )
    return EntryCreatedOut(**out.model_dump(), case_access_key=key)
