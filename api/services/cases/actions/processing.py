"""The processing of a letter (xử lý đơn): the one step out of `received` — accept, reject, transfer, guide, store.
Each ends the processing periods; `transfer` makes the receiving unit's copy with its parties and first event."""

import sqlalchemy as sa

from api.errors import Code, DomainError, UnitNotFound
from api.models.cases import Case, CaseParty
from api.models.unit import Unit
from api.services.calendar import store_timers
from api.services.cases import access, domain, intake, queries, trail
from api.services.cases.actions.context import Ctx, code_in, end_processing, require
from workflows import deadlines as dl
from workflows.cases import ACCEPTANCE_DOCUMENTS, Kind, Status, refusals_for, store_reasons_for


async def accept(ctx: Ctx) -> None:
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
    end_processing(ctx)
    if ctx.body.complexity is not None:  # the resolver decides complexity, at acceptance or later
        case.complexity = ctx.body.complexity.value
    case.accepted_on = ctx.on
    ctx.timers += dl.acceptance_timers(domain.facts(case), ctx.on, ctx.env.rules)


async def reject(ctx: Ctx) -> None:
    grounds = refusals_for(Kind(ctx.case.kind))
    ctx.case.reason_code = code_in(ctx.body.reason_code, {k: g.text for k, g in grounds.items()}, "reason_code")
    require(ctx.body.reason, "reason", "Phải nêu lý do không thụ lý bằng văn bản")
    ctx.payload["legal_basis"] = grounds[ctx.case.reason_code].legal_basis
    end_processing(ctx)


async def transfer(ctx: Ctx) -> None:
    case, body = ctx.case, ctx.body
    to_unit_id = require(body.to_unit_id, "to_unit_id", "Thiếu đơn vị nhận")
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
    end_processing(ctx)


async def guide(ctx: Ctx) -> None:
    require(ctx.body.reason, "reason", "Phải ghi nội dung hướng dẫn")
    end_processing(ctx)


async def store(ctx: Ctx) -> None:
    ctx.case.reason_code = code_in(ctx.body.reason_code, store_reasons_for(Kind(ctx.case.kind)), "reason_code")
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
    end_processing(ctx)
