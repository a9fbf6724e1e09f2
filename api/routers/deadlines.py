"""Overdue and due-soon cases of a unit's subtree, most urgent first."""

from fastapi import APIRouter

from api.clock import today
from api.deps import CurrentOfficer, DeadlineEnvDep, SessionDep, SettingsDep
from api.models.cases.schemas import UrgentCaseOut
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import deadlines as deadline_service
from api.services.cases import presenters
from api.types import Id32
from api.vault import vault_for

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


async def _page(
    session: SessionDep,
    principal: CurrentOfficer,
    env: DeadlineEnvDep,
    settings: SettingsDep,
    *,
    overdue: bool,
    unit_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[UrgentCaseOut]:
    now = today()
    rows, next_cursor = await deadline_service.urgent(
        session, principal, env, now, overdue=overdue, unit_id=unit_id, limit=limit, cursor=cursor
    )
    vault = vault_for(settings)
    # A sealed denunciation's title, for those who may read it, without the identities they may not see.
    hidden = await presenters.hidden_identities_of(session, principal, [u.case for u in rows], vault)
    shown = [presenters.text(u.case, vault, hidden.get(u.case.id or 0)) for u in rows]
    items = [
        UrgentCaseOut(
            case_id=u.case.id,
            tracking_code=u.case.tracking_code,
            kind=u.case.kind,
            status=u.case.status,
            title=text[0],
            text_redacted=text[2],
            competent_unit_id=u.case.competent_unit_id,
            escalated_to_unit_id=u.case.escalated_to_unit_id,
            timer=u.timer.name,
            basis=u.timer.basis.value,
            due_date=u.due_date,
            remaining_days=u.timer.remaining_days(env.cal, now),
        )
        for u, text in zip(rows, shown, strict=True)
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/overdue", response_model=Page[UrgentCaseOut], summary="Hồ sơ quá hạn (cũ nhất trước)")
async def overdue(
    session: SessionDep,
    principal: CurrentOfficer,
    env: DeadlineEnvDep,
    settings: SettingsDep,
    unit_id: Id32 | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[UrgentCaseOut]:
    return await _page(session, principal, env, settings, overdue=True, unit_id=unit_id, limit=limit, cursor=cursor)


@router.get(
    "/due-soon",
    response_model=Page[UrgentCaseOut],
    summary="Hồ sơ sắp đến hạn (trong số ngày làm việc cảnh báo, mặc định 3)",
)
async def due_soon(
    session: SessionDep,
    principal: CurrentOfficer,
    env: DeadlineEnvDep,
    settings: SettingsDep,
    unit_id: Id32 | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[UrgentCaseOut]:
    return await _page(session, principal, env, settings, overdue=False, unit_id=unit_id, limit=limit, cursor=cursor)
