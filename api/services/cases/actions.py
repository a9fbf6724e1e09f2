"""Case actions: `POST /cases/{id}/actions/{action}`. One transaction per action: lock the case,
check the version (If-Match), consult the transition table, apply the domain rule, record the event."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import ActionNotAllowed, Code, DomainError, UnitNotFound
from api.models.cases import Case, CaseAssignment, CaseDialogue, CaseEvent, CaseParty
from api.models.cases.schemas import ActionIn, CaseOut, CompetenceIn, ComplexityIn, UnlawfulResolutionIn
from api.models.unit import Unit
from api.models.user import User
from api.services import outbox
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import access, domain, intake, queries, trail
from api.services.citizen.status import public_event, public_status
from api.vault import Vault
from workflows import deadlines as dl
from workflows.cases import (
    ACCEPTANCE_DOCUMENTS,
    AUTHOR_ROLES,
    PREVIOUS,
    TERMINATE_REASONS,
    TRANSITIONS,
    WITHDRAWAL_EXCEPTIONS,
    WITHDRAWAL_LEGAL_BASIS,
    Action,
    Kind,
    Role,
    Status,
    allowed_actions,
    dialogue_required,
    outcomes_for,
    refusals_for,
    store_reasons_for,
    transition,
)

PROCESSING_TIMERS = {"processing", "acceptance", "transfer"}


@dataclass
class Ctx:
    session: AsyncSession
    principal: Officer
    case: Case
    body: ActionIn
    on: date
    env: DeadlineEnv
    timers: list[dl.Timer]
    payload: dict[str, Any] = field(default_factory=dict)
    next_status: str | None = None  # set by a handler when the table's target does not apply


def _require(value: Any, field_name: str, message: str) -> Any:
    if value in (None, "", []):
        raise DomainError(Code.missing_field, details={"field": field_name, "hint": message})
    return value


def _code(value: str | None, allowed: dict[str, str], field_name: str) -> str:
    _require(value, field_name, "Thiếu mã lý do")
    if value not in allowed:
        raise DomainError(Code.invalid_reason_code, details={"field": field_name, "allowed": sorted(allowed)})
    assert value is not None
    return value


def _decision_needed(ctx: Ctx) -> None:
    if ctx.case.kind in (Kind.complaint, Kind.denunciation):
        _require(ctx.body.decision_number, "decision_number", "Thiếu số quyết định / văn bản")


def _end_processing(ctx: Ctx) -> None:
    ctx.timers = dl.complete(ctx.timers, PROCESSING_TIMERS, ctx.on)


async def _accept(ctx: Ctx) -> None:
    case = ctx.case
    if case.kind == Kind.denunciation and case.is_anonymous:
        raise DomainError(Code.anonymous_denunciation, details={"allowed_actions": ["store"]})
    if case.competent_unit_id != case.receiving_unit_id:
        # Only the competent body accepts (LKN art. 27, LTC art. 24): elsewhere, and for a level-skipping
        # letter, the letter is guided or transferred (or the desk corrects who is competent first).
        raise DomainError(
            Code.not_competent_to_accept,
            details={"competent_unit_id": case.competent_unit_id, "allowed_actions": ["transfer", "guide", "store"]},
        )
    document = ACCEPTANCE_DOCUMENTS.get(Kind(case.kind))
    if document is not None:
        # An acceptance without its notice (LKN art. 27, 36) or decision (LTC art. 29), numbered and dated, is not
        # an acceptance: both are given, never defaulted.
        given = {"decision_number": ctx.body.decision_number, "effective_date": ctx.body.effective_date}
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise DomainError(
                Code.acceptance_document_missing,
                details={
                    "field": missing[0],
                    "missing": missing,
                    "document": document.name,
                    "legal_basis": document.legal_basis,
                },
            )
        ctx.payload["legal_basis"] = document.legal_basis
    _end_processing(ctx)
    if ctx.body.complexity is not None:  # the resolver decides complexity, at acceptance or later
        case.complexity = ctx.body.complexity.value
    case.accepted_on = ctx.on
    ctx.timers += dl.acceptance_timers(domain.facts(case), ctx.on, ctx.env.rules)


async def _reject(ctx: Ctx) -> None:
    grounds = refusals_for(Kind(ctx.case.kind))
    ctx.case.reason_code = _code(ctx.body.reason_code, {k: g.text for k, g in grounds.items()}, "reason_code")
    _require(ctx.body.reason, "reason", "Phải nêu lý do không thụ lý bằng văn bản")
    ctx.payload["legal_basis"] = grounds[ctx.case.reason_code].legal_basis
    _end_processing(ctx)


async def _transfer(ctx: Ctx) -> None:
    case, body = ctx.case, ctx.body
    to_unit_id = _require(body.to_unit_id, "to_unit_id", "Thiếu đơn vị nhận")
    if to_unit_id == case.receiving_unit_id:  # the unit holding the letter
        raise DomainError(Code.same_unit, details={"field": "to_unit_id"})
    target = await ctx.session.get(Unit, to_unit_id)
    if target is None or not target.is_active:
        raise UnitNotFound("to_unit_id")
    if case.transferred_from_case_id is not None:
        raise DomainError(Code.already_transferred)
    assert case.id is not None
    parties = await queries.load_parties(ctx.session, case.id)
    # Officers once named (removed links too) stay excluded: never a transfer to a unit one of them heads.
    named = [p.officer_id for p in parties if p.officer_id and p.removed_at is None]
    once_named = [p.officer_id for p in parties if p.officer_id]
    await intake.check_accused_officers(ctx.session, named, target.path, once_named=once_named)
    copy = Case(
        **{
            k: getattr(case, k)
            for k in (
                "kind",
                "field",
                "title",
                "content",
                "sealed_text",  # a denunciation's text stays sealed in the copy, and found by the same words
                "text_words",
                "complaint_round",
                "previous_case_id",
                "decision_known_date",
                "complexity",
                "signer_count",
                "is_anonymous",
                "multi_place_verification",
                "disciplinary",
                "identity_protected",  # the sender's request for protection follows the matter
                "repeat_of_case_id",
            )
        },
        tracking_code="",
        access_key_hash="",
        channel="transferred_in",
        received_at=ctx.on,
        receiving_unit_id=target.id,
        competent_unit_id=target.id,
        received_by_id=ctx.principal.id,
        # An officer's setting follows the matter; a flag taken from a unit follows the unit now competent.
        remote_area=case.remote_area if case.remote_area_explicit else target.remote_area,
        remote_area_explicit=case.remote_area_explicit,
        level_skipping=False,
        transferred_from_case_id=case.id,
        status=Status.received.value,
        version=1,
        remedies={},
        extension_count=0,
        warnings=[],
    )
    copy.tracking_code = intake.new_tracking_code(ctx.on.year)
    copy.access_key_hash = case.access_key_hash  # the citizen keeps following the matter with the same key
    store_timers(copy, dl.intake_timers(domain.facts(copy), ctx.on, ctx.env.rules), ctx.env)
    ctx.session.add(copy)
    await ctx.session.flush()
    assert copy.id is not None
    copied = [
        CaseParty(
            case_id=copy.id,
            role=p.role,
            full_name=p.full_name,
            id_number=p.id_number,
            phone=p.phone,
            address=p.address,
            officer_id=p.officer_id,
            sealed=p.sealed,
            id_number_hash=p.id_number_hash,
            removed_at=p.removed_at,  # a removed accused link follows the matter: its officer stays excluded
            removed_by_id=p.removed_by_id,
        )
        for p in parties
    ]
    ctx.session.add_all(copied)
    # A case always keeps an overseer (H2, issue 21): an escalation the accused links cause is on the copy's record.
    oversight = await access.oversight_of(
        ctx.session, frozenset(p.officer_id for p in parties if p.officer_id is not None), copy.receiving_unit_id
    )
    payload = {
        "transferred_from_case_id": case.id,
        "from_unit_id": case.competent_unit_id,
        **({"oversight_escalated": oversight.reason} if oversight.escalated else {}),
        trail.STATE_KEY: trail.state_digest(copy, copied),
    }
    created = trail.Step("create", ctx.on, payload=payload, to_status=Status.received.value)
    await trail.append(ctx.session, created, case_id=copy.id, actor_id=ctx.principal.id, head=(0, trail.GENESIS))
    case.transferred_to_case_id = copy.id
    ctx.payload["new_case_id"] = copy.id
    _end_processing(ctx)


async def _guide(ctx: Ctx) -> None:
    _require(ctx.body.reason, "reason", "Phải ghi nội dung hướng dẫn")
    _end_processing(ctx)


async def _store(ctx: Ctx) -> None:
    ctx.case.reason_code = _code(ctx.body.reason_code, store_reasons_for(Kind(ctx.case.kind)), "reason_code")
    original = ctx.body.duplicate_of_case_id
    if original is not None:
        # A duplicate may name the letter it duplicates (one the officer can read): the link is kept.
        if ctx.case.reason_code != "duplicate":
            raise DomainError(
                Code.validation_error, details={"field": "duplicate_of_case_id", "hint": "reason_code duplicate"}
            )
        found = original != ctx.case.id and await ctx.session.scalar(
            sa.select(Case.id).where(Case.id == original, access.readable(ctx.principal))
        )
        if not found:
            raise DomainError(Code.duplicate_target_not_found, details={"field": "duplicate_of_case_id"})
        ctx.case.duplicate_of_case_id = original
        ctx.payload["duplicate_of_case_id"] = original
    if ctx.body.inspection_lead:
        ctx.payload["inspection_lead"] = True
    _end_processing(ctx)


async def _assign(ctx: Ctx) -> None:
    case = ctx.case
    ids = sorted(set(_require(ctx.body.handler_ids, "handler_ids", "Phải chọn người xác minh")))
    users = {u.id: u for u in (await ctx.session.scalars(sa.select(User).where(User.id.in_(ids)))).all()}
    accused = set(
        (
            await ctx.session.scalars(
                sa.select(CaseParty.officer_id).where(CaseParty.case_id == case.id, CaseParty.officer_id.is_not(None))
            )
        ).all()
    )
    for uid in ids:
        user = users.get(uid)
        if (
            user is None
            or not user.is_active
            or Role.handler.value not in user.roles
            or user.unit_id != case.competent_unit_id
        ):
            raise DomainError(Code.invalid_handler, details={"field": "handler_ids", "user_id": uid})
        if uid in accused:
            raise DomainError(Code.handler_is_accused, details={"field": "handler_ids", "user_id": uid})
    await ctx.session.execute(sa.delete(CaseAssignment).where(CaseAssignment.case_id == case.id))
    for uid in ids:
        assert case.id is not None
        ctx.session.add(CaseAssignment(case_id=case.id, user_id=uid))
    ctx.payload["handler_ids"] = ids


async def _extend(ctx: Ctx) -> None:
    case, body = ctx.case, ctx.body
    if case.kind != Kind.denunciation:
        raise DomainError(Code.extension_not_allowed)
    # Extensions are decided while the period runs: an overdue case stays overdue in the record.
    running = [t for t in ctx.timers if t.name == "resolution" and t.is_open()]
    if running and ctx.on > running[0].due_date(ctx.env.cal):
        raise DomainError(
            Code.extension_after_deadline,
            details={"field": "effective_date", "due_date": running[0].due_date(ctx.env.cal).isoformat()},
        )
    _require(body.decision_number, "decision_number", "Gia hạn phải có quyết định")
    _require(body.reason, "reason", "Gia hạn phải nêu lý do")
    complexity = body.complexity.value if body.complexity else case.complexity
    # LTC art. 30: an extension never lowers the complexity the head decided (an especially complex case keeps its
    # second extension); naming a lower one keeps the higher.
    complexity = max(complexity, case.complexity, key=dl.COMPLEXITY_ORDER.index)
    if complexity == "normal":
        complexity = "complex"  # an extension means the case is at least complex
    cap = dl.rules_on(ctx.on, ctx.env.rules).max_extensions(complexity)
    if case.extension_count >= cap:
        raise DomainError(Code.extension_limit, details={"complexity": complexity, "max_extensions": cap})
    days = body.extension_days or dl.rules_on(ctx.on, ctx.env.rules).denunciation_extension_max_days
    case.complexity = complexity
    case.extension_count += 1
    ctx.timers = dl.extend(ctx.timers, "resolution", days)
    ctx.timers += dl.extension_notice(domain.facts(case), ctx.on, ctx.env.rules)  # LTC art. 30: notified to the parties
    ctx.payload.update(extension_days=days, complexity=complexity, extension_number=case.extension_count)


async def _suspend(ctx: Ctx) -> None:
    case = ctx.case
    if case.kind == Kind.complaint:
        # LKN art. 11a (Law 136/2025) applies to complaints accepted from 2026-07-01: the transition keeps a complaint
        # accepted earlier under the rules in force when it was accepted, which had no suspension.
        accepted_on = case.accepted_on or ctx.on
        rules = dl.rules_on(accepted_on, ctx.env.rules)
        if not rules.complaint_suspension_allowed:
            in_force = min((s.effective_from for s in ctx.env.rules if s.complaint_suspension_allowed), default=None)
            raise DomainError(
                Code.suspension_not_in_force,
                details={
                    "accepted_on": accepted_on.isoformat(),
                    "rules": rules.name,
                    "suspension_from": in_force.isoformat() if in_force else None,
                    "legal_basis": "LKN art. 11a (Law 136/2025/QH15): complaints accepted from its entry into force",
                },
            )
    if case.kind not in (Kind.complaint, Kind.denunciation):
        raise DomainError(Code.suspension_not_available)
    # Suspended time is not counted (LKN art. 11a, LTC art. 34): a suspension stops a period that still runs; one
    # dated after the period ended would hide the overdue, so it is refused as a late complexity decision is.
    ended = dl.period_ended(ctx.timers, "resolution", ctx.on, ctx.env.cal)
    if ended is not None:
        raise DomainError(
            Code.period_already_ended,
            details={"field": "effective_date", "effective_date": ctx.on.isoformat(), "due_date": ended.isoformat()},
        )
    _require(ctx.body.reason, "reason", "Tạm đình chỉ phải nêu lý do, căn cứ")
    _require(ctx.body.decision_number, "decision_number", "Tạm đình chỉ phải có quyết định")
    case.status_before_suspension = case.status
    ctx.timers = dl.pause(ctx.timers, ctx.on)  # the resolution period only; duties keep running
    ctx.timers += dl.procedural_notice("notify_suspension", domain.facts(case), ctx.on, ctx.env.rules)


async def _resume(ctx: Ctx) -> None:
    paused = [t.paused_since for t in ctx.timers if t.paused_since is not None]
    if paused and ctx.on < max(paused):
        raise DomainError(Code.date_before_suspension, details={"field": "effective_date"})
    _require(ctx.body.decision_number, "decision_number", "Tiếp tục giải quyết phải có quyết định")
    ctx.next_status = ctx.case.status_before_suspension or Status.in_progress.value
    ctx.case.status_before_suspension = None
    ctx.timers = dl.resume(ctx.timers, ctx.on, ctx.env.cal)
    ctx.timers += dl.procedural_notice("notify_resumption", domain.facts(ctx.case), ctx.on, ctx.env.rules)


AUTHORS = ("complainant", "denouncer", "petitioner")


async def _withdrawn_party_ids(ctx: Ctx) -> tuple[set[int], bool]:
    """Parties who already withdrew in full, and whether an LTC art. 33 exception was ever recorded."""
    rows = (
        await ctx.session.execute(
            sa.select(CaseEvent.payload).where(CaseEvent.case_id == ctx.case.id, CaseEvent.action == "withdraw")
        )
    ).scalars()
    withdrawn, exception = set(), False
    for payload in rows:
        exception = exception or "exception_code" in payload
        if payload.get("scope") == "full" and payload.get("party_id") is not None:
            withdrawn.add(int(payload["party_id"]))
    return withdrawn, exception


async def _withdraw(ctx: Ctx) -> None:
    """LKN art. 10, LTC art. 33: a named party withdraws, and the desk records it. One of several authors
    withdrawing does not end the case; once accepted, a case ends only by the head's termination decision
    (`terminate`, reason `withdrawn`: LKN art. 11a as amended, LTC art. 34); a letter withdrawn before it was
    accepted ends its processing (a denunciation's withdrawal is only recorded: LTC art. 33)."""
    case, body = ctx.case, ctx.body
    scope = body.scope or "full"
    ctx.payload["scope"] = scope
    party_id = _require(body.party_id, "party_id", "Ghi rõ người rút đơn")
    authors = {
        p.id: p.role
        for p in (await ctx.session.scalars(sa.select(CaseParty).where(CaseParty.case_id == case.id))).all()
        if p.role in (*AUTHORS, "representative")
    }
    if party_id not in authors:
        raise DomainError(Code.invalid_party, details={"field": "party_id"})
    withdrawn, _ = await _withdrawn_party_ids(ctx)
    if party_id in withdrawn:
        raise DomainError(Code.already_withdrawn, details={"field": "party_id"})
    ctx.payload["party_id"] = party_id
    exception = body.exception_code
    if exception is not None:
        if case.kind != Kind.denunciation:
            raise DomainError(Code.invalid_exception_code, details={"field": "exception_code"})
        _code(exception, WITHDRAWAL_EXCEPTIONS, "exception_code")
        ctx.payload["exception_code"] = exception
    remaining = {i for i, role in authors.items() if role in AUTHORS} - withdrawn - {party_id}
    before_acceptance = case.status == Status.received and case.kind != Kind.denunciation
    if scope == "partial" or exception is not None or remaining or not before_acceptance:
        # Partial, another author still pursues it, or an accepted case or a denunciation (which only the head's
        # termination decision ends, and a denunciation not at all with an art. 33 exception): recorded only.
        ctx.payload["authors_remaining"] = len(remaining)
        if case.kind in WITHDRAWAL_LEGAL_BASIS:
            ctx.payload["legal_basis"] = WITHDRAWAL_LEGAL_BASIS[Kind(case.kind)]
        ctx.next_status = case.status
        return
    case.reason_code = "withdrawn"
    ctx.timers = dl.complete(ctx.timers, None, ctx.on)


async def _terminate(ctx: Ctx) -> None:
    case = ctx.case
    kind = Kind(case.kind)
    reasons = TERMINATE_REASONS.get(kind, TERMINATE_REASONS[Kind.complaint])
    reason_code = _code(ctx.body.reason_code, reasons, "reason_code")
    if kind == Kind.complaint:
        # Law 136/2025's transition keeps a complaint accepted before 2026-07-01 under the rules in force when it was
        # accepted: terminated only on withdrawal (LKN art. 10), not on LKN art. 11a's new grounds.
        accepted_on = case.accepted_on or ctx.on
        rules = dl.rules_on(accepted_on, ctx.env.rules)
        grounds = rules.complaint_termination_reasons
        if grounds is not None and reason_code not in grounds:
            raise DomainError(
                Code.termination_ground_not_in_force,
                details={
                    "field": "reason_code",
                    "accepted_on": accepted_on.isoformat(),
                    "rules": rules.name,
                    "allowed": sorted(grounds),
                    "legal_basis": "LKN art. 10 (before Law 136/2025); LKN art. 11a for complaints accepted from "
                    "2026-07-01",
                },
            )
    _decision_needed(ctx)
    if reason_code == "withdrawn":
        # Every author withdrew in full, and (a denunciation) no LTC art. 33 exception was recorded.
        withdrawn, exception = await _withdrawn_party_ids(ctx)
        authors = set(
            (
                await ctx.session.scalars(
                    sa.select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.role == AUTHOR_ROLES[kind])
                )
            ).all()
        )
        if exception or not authors or not authors <= withdrawn:
            raise DomainError(
                Code.withdrawal_does_not_end,
                details={
                    "exception_recorded": exception,
                    "authors_not_withdrawn": sorted(authors - withdrawn),
                    "legal_basis": WITHDRAWAL_LEGAL_BASIS.get(kind, "LKN art. 10"),
                },
            )
    case.reason_code = reason_code
    case.decision_number, case.decision_date = ctx.body.decision_number, ctx.on
    open_ = {t.name for t in ctx.timers if t.is_open() and t.name not in dl.NOTICE_TIMERS}
    ctx.timers = dl.complete(ctx.timers, open_, ctx.on)
    ctx.timers += dl.procedural_notice("notify_termination", domain.facts(case), ctx.on, ctx.env.rules)


async def _resolve(ctx: Ctx) -> None:
    case, body = ctx.case, ctx.body
    kind = Kind(case.kind)
    allowed = outcomes_for(kind, case.complaint_round or 1)
    outcome = _require(body.outcome, "outcome", "Thiếu kết quả giải quyết")
    if outcome not in allowed:
        raise DomainError(Code.invalid_outcome, details={"field": "outcome", "allowed": sorted(allowed)})
    _decision_needed(ctx)
    if dialogue_required(kind, case.complaint_round or 1, outcome):
        held = await ctx.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseDialogue)
            .where(CaseDialogue.case_id == case.id, CaseDialogue.held_on <= ctx.on)
        )
        if not held:
            raise DomainError(Code.dialogue_required, details={"legal_basis": "LKN art. 30, 39"})
    case.outcome, case.decision_number, case.decision_date = outcome, body.decision_number, ctx.on
    case.remedies = _remedies_json(body.remedies)
    ctx.timers = dl.complete(ctx.timers, {"resolution", *PROCESSING_TIMERS}, ctx.on)
    ctx.timers += dl.resolution_timers(domain.facts(case), ctx.on, ctx.env.rules)


def _remedies_json(remedies: Any) -> dict[str, Any]:
    """JSON numbers (not strings) so statistics can sum them: whole VND and people, m² with decimals."""
    if remedies is None:
        return {}
    return {
        k: (int(v) if k.endswith("_vnd") else float(v)) if isinstance(v, Decimal) else v
        for k, v in remedies.model_dump().items()
    }


async def _close(ctx: Ctx) -> None:
    ctx.case.closed_on = ctx.on
    # Closing ends the periods of the settlement, not the duty to notify: an unmet notice stays unmet (and
    # becomes late when recorded after its due date).
    open_ = {t.name for t in ctx.timers if t.is_open() and t.name not in dl.NOTICE_TIMERS}
    ctx.timers = dl.complete(ctx.timers, open_, ctx.on)


def _milestones(
    case: Case, action: Action, status: Status, next_status: str, on: date, timers: list[dl.Timer], env: DeadlineEnv
) -> None:
    """The dates the statistics forms count by: the letter's processing (its first step out of `received`) and
    the end of its settlement, with whether the resolution period had run out by then."""
    if status is Status.received and next_status != Status.received and case.processed_on is None:
        case.processed_on, case.processed_as = on, action.value
    if next_status in (Status.resolved, Status.terminated) and status.value != next_status and case.settled_on is None:
        case.settled_on = on
        case.resolution_late = any(
            t.name == "resolution" and t.completed_on is not None and t.status(env.cal, on) is dl.TimerStatus.met_late
            for t in timers
        )


HANDLERS: dict[Action, Callable[[Ctx], Awaitable[None]]] = {
    Action.accept: _accept,
    Action.reject: _reject,
    Action.transfer: _transfer,
    Action.guide: _guide,
    Action.store: _store,
    Action.assign: _assign,
    Action.extend: _extend,
    Action.suspend: _suspend,
    Action.resume: _resume,
    Action.withdraw: _withdraw,
    Action.terminate: _terminate,
    Action.resolve: _resolve,
    Action.close: _close,
}


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


async def perform(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    action: Action,
    if_match: int,
    body: ActionIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """One action, one transaction: lock, check version and table, apply, record, commit; the response is
    built from what was written (and a protected identity shown in it is recorded in the same commit)."""
    loaded = await queries.locked(session, principal, case_id, if_match)
    case = loaded.case
    status = Status(case.status)
    t = transition(status, action, set(principal.roles))
    if t is None:
        exists = TRANSITIONS.get((status, action))
        raise ActionNotAllowed(
            action=action.value,
            status=status.value,
            allowed_actions=allowed_actions(status, access.acting_roles(principal, case)),
            required_roles=sorted(r.value for r in exists.roles) if exists else None,
        )
    access.ensure_may_act(principal, case, t)
    on = body.effective_date or today
    domain.validate_effective_date(on, received_at=case.received_at, today=today, previous=loaded.last_step_on)
    ctx = Ctx(
        session=session, principal=principal, case=case, body=body, on=on, env=env, timers=domain.load_timers(case)
    )
    await HANDLERS[action](ctx)
    loaded.handler_ids = ctx.payload.get("handler_ids", loaded.handler_ids)  # the state chained below covers them
    next_status = ctx.next_status or (t.to if t.to != PREVIOUS else status.value)
    store_timers(case, ctx.timers, env)
    case.status = next_status
    _milestones(case, action, status, next_status, on, ctx.timers, env)
    body_payload = body.model_dump(
        mode="json", exclude_none=True, exclude_defaults=True, exclude={"effective_date", "reason"}
    )
    payload = {**body_payload, **ctx.payload}
    step = trail.Step(action.value, on, body.reason, payload, from_status=status.value, to_status=next_status)
    queries.chain_step(session, principal, loaded, step, vault=vault)
    events: list[tuple[str, int | None, dict[str, Any]]] = [
        (
            "case.action",
            case_id,
            {
                "case_id": case_id,
                "tracking_code": case.tracking_code,
                "kind": case.kind,
                "action": action.value,
                "from_status": status.value,
                "to_status": next_status,
                "effective_date": on.isoformat(),
                "competent_unit_id": case.competent_unit_id,
                "version": case.version,
            },
        )
    ]
    if public_status(status.value) != public_status(next_status):
        # For citizen apps: the tracking code and the public status only.
        events.append(("case.public_status", case_id, public_event(case, next_status)))
    await outbox.enqueue_many(session, events)
    # The response (with any protected identity it shows) is built before the commit that records its reading.
    out = queries.view(principal, loaded, today=today, env=env, vault=vault)
    await session.commit()
    return out
