"""Cases: intake, list and search, read, actions with If-Match, events, dialogues, duplicates."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.clock import today
from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.errors import Invalid, PreconditionRequired
from api.models.case_schemas import (
    ActionIn,
    CaseCreate,
    CaseCreated,
    CaseField,
    CaseListItem,
    CaseOut,
    ChainReport,
    DialogueIn,
    DialogueOut,
    DuplicateOut,
    EventOut,
)
from api.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from api.services import calendar as calendar_service
from api.services import case_actions
from api.services import cases as case_service
from api.services import duplicates as duplicate_service
from api.types import Id32, Id64
from api.vault import vault_for
from workflows.cases import Action, Kind, Status

router = APIRouter(prefix="/cases", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


@router.post("", response_model=CaseCreated, status_code=status.HTTP_201_CREATED,
             summary="Tiếp nhận đơn / vụ việc (desk intake)",
             description="The receiving unit is the caller's. `access_key` is for the citizen and is shown here "
                         "only. A retry with the same `Idempotency-Key` returns the case made the first time.")
async def create_case(data: CaseCreate, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep,
                      idempotency_key: IdempotencyKey = None) -> CaseCreated:
    env = await calendar_service.env(session, settings)
    case, key = await case_service.create(session, principal, settings, data, today=today(), env=env,
                                          idempotency_key=idempotency_key)
    # The officer who just typed the parties in is not reading anything new: no identity_viewed event.
    out = await case_service.view(session, principal, case, today=today(), env=env, vault=vault_for(settings),
                                  audit_identity=False)
    return CaseCreated(**out.model_dump(), access_key=key)


@router.get("", response_model=Page[CaseListItem], summary="Danh sách, lọc và tìm kiếm hồ sơ")
async def list_cases(
    session: SessionDep, principal: CurrentPrincipal, limit: LimitQuery = 50, cursor: CursorQuery = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    field: Annotated[list[CaseField] | None, Query()] = None,
    unit_id: Id32 | None = None,
    include_subtree: Annotated[bool, Query(description="unit_id and its subtree")] = False,
    handler_id: Id32 | None = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    multi_person: bool | None = None,
    level_skipping: bool | None = None,
    q: Annotated[str | None, Query(min_length=2, max_length=200,
                                   description="Tìm không dấu: 'dat dai' tìm thấy 'đất đai'")] = None,
    sort: Annotated[str, Query(pattern="^(-received_at|received_at|due_date)$")] = "-received_at",
) -> Page[CaseListItem]:
    if received_from and received_to and received_from > received_to:
        raise Invalid("Khoảng ngày không hợp lệ", code="invalid_range", details={"field": "received_from"})
    after = decode_cursor(cursor, date, int)
    rows = await case_service.list_cases(
        session, principal, today=today(), limit=limit, after=after, sort=sort,
        filters={"kind": kind, "status": status_, "field": field, "unit_id": unit_id,
                 "include_subtree": include_subtree, "handler_id": handler_id, "overdue": overdue,
                 "due_before": due_before, "received_from": received_from, "received_to": received_to,
                 "multi_person": multi_person, "level_skipping": level_skipping, "q": q})
    items = [case_service.list_item(c, today()) for c in rows[:limit]]
    next_cursor = encode_cursor(case_service.cursor_of(rows[limit - 1], sort)) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CaseOut, summary="Một hồ sơ (danh tính người tố cáo được che)")
async def get_case(case_id: Id64, response: Response, session: SessionDep, principal: CurrentPrincipal,
                   settings: SettingsDep) -> CaseOut:
    case = await case_service.get_readable(session, principal, case_id)
    out = await case_service.view(session, principal, case, today=today(),
                                  env=await calendar_service.env(session, settings), vault=vault_for(settings))
    response.headers["ETag"] = f'"{out.version}"'
    return out


def parse_if_match(value: str | None) -> int:
    if value is None:
        raise PreconditionRequired()
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise Invalid("If-Match phải là số phiên bản của hồ sơ", code="invalid_if_match",
                      details={"field": "If-Match"})
    return int(cleaned)


@router.post("/{case_id}/actions/{action}", response_model=CaseOut, summary="Thao tác trên hồ sơ",
             responses={409: {"description": "Not allowed in this status / for your role (allowed_actions)"},
                        412: {"description": "Stale version"}, 428: {"description": "If-Match missing"}})
async def act(case_id: Id64, action: Action, session: SessionDep, principal: CurrentPrincipal, response: Response,
              settings: SettingsDep, body: ActionIn | None = None,
              if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> CaseOut:
    version = parse_if_match(if_match)
    env = await calendar_service.env(session, settings)
    case = await case_actions.perform(session, principal, case_id, action, version, body or ActionIn(),
                                      today=today(), env=env)
    out = await case_service.view(session, principal, case, today=today(), env=env, vault=vault_for(settings))
    response.headers["ETag"] = f'"{out.version}"'
    return out


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timer: str = Field(description="notify_acceptance | send_decision | send_conclusion | publish_conclusion")
    sent_on: date
    recipients: str | None = Field(default=None, max_length=500)


@router.post("/{case_id}/notices", response_model=CaseOut, summary="Ghi nhận đã thông báo / gửi / công khai",
             description="Completes a notification timer (the notice itself goes out on paper or by post).")
async def record_notice(case_id: Id64, data: NoticeIn, session: SessionDep, principal: CurrentPrincipal,
                        settings: SettingsDep) -> CaseOut:
    env = await calendar_service.env(session, settings)
    case = await case_actions.record_notice(session, principal, case_id, data.timer, data.sent_on, data.recipients,
                                            today=today(), env=env)
    return await case_service.view(session, principal, case, today=today(), env=env, vault=vault_for(settings))


@router.get("/{case_id}/events", response_model=Page[EventOut], summary="Nhật ký (audit trail) của hồ sơ")
async def case_events(case_id: Id64, session: SessionDep, principal: CurrentPrincipal, limit: LimitQuery = 100,
                      cursor: CursorQuery = None) -> Page[EventOut]:
    await case_service.get_readable(session, principal, case_id)
    after = decode_cursor(cursor, int)
    rows = await case_service.events(session, case_id, after_seq=after[0] if after else 0, limit=limit)
    items = [EventOut.model_validate(e, from_attributes=True) for e in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor([items[-1].seq]) if len(rows) > limit else None)


@router.get("/{case_id}/events/verify", response_model=ChainReport, summary="Kiểm tra chuỗi băm của nhật ký")
async def verify_events(case_id: Id64, session: SessionDep, principal: CurrentPrincipal) -> ChainReport:
    await case_service.get_readable(session, principal, case_id)
    valid, checked, bad = await case_service.verify_chain(session, case_id)
    return ChainReport(valid=valid, events_checked=checked, first_tampered_seq=bad)


@router.post("/{case_id}/dialogues", response_model=DialogueOut, status_code=status.HTTP_201_CREATED,
             summary="Ghi nhận đối thoại")
async def add_dialogue(case_id: Id64, data: DialogueIn, session: SessionDep,
                       principal: CurrentPrincipal) -> DialogueOut:
    dialogue = await case_actions.add_dialogue(session, principal, case_id, data, today=today())
    return DialogueOut.model_validate(dialogue, from_attributes=True)


@router.get("/{case_id}/dialogues", response_model=Page[DialogueOut], summary="Các lần đối thoại")
async def list_dialogues(case_id: Id64, session: SessionDep, principal: CurrentPrincipal, limit: LimitQuery = 50,
                         cursor: CursorQuery = None) -> Page[DialogueOut]:
    await case_service.get_readable(session, principal, case_id)
    after = decode_cursor(cursor, int)
    rows = await duplicate_service.dialogues(session, case_id, after_id=after[0] if after else 0, limit=limit)
    items = [DialogueOut.model_validate(d, from_attributes=True) for d in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)


@router.get("/{case_id}/duplicates", response_model=list[DuplicateOut],
            summary="Đơn trùng / lặp lại: cùng người hoặc nội dung tương tự")
async def duplicates(case_id: Id64, session: SessionDep, principal: CurrentPrincipal) -> list[DuplicateOut]:
    case = await case_service.get_readable(session, principal, case_id)
    return await duplicate_service.similar(session, principal, case)
