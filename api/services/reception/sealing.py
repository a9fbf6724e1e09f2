"""A register line's confidentiality: which lines are sealed (and which of their fields), who sees a sealed line
opened, the line as each caller is shown it (masked otherwise), and the audited read of the identities opened.
Which lines a caller finds at all is `scope.entries_in_scope`."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.models.cases import Case
from api.models.reception import EntryIn, EntryOut, Handling, PersonOut, ReceptionEntry, RefusalOut
from api.services import audit
from api.vault import Vault
from workflows import confidentiality
from workflows import reception as rules

# The free text of a register line beside its persons, notes and content: what was done before, where the visitor
# was guided or their letter transferred, and those documents' numbers. On a sealed line they are sealed with the
# rest (issue 21, F8; lines sealed earlier: migration 0025) and masked for whoever may not see the identity.
SEALED_REFERRALS = ("previously_handled_by", "guided_to", "guided_doc", "transferred_to", "transferred_doc")


def sees_entry_identity(principal: Officer, entry: ReceptionEntry) -> bool:
    """As on a case (`confidentiality.may_see_identity`): the desk officer who wrote the entry and the head of its
    unit; never a verifier. An officer named as accused in its case does not find the entry at all."""
    writer = entry.created_by_id == principal.id
    return confidentiality.may_see_identity(
        roles=principal.roles,
        officer_id=principal.id,
        officer_unit_id=principal.unit_id,
        received_by_id=entry.created_by_id,
        received_by_system=writer and confidentiality.is_system_account(principal.username),
        holding_unit_id=entry.unit_id,
    )


def is_protected_entry(kind: str, identity_protection_requested: bool) -> bool:
    """Whose register line is sealed and masked: every denunciation's, and any visitor's who asked for their
    identity to be protected, whatever the kind."""
    return confidentiality.seals_free_text(kind) or identity_protection_requested


def seal_if_protected(
    entry: ReceptionEntry, data: EntryIn, persons: list[dict[str, Any]], reps: list[dict[str, Any]], vault: Vault
) -> None:
    """A new line of a protected visitor (`is_protected_entry`), as on a denunciation case: who came, what they
    brought and anything written about them is sealed; the clear columns keep only how many."""
    if not is_protected_entry(data.kind.value, data.identity_protection_requested):
        return
    entry.sealed = vault.seal(
        {
            "persons": persons,
            "representatives": reps,
            "notes": data.notes,
            "follow_up": data.follow_up,
            "content": data.content,
            **{name: getattr(data, name) for name in SEALED_REFERRALS},
        }
    )
    entry.persons = [{} for _ in persons]
    entry.representatives = [{} for _ in reps]
    entry.notes = "" if data.notes is not None else None
    entry.follow_up = "" if data.follow_up is not None else None
    entry.content = ""
    for name in SEALED_REFERRALS:  # where it was before and where it was sent may point to the visitor
        setattr(entry, name, "" if getattr(data, name) is not None else None)


def write_free_text(entry: ReceptionEntry, values: dict[str, Any], vault: Vault) -> None:
    """Free text changed on a written line: into the seal of a sealed line (its clear columns stay empty), in
    clear on any other."""
    if values and entry.sealed is not None:
        opened = vault.open(entry.sealed)
        opened.update(values)
        entry.sealed = vault.seal(opened)
        for name in values:
            setattr(entry, name, "")
    else:
        for name, value in values.items():
            setattr(entry, name, value)


def _people(items: list[dict[str, Any]]) -> list[PersonOut]:
    return [PersonOut(**{k: p.get(k) for k in ("full_name", "address", "id_type", "id_number")}) for p in items]


def entry_out(entry: ReceptionEntry, *, reveal: bool, vault: Vault, case_code: str | None = None) -> EntryOut:
    assert entry.id is not None
    persons, representatives = entry.persons, entry.representatives
    notes, follow_up = entry.notes, entry.follow_up
    content = entry.content
    referrals: dict[str, str | None] = {name: getattr(entry, name) for name in SEALED_REFERRALS}
    if entry.sealed is not None:
        if reveal:
            opened = vault.open(entry.sealed)
            persons, representatives = opened["persons"], opened["representatives"]
            notes, follow_up = opened["notes"], opened.get("follow_up")
            content = opened.get("content", entry.content)
            # A line sealed before revision 0025 keeps these in its clear columns.
            referrals = {name: opened.get(name, value) for name, value in referrals.items()}
        else:
            persons = [{"full_name": confidentiality.MASK} for _ in entry.persons]
            representatives = [{"full_name": confidentiality.MASK} for _ in entry.representatives]
            notes = confidentiality.MASK if entry.notes is not None else None
            follow_up = confidentiality.MASK if entry.follow_up is not None else None
            content = confidentiality.MASK
            referrals = {name: None if value is None else confidentiality.MASK for name, value in referrals.items()}
    refusal = None
    if entry.refusal_ground is not None:
        ground = rules.REFUSAL_GROUNDS[entry.refusal_ground]
        # A line written before the rule was versioned may carry a due date for a refusal made before Decree
        # 154/2026 came into force: no deadline applied that day.
        due = entry.refusal_notice_due if rules.refusal_notice_rule(entry.received_on).working_days else None
        refusal = RefusalOut(
            ground=ground.code,
            text=ground.text,
            legal_basis=ground.basis,
            notice_due_date=due,
            notice_number=entry.refusal_notice_number,
            notice_date=entry.refusal_notice_date,
            notice_overdue=entry.refusal_notice_date is None and due is not None and due < clock.today(),
        )
    return EntryOut(
        id=entry.id,
        number=f"{entry.serial}/{entry.year}",
        serial=entry.serial,
        year=entry.year,
        session_id=entry.session_id,
        unit_id=entry.unit_id,
        received_on=entry.received_on,
        persons=_people(persons),
        representatives=_people(representatives),
        people_count=entry.people_count,
        group=entry.is_group,
        identity_protection_requested=entry.identity_protection_requested,
        sealed=entry.sealed is not None,
        kind=entry.kind,
        content=content,
        previously_handled_by=referrals["previously_handled_by"],
        within_competence=entry.handling == Handling.within_competence,
        handling=entry.handling,
        guided_to=referrals["guided_to"],
        guided_doc=referrals["guided_doc"],
        transferred_to=referrals["transferred_to"],
        transferred_doc=referrals["transferred_doc"],
        follow_up=follow_up,
        notes=notes,
        visit=entry.visit,
        repeat_of_entry_id=entry.repeat_of_entry_id,
        repeat_of_case_id=entry.repeat_of_case_id,
        case_id=entry.case_id,
        case_tracking_code=case_code,
        refusal=refusal,
        created_at=entry.created_at,
    )


async def _case_codes(session: AsyncSession, entries: list[ReceptionEntry]) -> dict[int, str]:
    return await case_codes(session, {e.case_id for e in entries if e.case_id is not None})


async def case_codes(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Tracking codes by case id (the cases register lines opened or link to)."""
    if not ids:
        return {}
    rows = await session.execute(sa.select(Case.id, Case.tracking_code).where(Case.id.in_(ids)))
    return {i: code for i, code in rows.tuples()}


async def present_entries(
    session: AsyncSession, principal: Officer, entries: list[ReceptionEntry], vault: Vault
) -> list[EntryOut]:
    """Entries as this caller may see them; opening a sealed one is an audited read of protected identities."""
    codes = await _case_codes(session, entries)
    revealed = [e for e in entries if e.sealed is not None and sees_entry_identity(principal, e)]
    for e in revealed:
        audit.record(
            session,
            actor_id=principal.id,
            entity="reception_entry",
            entity_id=e.id,
            action="identity_viewed",
            payload={"number": f"{e.serial}/{e.year}"},
        )
    shown = {id(e) for e in revealed}
    out = [
        entry_out(
            e,
            reveal=e.sealed is None or id(e) in shown,
            vault=vault,
            case_code=codes.get(e.case_id) if e.case_id is not None else None,
        )
        for e in entries
    ]
    if revealed:  # the reads recorded only together with the entries opened for this answer (issue 21, H5)
        await session.commit()
    return out
