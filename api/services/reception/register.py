"""The register of citizen reception (sổ tiếp công dân, form 03/TCD): each unit's yearly numbering, writing a
line (who came, what they brought, how it was handled, a refusal's notice, the case it opens or links), changing
it, reading and listing lines. What of a line is sealed and who sees it opened is `sealing`; which lines a caller
finds is `scope.entries_in_scope`. A line is written on a sitting (`sittings`); `session` is the database session."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.cases.schemas import CaseIn, Channel
from api.models.reception import EntryIn, EntryOut, EntryUpdate, ReceptionEntry
from api.models.user import User
from api.pagination import by_date_and_id
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.cases import access
from api.services.cases import intake as intake_service
from api.services.reception.scope import ensure_writer, entries_in_scope
from api.services.reception.sealing import entry_out, present_entries, seal_if_protected, write_free_text
from api.services.reception.sittings import get_sitting, mark_held_by_entry
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows import reception as rules
from workflows.cases import Kind


def _check_group(data: EntryIn) -> tuple[int, bool]:
    people = data.people_count or len(data.persons)
    if people < len(data.persons):
        raise DomainError(
            Code.validation_error, details={"field": "people_count", "hint": "fewer than the persons listed"}
        )
    group = rules.is_group(people)
    if data.group and not group:
        raise DomainError(
            Code.not_a_group, details={"field": "group", "people_count": people, "min": rules.GROUP_MIN_PEOPLE}
        )
    reps = len(data.representatives)
    allowed = rules.representatives_allowed(people) if group else range(0, 6)
    if reps not in allowed:
        raise DomainError(
            Code.representatives_count,
            details={
                "field": "representatives",
                "people_count": people,
                "representatives": reps,
                "allowed_min": allowed.start,
                "allowed_max": allowed.stop - 1,
            },
        )
    return people, group


_PARTY_ROLE = {Kind.complaint: "complainant", Kind.denunciation: "denouncer"}


def _case_request(data: EntryIn, day: date, people: int, accused_names: dict[int, str]) -> CaseIn:
    """The case an entry opens: its visitors as parties, a request for identity protection carried to the case
    (protected like a denunciation), and the officers named as accused linked to their accounts (`accused_names`:
    their names by id, as desk intake names them)."""
    assert data.create_case is not None
    role = _PARTY_ROLE.get(data.kind, "petitioner")
    parties: list[dict[str, Any]] = []
    for person, party_role in [(p, role) for p in data.persons] + [(r, "representative") for r in data.representatives]:
        number = person.id_number if person.id_type is not None and person.id_type.value != "passport" else None
        parties.append(
            {"role": party_role, "full_name": person.full_name, "address": person.address, "id_number": number}
        )
    for officer_id in data.create_case.accused_officer_ids:
        # An id that names no officer is refused by intake (422 user_not_found), as at the desk.
        name = accused_names.get(officer_id, f"#{officer_id}")
        parties.append({"role": "accused", "full_name": name, "officer_id": officer_id})
    try:
        return CaseIn(
            kind=data.kind,
            field=data.create_case.field,
            channel=Channel.reception_session,
            title=data.create_case.title,
            content=data.content,
            received_at=day,
            competent_unit_id=data.create_case.competent_unit_id,
            complaint_round=data.create_case.complaint_round,
            previous_case_id=data.create_case.previous_case_id,
            decision_known_date=data.create_case.decision_known_date,
            complexity=data.create_case.complexity,
            signer_count=people,
            identity_protection_requested=data.identity_protection_requested,
            parties=parties,
        )
    except ValidationError as exc:
        details = [
            {"field": "create_case." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise DomainError(Code.validation_error, details=details) from None


async def _readable_entry(
    session: AsyncSession, principal: Officer, entry_id: int, *, lock: bool = False
) -> ReceptionEntry:
    stmt = sa.select(ReceptionEntry).where(
        ReceptionEntry.id == entry_id, entries_in_scope(principal, ReceptionEntry.unit_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    entry = await session.scalar(stmt)
    if entry is None:
        raise DomainError(Code.entry_not_found)
    return entry


_NEXT_SERIAL = sa.text("""
    INSERT INTO reception_counters (unit_id, year, last) VALUES (:unit_id, :year, 1)
    ON CONFLICT (unit_id, year) DO UPDATE SET last = reception_counters.last + 1
    RETURNING last
""")


async def add_entry(
    session: AsyncSession,
    principal: Officer,
    settings: Settings,
    sitting_id: int,
    data: EntryIn,
    *,
    env: DeadlineEnv,
    today: date,
    now: datetime | None = None,
) -> tuple[EntryOut, str | None]:
    """Write one line of the register (and open or link its case) in one transaction. Returns the entry and,
    when a case was opened, the citizen's access key (shown once). A scheduled sitting whose start has come is
    marked held by its first entry (LTCD art. 25: people were received on it)."""
    # Shared lock, and the status read under it: the sitting cannot be cancelled while an entry is written on it,
    # and one cancelled while this request waited is seen as cancelled. A scheduled sitting is locked for update
    # instead, as this entry may mark it held (a shared lock is never upgraded: two first entries would deadlock).
    peek = await get_sitting(session, principal, sitting_id)
    scheduled = peek.status == rules.SessionStatus.scheduled
    sitting = await get_sitting(session, principal, sitting_id, lock=scheduled, share=not scheduled)
    ensure_writer(principal, sitting.unit_id)
    if sitting.status == rules.SessionStatus.cancelled:
        raise DomainError(Code.session_cancelled)
    if sitting.day > today:
        raise DomainError(Code.session_in_future, details={"session_day": sitting.day.isoformat()})
    people, group = _check_group(data)
    if sitting.mode == rules.Mode.online and not rules.may_receive_online(
        data.kind.value, data.identity_protection_requested
    ):
        raise DomainError(Code.online_reception_refused, details={"legal_basis": rules.ONLINE_BASIS})
    refusal_due = None
    if data.refusal is not None:
        if data.refusal.ground not in rules.REFUSAL_GROUNDS:
            raise DomainError(
                Code.invalid_refusal_ground,
                details={"field": "refusal.ground", "allowed": sorted(rules.REFUSAL_GROUNDS)},
            )
        if data.refusal.notice_date is not None and data.refusal.notice_date < sitting.day:
            raise DomainError(Code.date_before_previous_step, details={"field": "refusal.notice_date"})
        refusal_due = rules.refusal_notice_due(sitting.day, env.cal)
    if data.repeat_of_entry_id is not None:
        earlier = await session.scalar(
            sa.select(ReceptionEntry.id).where(
                ReceptionEntry.id == data.repeat_of_entry_id, entries_in_scope(principal, ReceptionEntry.unit_id)
            )
        )
        if earlier is None:
            raise DomainError(Code.repeat_target_not_found, details={"field": "repeat_of_entry_id"})
    if data.repeat_of_case_id is not None:
        found = await session.scalar(
            sa.select(Case.id).where(Case.id == data.repeat_of_case_id, access.readable(principal))
        )
        if found is None:
            raise DomainError(Code.repeat_target_not_found, details={"field": "repeat_of_case_id"})
    case_id, case_code, case_key = data.case_id, None, None
    if data.case_id is not None:
        case_code = await session.scalar(
            sa.select(Case.tracking_code).where(Case.id == data.case_id, access.readable(principal))
        )
        if case_code is None:
            raise DomainError(Code.case_not_found, details={"field": "case_id"})
    elif data.create_case is not None:
        named = data.create_case.accused_officer_ids
        accused_names: dict[int, str] = {}
        if named:
            rows = await session.execute(sa.select(User.id, User.full_name).where(User.id.in_(named)))
            accused_names = {i: name for i, name in rows.tuples()}
        request = _case_request(data, sitting.day, people, accused_names)
        created = await intake_service.create(
            session, principal, settings, request, today=today, env=env, options=intake_service.Options(commit=False)
        )
        case_id, case_code, case_key = created.id, created.tracking_code, created.access_key
    year = sitting.day.year
    serial = (await session.execute(_NEXT_SERIAL, {"unit_id": sitting.unit_id, "year": year})).scalar_one()
    persons = [p.model_dump(mode="json") for p in data.persons]
    reps = [r.model_dump(mode="json") for r in data.representatives]
    entry = ReceptionEntry(
        session_id=sitting.id,
        unit_id=sitting.unit_id,
        year=year,
        serial=serial,
        received_on=sitting.day,
        kind=data.kind.value,
        content=data.content,
        persons=persons,
        representatives=reps,
        notes=data.notes,
        people_count=people,
        is_group=group,
        identity_protection_requested=data.identity_protection_requested,
        previously_handled_by=data.previously_handled_by,
        handling=data.handling.value,
        guided_to=data.guided_to,
        guided_doc=data.guided_doc,
        transferred_to=data.transferred_to,
        transferred_doc=data.transferred_doc,
        follow_up=data.follow_up,
        visit=data.visit,
        repeat_of_entry_id=data.repeat_of_entry_id,
        repeat_of_case_id=data.repeat_of_case_id,
        case_id=case_id,
        refusal_ground=data.refusal.ground if data.refusal else None,
        refusal_notice_due=refusal_due,
        refusal_notice_number=data.refusal.notice_number if data.refusal else None,
        refusal_notice_date=data.refusal.notice_date if data.refusal else None,
        created_by_id=principal.id,
    )
    vault = vault_for(settings)
    seal_if_protected(entry, data, persons, reps, vault)
    session.add(entry)
    await session.flush()
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_entry",
        entity_id=entry.id,
        action="create",
        payload={
            "session_id": sitting.id,
            "number": f"{serial}/{year}",
            "kind": entry.kind,
            "handling": entry.handling,
            "visit": entry.visit,
            "case_id": case_id,
            "case_created": data.create_case is not None,
        },
    )
    mark_held_by_entry(session, principal, sitting, entry, now or clock.now())
    await session.commit()
    # The officer who just typed the names in reads nothing new.
    return entry_out(entry, reveal=True, vault=vault, case_code=case_code), case_key


async def read_entry(session: AsyncSession, principal: Officer, entry_id: int, vault: Vault) -> EntryOut:
    entry = await _readable_entry(session, principal, entry_id)
    return (await present_entries(session, principal, [entry], vault))[0]


async def update_entry(
    session: AsyncSession, principal: Officer, entry_id: int, data: EntryUpdate, vault: Vault
) -> EntryOut:
    entry = await _readable_entry(session, principal, entry_id, lock=True)
    ensure_writer(principal, entry.unit_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if ("refusal_notice_number" in changes or "refusal_notice_date" in changes) and entry.refusal_ground is None:
        raise DomainError(Code.validation_error, details={"field": "refusal_notice_number", "hint": "not a refusal"})
    if data.refusal_notice_date is not None and data.refusal_notice_date < entry.received_on:
        raise DomainError(Code.date_before_previous_step, details={"field": "refusal_notice_date"})
    for name in ("refusal_notice_number", "refusal_notice_date"):
        if name in changes:
            setattr(entry, name, changes[name])
    free = {k: changes[k] for k in ("notes", "follow_up", "guided_doc", "transferred_doc") if k in changes}
    write_free_text(entry, free, vault)
    entry.updated_at = clock.now()
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_entry",
        entity_id=entry.id,
        action="update",
        payload={"fields": sorted(changes)},
    )
    await session.commit()
    return (await present_entries(session, principal, [entry], vault))[0]


_ENTRY_ORDER = by_date_and_id(ReceptionEntry.received_on, ReceptionEntry.id, descending=True)


async def list_entries(
    session: AsyncSession,
    principal: Officer,
    *,
    sitting_id: int | None = None,
    unit_id: int | None = None,
    year: int | None = None,
    kind: str | None = None,
    visit: str | None = None,
    handling: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReceptionEntry], str | None]:
    stmt = sa.select(ReceptionEntry).where(entries_in_scope(principal, ReceptionEntry.unit_id))
    if sitting_id is not None:
        stmt = stmt.where(ReceptionEntry.session_id == sitting_id)
    if unit_id is not None:
        stmt = stmt.where(ReceptionEntry.unit_id == unit_id)
    if year is not None:
        stmt = stmt.where(ReceptionEntry.year == year)
    if kind:
        stmt = stmt.where(ReceptionEntry.kind == kind)
    if visit:
        stmt = stmt.where(ReceptionEntry.visit == visit)
    if handling:
        stmt = stmt.where(ReceptionEntry.handling == handling)
    return await _ENTRY_ORDER.fetch(session, stmt, limit=limit, cursor=cursor)
