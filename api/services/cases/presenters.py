"""What each caller is shown of a case: protected identities masked unless the caller may see them,
timers with their derived status, the actions the caller may take now."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.models.cases import Case, CaseDialogue, CaseEvent, CaseParty
from api.models.cases.schemas import (
    CaseCreatedOut,
    CaseItemOut,
    CaseOut,
    DialogueOut,
    EventOut,
    PartyOut,
    TimerOut,
)
from api.services.calendar import DeadlineEnv
from api.services.cases import access, sealed_text, trail
from api.vault import Vault
from workflows import confidentiality
from workflows.cases import Status, allowed_actions
from workflows.confidentiality import MASK, is_multi_person, is_protected, redact
from workflows.deadlines import Timer

IDENTITY_FIELDS = ("full_name", "id_number", "phone", "address")
_DERIVED = frozenset(
    {
        "parties",
        "timers",
        "handler_ids",
        "repeat_count",
        "allowed_actions",
        "is_multi_person",
        "oversight_escalated",
        "oversight_reason",
        "text_redacted",
    }
)
_COPIED = tuple(k for k in CaseOut.model_fields if k not in _DERIVED)


def event(e: CaseEvent, reveal: bool, vault: Vault) -> EventOut:
    """An event of the trail; its sealed free text opened for those who may see the denouncer, masked (the
    fields named, their values not) for everyone else."""
    out = EventOut(
        seq=e.seq,
        at=e.at,
        actor_id=e.actor_id,
        action=e.action,
        from_status=e.from_status,
        to_status=e.to_status,
        effective_date=e.effective_date,
        reason=e.reason,
        payload={k: v for k, v in e.payload.items() if k != trail.STATE_KEY},  # the keyed state digest: internal
        hash=e.hash,
    )
    if e.sealed is None:
        return out
    fields = (e.payload.get("sealed_text") or {}).get("fields", [])
    # Opened, its keyed digest checked against the one the chain recorded (409 sealed_data_invalid otherwise).
    opened = trail.open_event_text(vault.open, e) if reveal else dict.fromkeys(fields, MASK)
    payload = {k: v for k, v in out.payload.items() if k != "sealed_text"}
    payload.update({k: v for k, v in opened.items() if k != "reason" and v is not None})
    return out.model_copy(update={"reason": opened.get("reason"), "payload": payload, "sealed": True})


def dialogue(d: CaseDialogue, reveal: bool, vault: Vault) -> DialogueOut:
    assert d.id is not None and d.created_at is not None
    out = DialogueOut(
        id=d.id,
        held_on=d.held_on,
        participants=d.participants,
        minutes=d.minutes,
        agreement_reached=d.agreement_reached,
        complainant_absent=d.complainant_absent,
        recorded_by_id=d.recorded_by_id,
        created_at=d.created_at,
    )
    if d.sealed is None:
        return out
    opened = vault.open(d.sealed) if reveal else {"participants": [MASK], "minutes": MASK}
    return out.model_copy(update={**opened, "sealed": True})


def protected_party_ids(case: Case, parties: Sequence[CaseParty]) -> list[int]:
    return [p.id for p in parties if p.id is not None and is_protected(p.role, case.kind, case.identity_protected)]


def party(p: CaseParty, kind: str, reveal: bool, vault: Vault, identity_protected: bool = False) -> PartyOut:
    assert p.id is not None
    if is_protected(p.role, kind, identity_protected):
        if not reveal or p.sealed is None:
            return PartyOut(id=p.id, role=p.role, full_name=MASK, id_number=None, phone=None, address=None, masked=True)
        return PartyOut(id=p.id, role=p.role, **vault.open(p.sealed))
    return PartyOut(
        id=p.id,
        role=p.role,
        full_name=p.full_name,
        id_number=p.id_number,
        phone=p.phone,
        address=p.address,
        officer_id=p.officer_id,
    )


def case_out(
    principal: Officer,
    case: Case,
    parties: Sequence[CaseParty],
    *,
    handler_ids: Sequence[int],
    repeat_count: int,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """The full case as this officer may see it."""
    reveal = access.sees_identity(principal, case)
    # An accused link removed is kept for the access rules (the officer stays excluded) but is no party any more.
    shown = [party(p, case.kind, reveal, vault, case.identity_protected) for p in parties if p.removed_at is None]
    timers = [TimerOut(**Timer.from_dict(t).view(env.cal, today)) for t in case.timers]
    fields = _fields(principal, case, shown, timers, handler_ids=handler_ids, repeat_count=repeat_count)
    # A denunciation's title and content are sealed at rest: opened for whoever may read the case, the protected
    # parties' identities masked in them for whoever may not see those.
    hidden = None if reveal else hidden_identities(case, parties, vault)
    fields["title"], fields["content"], fields["text_redacted"] = text(case, vault, hidden)
    return CaseOut(**fields)


def identity_values(p: Any, vault: Vault) -> list[str]:
    """A protected party's identity as the letter's record carries it (opened from its seal): full name, ID number,
    phone, address."""
    values = vault.open(p.sealed) if p.sealed is not None else {k: getattr(p, k) for k in IDENTITY_FIELDS}
    return [str(v) for k in IDENTITY_FIELDS if (v := values.get(k))]


def hidden_identities(case: Case, parties: Sequence[CaseParty], vault: Vault) -> list[str] | None:
    """What to mask in the case's text for a caller who may not see its protected identities: their values, or
    None when the case has no protected party (nothing to mask)."""
    protected = [p for p in parties if is_protected(p.role, case.kind, case.identity_protected)]
    return [v for p in protected for v in identity_values(p, vault)] if protected else None


async def hidden_identities_of(
    session: AsyncSession, principal: Officer, cases: Sequence[Case], vault: Vault
) -> dict[int, list[str]]:
    """`hidden_identities` for a page of cases, in one query: by case id, for the cases with protected parties whose
    identities this caller may not see (the others are not in it)."""
    ids = [c.id for c in cases if c.id is not None and not access.sees_identity(principal, c)]
    return await protected_identities(session, ids, vault)


async def protected_identities(session: AsyncSession, case_ids: Sequence[int], vault: Vault) -> dict[int, list[str]]:
    """The protected parties' identity values of these cases, by case id, in one query (cases with none are not in
    it): the one rule of whose parties are protected (`access.open_party_clause`), for whoever decided the caller
    may not see them (`hidden_identities_of`; the dashboard, which shows no one's)."""
    if not case_ids:
        return {}
    rows = (
        await session.execute(
            sa.select(
                CaseParty.case_id,
                CaseParty.full_name,
                CaseParty.id_number,
                CaseParty.phone,
                CaseParty.address,
                CaseParty.sealed,
            )
            .join(Case, Case.id == CaseParty.case_id)
            .where(CaseParty.case_id.in_(case_ids), ~access.open_party_clause(Case.kind, Case.identity_protected))
        )
    ).all()
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(row.case_id, []).extend(identity_values(row, vault))
    return found


def text(case: Case, vault: Vault, hidden: Sequence[str] | None) -> tuple[str, str, bool]:
    """The case's (title, content, redacted): opened if sealed, and with `hidden` (the protected identities the
    caller may not see) masked wherever the text writes them (`confidentiality.redact`)."""
    title, content = sealed_text.opened(case, vault)
    if hidden is None:
        return title, content, False
    return redact(title, hidden), redact(content, hidden), True


def case_created(
    principal: Officer,
    case: Case,
    parties: Sequence[CaseParty],
    clear_parties: Sequence[dict[str, Any]],
    *,
    access_key: str,
    today: date,
    env: DeadlineEnv,
) -> CaseCreatedOut:
    """A case just taken in, for the officer who typed it: the parties as typed (nothing is unsealed), and
    the citizen's access key, shown this once."""
    reveal = access.sees_identity(principal, case)
    shown = [
        PartyOut(id=p.id or 0, role=p.role, officer_id=p.officer_id, **{k: c.get(k) for k in IDENTITY_FIELDS})
        if reveal or not is_protected(p.role, case.kind, case.identity_protected)
        else PartyOut(id=p.id or 0, role=p.role, full_name=MASK, id_number=None, phone=None, address=None, masked=True)
        for p, c in zip(parties, clear_parties, strict=True)
    ]
    timers = [TimerOut(**Timer.from_dict(t).view(env.cal, today)) for t in case.timers]
    return CaseCreatedOut(
        **_fields(principal, case, shown, timers, handler_ids=[], repeat_count=0), access_key=access_key
    )


def _fields(
    principal: Officer,
    case: Case,
    parties: list[PartyOut],
    timers: list[TimerOut],
    *,
    handler_ids: Sequence[int],
    repeat_count: int,
) -> dict[str, Any]:
    return {
        **{k: getattr(case, k) for k in _COPIED},
        "is_multi_person": is_multi_person(case.signer_count),
        "handler_ids": list(handler_ids),
        "repeat_count": repeat_count,
        "parties": parties,
        "timers": timers,
        "allowed_actions": allowed_actions(Status(case.status), access.acting_roles(principal, case)),
    }


def list_item(case: Case, today: date, vault: Vault, hidden: Sequence[str] | None = None) -> CaseItemOut:
    """One row of a list; `hidden`: the protected identities to mask in its title (`hidden_identities_of`)."""
    assert case.id is not None
    title, _, redacted = text(case, vault, hidden)
    return CaseItemOut(
        id=case.id,
        tracking_code=case.tracking_code,
        kind=case.kind,
        field=case.field,
        title=title,
        text_redacted=redacted,
        status=case.status,
        version=case.version,
        received_at=case.received_at,
        receiving_unit_id=case.receiving_unit_id,
        competent_unit_id=case.competent_unit_id,
        is_multi_person=is_multi_person(case.signer_count),
        level_skipping=case.level_skipping,
        next_due_date=case.next_due_date,
        overdue=case.next_due_date is not None and case.next_due_date < today,
    )


async def with_oversight(session: AsyncSession, out: CaseOut) -> CaseOut:
    """The case answer with who oversees it: flagged when naming officers as accused left no inspector to read it
    (`confidentiality.oversight`)."""
    holding = confidentiality.holding_unit(out.status, out.receiving_unit_id, out.competent_unit_id)
    found = await access.oversight(session, out.id, holding)
    return out.model_copy(update={"oversight_escalated": found.escalated, "oversight_reason": found.reason})
