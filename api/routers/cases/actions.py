"""Changing a case: actions with If-Match, notices, dialogues."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, TypedDict

from fastapi import APIRouter, Header, Response, status

from api import http_errors
from api.clock import today
from api.deps import Ctx
from api.errors import Code, DomainError
from api.models.cases.schemas import (
    AccusedIn,
    AccusedRemoveIn,
    ActionIn,
    CaseOut,
    CompetenceIn,
    ComplexityIn,
    DialogueIn,
    DialogueOut,
    EnforcementIn,
    NoticeIn,
    UnlawfulResolutionIn,
)
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services.calendar import DeadlineEnv
from api.services.cases import accused as accused_service
from api.services.cases import actions as action_service
from api.services.cases import dialogues as dialogue_service
from api.services.cases import duplicates as duplicate_service
from api.services.cases import enforcement as enforcement_service
from api.services.cases import presenters
from api.services.cases import queries as query_service
from api.types import Id64
from api.vault import Vault, vault_for
from workflows.cases import Action

router = APIRouter(prefix="/cases", tags=["cases"])
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def parse_if_match(value: str | None) -> int:
    if value is None:
        raise DomainError(Code.if_match_required)
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise DomainError(Code.invalid_if_match, details={"field": "If-Match"})
    return int(cleaned)


class _Kit(TypedDict):
    """What every command on a case is given besides its own data: the day, the deadline rules, the vault."""

    today: date
    env: DeadlineEnv
    vault: Vault


def _kit(ctx: Ctx) -> _Kit:
    return {"today": today(), "env": ctx.env, "vault": vault_for(ctx.settings)}


async def _under_if_match(
    response: Response, if_match: str | None, command: Callable[[int], Awaitable[CaseOut]]
) -> CaseOut:
    """The one way a route runs a command on a case under If-Match: the version the caller saw (428 without it,
    422 `invalid_if_match` if it is no version) given to `command`, the case's new version in the ETag."""
    out = await command(parse_if_match(if_match))
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post(
    "/{case_id}/actions/{action}",
    response_model=CaseOut,
    summary="Thao tác trên hồ sơ",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
    description="409 `action_not_allowed` carries `details.allowed_actions`; 412 carries `details.current_version`.",
)
async def act(
    case_id: Id64, action: Action, response: Response, ctx: Ctx, body: ActionIn | None = None, if_match: IfMatch = None
) -> CaseOut:
    return await _perform(ctx, response, case_id, action, if_match, body or ActionIn())


async def _perform(
    ctx: Ctx, response: Response, case_id: int, action: Action, if_match: str | None, body: ActionIn
) -> CaseOut:
    """One action of the transition table."""
    return await _under_if_match(
        response,
        if_match,
        lambda v: action_service.perform(ctx.session, ctx.officer, case_id, action, v, body, **_kit(ctx)),
    )


@router.post(
    "/{case_id}/complexity",
    response_model=CaseOut,
    summary="Xác định / nâng mức độ phức tạp (người giải quyết)",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
    description="The head of the settling unit, while the case is being settled; a complaint's resolution "
    "period follows (LKN art. 28, 37). The decision is dated `effective_date` (default today; not in the future, not "
    "before the acceptance) and taken while the resolution period still runs: once it has ended, 409 "
    "`period_already_ended` with its `due_date` (an overdue case stays overdue). Recorded as a `complexity_decided` "
    "event on that date.",
)
async def decide_complexity(
    case_id: Id64, data: ComplexityIn, response: Response, ctx: Ctx, if_match: IfMatch = None
) -> CaseOut:
    return await _under_if_match(
        response,
        if_match,
        lambda v: action_service.decide_complexity(ctx.session, ctx.officer, case_id, v, data, **_kit(ctx)),
    )


@router.post(
    "/{case_id}/unlawful-resolution",
    response_model=CaseOut,
    summary="Ghi nhận việc giải quyết tố cáo không đúng pháp luật (cấp trên trực tiếp)",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
    description="LTC art. 38: the head of the unit directly above the resolver records that a decided denunciation "
    "was resolved unlawfully; the case is escalated to that unit (an `escalated` event with "
    "`ground: unlawful_resolution`).",
)
async def record_unlawful_resolution(
    case_id: Id64, data: UnlawfulResolutionIn, response: Response, ctx: Ctx, if_match: IfMatch = None
) -> CaseOut:
    return await _under_if_match(
        response,
        if_match,
        lambda v: action_service.record_unlawful_resolution(ctx.session, ctx.officer, case_id, v, data, **_kit(ctx)),
    )


@router.post(
    "/{case_id}/competence",
    response_model=CaseOut,
    summary="Xác định lại cơ quan có thẩm quyền (trước khi xử lý đơn)",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
    description="Only while the letter is `received`, by the receiving unit's desk or head; recorded as a "
    "`competence_corrected` event. Only the competent unit may then accept.",
)
async def correct_competence(
    case_id: Id64, data: CompetenceIn, response: Response, ctx: Ctx, if_match: IfMatch = None
) -> CaseOut:
    return await _under_if_match(
        response,
        if_match,
        lambda v: action_service.correct_competence(ctx.session, ctx.officer, case_id, v, data, **_kit(ctx)),
    )


@router.post(
    "/{case_id}/accused",
    response_model=CaseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Ghi nhận người bị tố cáo / bị khiếu nại sau khi tiếp nhận",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
    description="The desk or head of the unit holding the case names an accused party: an officer (`officer_id`; "
    "their name from their account unless `full_name` is given) or a person by `full_name`. An officer named no "
    "longer finds the case or its register entry. The rules of intake hold (at most 3 officers; a head only where "
    "the unit above settles it: 422 `accused_head_competence`); 409 `already_accused`. An `accused_added` event "
    "(with `oversight_escalated` when the naming leaves no inspector to read the case), audited; needs If-Match.",
)
async def add_accused(
    case_id: Id64, data: AccusedIn, response: Response, ctx: Ctx, if_match: IfMatch = None
) -> CaseOut:
    return await _under_if_match(
        response, if_match, lambda v: accused_service.add(ctx.session, ctx.officer, case_id, v, data, **_kit(ctx))
    )


@router.delete(
    "/{case_id}/accused/{party_id}",
    response_model=CaseOut,
    summary="Bỏ người bị tố cáo / bị khiếu nại đã ghi nhận",
    responses=http_errors.responses(403, 404, 412, 422, 428),
    description="The head of the unit holding the case removes an accused party, giving a `reason` (403 "
    "`accused_removal_head_only` for the desk; 404 `party_not_found` for any other party). The link is kept, marked "
    "removed: the party leaves the case's parties, but an officer once named never reads the case, its register "
    "line or its identities again, and the case is never transferred to a unit they head. An `accused_removed` "
    "event (the reason sealed on a protected case), audited; needs If-Match.",
)
async def remove_accused(
    case_id: Id64, party_id: Id64, data: AccusedRemoveIn, response: Response, ctx: Ctx, if_match: IfMatch = None
) -> CaseOut:
    return await _under_if_match(
        response,
        if_match,
        lambda v: accused_service.remove(ctx.session, ctx.officer, case_id, party_id, v, data, **_kit(ctx)),
    )


@router.post(
    "/{case_id}/notices",
    response_model=CaseOut,
    summary="Ghi nhận đã thông báo / gửi / công khai",
    responses=http_errors.responses(403, 404, 422),
    description="Completes a notification timer (the notice itself goes out on paper or by post). A notice meets "
    "exactly one duty: the one for the decision it sends, named by `decision_date` (that duty's start), or by default "
    "the latest open duty of that name started on or before `sent_on` (Decree 155/2026: a case suspended twice owes "
    "two notices). 422 `no_such_notice` (with `open_decisions` when `decision_date` matches no open duty).",
)
async def record_notice(
    case_id: Id64,
    data: NoticeIn,
    ctx: Ctx,
) -> CaseOut:
    return await dialogue_service.record_notice(
        ctx.session,
        ctx.officer,
        case_id,
        data.timer,
        data.sent_on,
        data.recipients,
        data.recipient_party_ids,
        decision_date=data.decision_date,
        today=today(),
        env=ctx.env,
        vault=vault_for(ctx.settings),
    )


@router.post(
    "/{case_id}/dialogues",
    response_model=DialogueOut,
    status_code=status.HTTP_201_CREATED,
    summary="Ghi nhận đối thoại",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def add_dialogue(case_id: Id64, data: DialogueIn, ctx: Ctx) -> DialogueOut:
    return await dialogue_service.add_dialogue(
        ctx.session, ctx.officer, case_id, data, today=today(), vault=vault_for(ctx.settings)
    )


@router.get(
    "/{case_id}/dialogues",
    response_model=Page[DialogueOut],
    summary="Các lần đối thoại",
    responses=http_errors.responses(404, 422),
)
async def list_dialogues(
    case_id: Id64, ctx: Ctx, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[DialogueOut]:
    case = await query_service.get_readable(ctx.session, ctx.officer, case_id)
    assert case.id is not None
    rows, next_cursor = await dialogue_service.dialogues(ctx.session, case.id, limit=limit, cursor=cursor)
    sealed = [d.id for d in rows if d.sealed is not None and d.id is not None]
    vault = vault_for(ctx.settings)
    items = await query_service.open_sealed(
        ctx.session,
        ctx.officer,
        case,
        {"dialogue_ids": sealed},
        lambda reveal: [presenters.dialogue(d, reveal, vault) for d in rows],
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{case_id}/enforcement",
    response_model=CaseOut,
    summary="Ghi nhận kết quả thi hành quyết định / kết luận (biểu 05/KQTH)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def record_enforcement(case_id: Id64, data: EnforcementIn, ctx: Ctx) -> CaseOut:
    return await enforcement_service.record(
        ctx.session, ctx.officer, case_id, data, today=today(), env=ctx.env, vault=vault_for(ctx.settings)
    )


@router.post(
    "/{case_id}/duplicates/{original_id}/confirm",
    response_model=CaseOut,
    summary="Xác nhận đơn trùng: lưu đơn, giữ liên kết với đơn gốc",
    description="The `store` action with reason_code `duplicate` and `duplicate_of_case_id`; needs If-Match.",
    responses=http_errors.responses(403, 404, 409, 412, 422, 428),
)
async def confirm_duplicate(
    case_id: Id64,
    original_id: Id64,
    response: Response,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> CaseOut:
    body = ActionIn(reason_code="duplicate", duplicate_of_case_id=original_id)
    return await _perform(ctx, response, case_id, Action.store, if_match, body)


@router.post(
    "/{case_id}/duplicates/{other_id}/dismiss",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bỏ gợi ý đơn trùng (không cùng vụ việc)",
    responses=http_errors.responses(403, 404),
)
async def dismiss_duplicate(case_id: Id64, other_id: Id64, ctx: Ctx) -> Response:
    await duplicate_service.dismiss(ctx.session, ctx.officer, case_id, other_id)
    return Response(status_code=204)
