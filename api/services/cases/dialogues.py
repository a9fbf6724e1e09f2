"""Dialogues with the citizen (đối thoại) and notification duties (thông báo, gửi, công khai)."""

import json
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import CaseAssignment, CaseDialogue
from api.models.cases.schemas import CaseOut, DialogueIn, DialogueOut
from api.pagination import Keyset
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import access, domain, presenters, queries, trail
from api.vault import Vault
from workflows import confidentiality
from workflows import deadlines as dl
from workflows.cases import Role, Status


async def add_dialogue(
    session: AsyncSession, principal: Officer, case_id: int, data: DialogueIn, *, today: date, vault: Vault
) -> DialogueOut:
    case = await queries.get_readable(session, principal, case_id, lock=True)
    assigned = await session.scalar(
        sa.select(CaseAssignment.user_id).where(
            CaseAssignment.case_id == case.id, CaseAssignment.user_id == principal.id
        )
    )
    if Role.unit_head.value not in access.acting_roles(principal, case) and assigned is None:
        raise DomainError(Code.dialogue_forbidden)
    if case.status not in (Status.accepted, Status.in_progress, Status.suspended):
        raise DomainError(Code.dialogue_not_allowed, details={"status": case.status})
    domain.validate_effective_date(
        data.held_on, received_at=case.received_at, today=today, field="held_on", previous=case.accepted_on
    )
    assert case.id is not None
    participants, minutes, sealed, digest = data.participants, data.minutes, None, None
    # Who took part and what was said may name the denouncer (or a sender who asked for protection).
    if confidentiality.seals_free_text(case.kind, case.identity_protected):
        plain = {"participants": participants, "minutes": minutes}
        sealed = vault.seal(plain)
        digest = trail.mac(json.dumps(plain, sort_keys=True, ensure_ascii=False))
        participants, minutes = [], ""
    dialogue = CaseDialogue(
        case_id=case.id,
        held_on=data.held_on,
        participants=participants,
        minutes=minutes,
        sealed=sealed,
        agreement_reached=data.agreement_reached,
        complainant_absent=data.complainant_absent,
        recorded_by_id=principal.id,
    )
    session.add(dialogue)
    await session.flush()
    payload = {
        "dialogue_id": dialogue.id,
        "agreement_reached": data.agreement_reached,
        "complainant_absent": data.complainant_absent,
        "participants": len(data.participants),
        **({"sealed_digest": digest} if digest else {}),
    }
    step = trail.Step("dialogue", data.held_on, payload=payload)
    await trail.append(session, step, case_id=case.id, actor_id=principal.id)
    await session.commit()
    # As the recorder may see it (a handler recording a denunciation's dialogue gets it back masked).
    return presenters.dialogue(dialogue, access.sees_identity(principal, case), vault)


NOTICE_TIMERS = dl.NOTICE_TIMERS


async def record_notice(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    timer_name: str,
    sent_on: date,
    recipients: str | None,
    recipient_party_ids: list[int],
    *,
    decision_date: date | None = None,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """A notification duty done (thông báo thụ lý, gửi quyết định / kết luận, công khai): its timer is met. A notice
    meets exactly one duty, the one for the decision it sends (`decision_date`, or by default the latest open duty
    of the name started on or before `sent_on`): a case suspended twice owes two notices (Decree 155/2026)."""
    loaded = await queries.load(session, principal, case_id, lock=True)
    case = loaded.case
    access.ensure_desk_or_head(principal, case, Code.notice_forbidden)
    timers = domain.load_timers(case)
    index = dl.notice_duty(timers, timer_name, sent_on, decision_date) if timer_name in NOTICE_TIMERS else None
    if index is None:
        open_notices = sorted({t.name for t in timers if t.is_open() and t.name in NOTICE_TIMERS})
        details: dict[str, object] = {
            "field": "timer" if decision_date is None else "decision_date",
            "open": open_notices,
        }
        if decision_date is not None:
            details["open_decisions"] = sorted(
                t.start_date.isoformat() for t in timers if t.name == timer_name and t.is_open()
            )
        raise DomainError(Code.no_such_notice, details=details)
    duty = timers[index]
    unknown = sorted(set(recipient_party_ids) - {p.id for p in loaded.parties})
    if unknown:
        raise DomainError(Code.unknown_recipient, details={"field": "recipient_party_ids", "party_ids": unknown})
    domain.validate_effective_date(
        sent_on,
        received_at=case.received_at,
        today=today,
        field="sent_on",
        previous=duty.start_date,  # the notice follows the decision that created the duty, on its real date
    )
    store_timers(case, dl.complete_one(timers, index, sent_on), env)
    payload = {
        "timer": timer_name,
        "decision_date": duty.start_date.isoformat(),
        "recipients": recipients,
        "recipient_party_ids": sorted(recipient_party_ids),
    }
    step = trail.Step("notice_sent", sent_on, payload=payload)
    return await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)


_DIALOGUES: Keyset[CaseDialogue] = Keyset(columns=(CaseDialogue.id,), kinds=(int,), key=lambda d: [d.id])


async def dialogues(
    session: AsyncSession, case_id: int, *, limit: int, cursor: str | None
) -> tuple[list[CaseDialogue], str | None]:
    return await _DIALOGUES.fetch(
        session, sa.select(CaseDialogue).where(CaseDialogue.case_id == case_id), limit=limit, cursor=cursor
    )
