"""The settlement of an accepted case (giải quyết): assign, extend, suspend, resume, withdraw, terminate, resolve,
close — each with the legal rule it applies and the timers it moves."""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from api.errors import Code, DomainError
from api.models.cases import CaseAssignment, CaseDialogue, CaseEvent, CaseParty
from api.models.user import User
from api.services.cases import domain
from api.services.cases.actions.context import PROCESSING_TIMERS, Ctx, code_in, decision_needed, require
from workflows import deadlines as dl
from workflows.cases import (
    AUTHOR_ROLES,
    TERMINATE_REASONS,
    WITHDRAWAL_EXCEPTIONS,
    WITHDRAWAL_LEGAL_BASIS,
    Kind,
    Role,
    Status,
    dialogue_required,
    outcomes_for,
)


async def assign(ctx: Ctx) -> None:
    case = ctx.case
    ids = sorted(set(require(ctx.body.handler_ids, "handler_ids", "Phải chọn người xác minh")))
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


async def extend(ctx: Ctx) -> None:
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
    require(body.decision_number, "decision_number", "Gia hạn phải có quyết định")
    require(body.reason, "reason", "Gia hạn phải nêu lý do")
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


async def suspend(ctx: Ctx) -> None:
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
    require(ctx.body.reason, "reason", "Tạm đình chỉ phải nêu lý do, căn cứ")
    require(ctx.body.decision_number, "decision_number", "Tạm đình chỉ phải có quyết định")
    case.status_before_suspension = case.status
    ctx.timers = dl.pause(ctx.timers, ctx.on)  # the resolution period only; duties keep running
    ctx.timers += dl.procedural_notice("notify_suspension", domain.facts(case), ctx.on, ctx.env.rules)


async def resume(ctx: Ctx) -> None:
    paused = [t.paused_since for t in ctx.timers if t.paused_since is not None]
    if paused and ctx.on < max(paused):
        raise DomainError(Code.date_before_suspension, details={"field": "effective_date"})
    require(ctx.body.decision_number, "decision_number", "Tiếp tục giải quyết phải có quyết định")
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


async def withdraw(ctx: Ctx) -> None:
    """LKN art. 10, LTC art. 33: a named party withdraws, and the desk records it. One of several authors
    withdrawing does not end the case; once accepted, a case ends only by the head's termination decision
    (`terminate`, reason `withdrawn`: LKN art. 11a as amended, LTC art. 34); a letter withdrawn before it was
    accepted ends its processing (a denunciation's withdrawal is only recorded: LTC art. 33)."""
    case, body = ctx.case, ctx.body
    scope = body.scope or "full"
    ctx.payload["scope"] = scope
    party_id = require(body.party_id, "party_id", "Ghi rõ người rút đơn")
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
        code_in(exception, WITHDRAWAL_EXCEPTIONS, "exception_code")
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


async def terminate(ctx: Ctx) -> None:
    case = ctx.case
    kind = Kind(case.kind)
    reasons = TERMINATE_REASONS.get(kind, TERMINATE_REASONS[Kind.complaint])
    reason_code = code_in(ctx.body.reason_code, reasons, "reason_code")
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
    decision_needed(ctx)
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


async def resolve(ctx: Ctx) -> None:
    case, body = ctx.case, ctx.body
    kind = Kind(case.kind)
    allowed = outcomes_for(kind, case.complaint_round or 1)
    outcome = require(body.outcome, "outcome", "Thiếu kết quả giải quyết")
    if outcome not in allowed:
        raise DomainError(Code.invalid_outcome, details={"field": "outcome", "allowed": sorted(allowed)})
    decision_needed(ctx)
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


async def close(ctx: Ctx) -> None:
    ctx.case.closed_on = ctx.on
    # Closing ends the periods of the settlement, not the duty to notify: an unmet notice stays unmet (and
    # becomes late when recorded after its due date).
    open_ = {t.name for t in ctx.timers if t.is_open() and t.name not in dl.NOTICE_TIMERS}
    ctx.timers = dl.complete(ctx.timers, open_, ctx.on)
