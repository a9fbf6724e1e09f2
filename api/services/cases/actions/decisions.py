"""Commands on a case outside the transition table, each under If-Match and ending in `queries.record_step`: the
head's complexity decision, the unit above recording an unlawful resolution, the desk correcting who is
competent."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import ActionNotAllowed, Code, DomainError, UnitNotFound
from api.models.cases.schemas import CaseOut, CompetenceIn, ComplexityIn, UnlawfulResolutionIn
from api.models.unit import Unit
from api.services import outbox
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import access, domain, intake, queries, trail
from api.vault import Vault
from workflows import deadlines as dl
from workflows.cases import Kind, Role, Status


async def decide_complexity(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    if_match: int,
    data: ComplexityIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """The head of the unit settling the case sets or raises its complexity while it is being settled; a
    complaint's resolution period follows (recorded as a `complexity_decided` event with the reason). The decision
    is dated on its real day (default today), not before the acceptance, and taken while the resolution period
    still runs (LKN art. 28; LEGAL.md): raised after the period ended it would clear an overdue."""
    loaded = await queries.locked(session, principal, case_id, if_match)
    case = loaded.case
    complexity = data.complexity.value
    if case.status not in (Status.accepted, Status.in_progress, Status.suspended):
        raise ActionNotAllowed(action="decide_complexity", status=case.status, allowed_actions=[])
    if Role.unit_head.value not in access.acting_roles(principal, case):
        raise DomainError(Code.not_your_unit)
    order = dl.COMPLEXITY_ORDER
    if order.index(complexity) < order.index(case.complexity):
        raise DomainError(Code.complexity_lowered, details={"field": "complexity", "current": case.complexity})
    on = data.effective_date or today
    domain.validate_effective_date(on, received_at=case.received_at, today=today, previous=case.accepted_on)
    timers = domain.load_timers(case)
    if case.kind == Kind.complaint:  # the decision lengthens the period only while it runs
        ended = dl.period_ended(timers, "resolution", on, env.cal)
        if ended is not None:
            raise DomainError(
                Code.period_already_ended,
                details={"field": "effective_date", "effective_date": on.isoformat(), "due_date": ended.isoformat()},
            )
    before = case.complexity
    case.complexity = complexity
    store_timers(case, dl.recomplexed(timers, domain.facts(case), env.rules), env)
    step = trail.Step("complexity_decided", on, data.reason, {"from": before, "to": complexity})
    return await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)


async def record_unlawful_resolution(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    if_match: int,
    data: UnlawfulResolutionIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """LTC art. 38: the head of the unit directly above the resolver records that a decided denunciation was resolved
    unlawfully; like an unresolved period, it escalates the case to that unit (an `escalated` event with the ground,
    `escalated_to_unit_id` set once)."""
    loaded = await queries.locked(session, principal, case_id, if_match)
    case = loaded.case
    above = await session.scalar(sa.select(Unit.parent_id).where(Unit.id == case.competent_unit_id))
    if above is None or principal.unit_id != above or not principal.has(Role.unit_head):
        raise DomainError(Code.not_your_unit)
    if case.kind != Kind.denunciation or case.status not in (Status.resolved, Status.closed):
        raise ActionNotAllowed(action="unlawful_resolution", status=case.status, allowed_actions=[])
    on = data.effective_date or today
    domain.validate_effective_date(on, received_at=case.received_at, today=today, previous=case.decision_date)
    if case.escalated_to_unit_id is None:
        case.escalated_to_unit_id = above
    payload: dict[str, Any] = {"to_unit_id": above, "ground": "unlawful_resolution", "legal_basis": "LTC art. 38"}
    if data.decision_number:
        payload["decision_number"] = data.decision_number
    await outbox.enqueue_many(
        session,
        [
            (
                "deadline.escalated",
                case_id,
                {"case_id": case_id, "tracking_code": case.tracking_code, "to_unit_id": above, **payload},
            )
        ],
    )
    step = trail.Step("escalated", on, data.reason, payload)
    return await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)


async def correct_competence(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    if_match: int,
    data: CompetenceIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """The desk (or head) of the receiving unit records which unit is competent, before the letter is processed;
    the processing timers follow (a denunciation for another unit must be transferred within 5 working days)."""
    loaded = await queries.locked(session, principal, case_id, if_match)
    case = loaded.case
    competent_unit_id = data.competent_unit_id
    if case.status != Status.received:
        raise ActionNotAllowed(action="correct_competence", status=case.status, allowed_actions=[])
    access.ensure_desk_or_head(principal, case)
    target = await session.get(Unit, competent_unit_id)
    if target is None or not target.is_active:
        raise UnitNotFound("competent_unit_id")
    receiving_path = await session.scalar(sa.select(Unit.path).where(Unit.id == case.receiving_unit_id))
    accused = [p.officer_id for p in loaded.parties if p.officer_id is not None]
    await intake.check_accused_officers(session, accused, target.path)
    before = case.competent_unit_id
    case.competent_unit_id = competent_unit_id
    case.level_skipping = competent_unit_id != case.receiving_unit_id and target.path.startswith(receiving_path or "")
    store_timers(case, dl.intake_timers(domain.facts(case), case.received_at, env.rules), env)
    payload = {"from_unit_id": before, "to_unit_id": competent_unit_id, "level_skipping": case.level_skipping}
    step = trail.Step("competence_corrected", today, data.reason, payload)
    return await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)
