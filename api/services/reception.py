"""Citizen reception: sessions, the register (form 03/TCD) and the heads' compliance. The rules themselves
(kinds, moves, online notice, groups, refusal grounds, requirements per month) are in workflows/reception."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.cases.schemas import CaseCreate, Channel
from api.models.reception import (
    Conclusion,
    EntryCreate,
    EntryOut,
    EntryUpdate,
    Handling,
    MonthOut,
    PersonOut,
    ReceptionEntry,
    ReceptionSession,
    RefusalOut,
    ScheduleItem,
    SessionCreate,
    SessionOut,
    SessionUpdate,
)
from api.models.unit import Unit
from api.models.user import User
from api.pagination import Keyset, by_date_and_id, decode_cursor, encode_cursor
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.cases import access
from api.services.cases import intake as intake_service
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows import confidentiality, periods
from workflows import reception as rules
from workflows.cases import Kind, Role

# ---- scope and access ----


unit_scope = access.units_in_view


async def _unit_in_scope(session: AsyncSession, principal: Officer, unit_id: int) -> Unit:
    unit: Unit | None = await session.scalar(sa.select(Unit).where(Unit.id == unit_id, unit_scope(principal)))
    if unit is None:
        raise DomainError(Code.no_such_unit, details={"field": "unit_id"})
    return unit


def ensure_writer(principal: Officer, unit_id: int) -> None:
    """Sessions and the register are kept by the unit's own reception desk and head."""
    if principal.unit_id != unit_id or not principal.has(Role.desk_officer, Role.unit_head):
        raise DomainError(Code.reception_forbidden)


def _in_scope(principal: Officer, unit_column: Any) -> ColumnElement[bool]:
    """Sessions (the facts the public schedule shows): the caller's unit and the units below it."""
    if principal.has(Role.inspector):
        return sa.true()
    clause: ColumnElement[bool] = unit_column.in_(access.subtree(principal.unit_path))
    return clause


def _entries_in_scope(principal: Officer, unit_column: Any) -> ColumnElement[bool]:
    """Register entries name citizens and what they brought, and follow their case's read rules: the
    inspectorate reads every unit's, a head their unit's and those below, a desk officer their own unit's, a
    handler only the entries of cases assigned to them, an administrator (who reads no case) none; and an entry
    whose case the caller may not read (an officer named as accused in it, a handler not assigned) is not found."""
    case_readable = sa.exists().where(Case.id == ReceptionEntry.case_id, access.readable(principal))
    follows_case = sa.or_(ReceptionEntry.case_id.is_(None), case_readable)
    if principal.has(Role.inspector):
        return follows_case
    clause: ColumnElement[bool]
    if principal.has(Role.unit_head):
        clause = sa.and_(unit_column.in_(access.subtree(principal.unit_path)), follows_case)
    elif principal.has(Role.desk_officer):
        clause = sa.and_(unit_column == principal.unit_id, follows_case)
    elif principal.has(Role.handler):
        clause = sa.and_(unit_column == principal.unit_id, ReceptionEntry.case_id.is_not(None), case_readable)
    else:
        clause = sa.false()
    return clause


async def get_session(
    session: AsyncSession, principal: Officer, session_id: int, *, lock: bool = False, share: bool = False
) -> ReceptionSession:
    """The session in the caller's scope; `lock` locks it for a change of the session, `share` for writing an
    entry on it (many entries at once, no change of status meanwhile). A locked read returns the row as it is once
    the lock is held, never a status read before another transaction changed it."""
    stmt = sa.select(ReceptionSession).where(
        ReceptionSession.id == session_id, _in_scope(principal, ReceptionSession.unit_id)
    )
    if lock or share:
        stmt = stmt.with_for_update(read=not lock).execution_options(populate_existing=True)
    row = await session.scalar(stmt)
    if row is None:
        raise DomainError(Code.session_not_found)
    return row


# ---- sessions ----


def session_out(s: ReceptionSession) -> SessionOut:
    assert s.id is not None
    conclusion = (
        Conclusion(number=s.conclusion_number, date=s.conclusion_date, text=s.conclusion_text or "")
        if s.conclusion_number and s.conclusion_date
        else None
    )
    head = rules.SessionKind(s.kind) in rules.HEAD_KINDS
    return SessionOut(
        id=s.id,
        unit_id=s.unit_id,
        kind=s.kind,
        mode=s.mode,
        in_person=s.in_person,
        host_title=s.host_title,
        status=s.status,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        day=s.day,
        location=s.location,
        online_link=s.online_link,
        citizens_notified_on=s.citizens_notified_on,
        recording_ref=s.recording_ref,
        cancel_reason=s.cancel_reason,
        conclusion=conclusion,
        conclusion_missing=head and s.status == rules.SessionStatus.held and conclusion is None,
        version=s.version,
        created_at=s.created_at,
    )


def _check_held(s: ReceptionSession, now: datetime) -> None:
    if s.starts_at > now:
        raise DomainError(Code.session_not_started, details={"starts_at": s.starts_at.isoformat()})
    if s.mode == rules.Mode.online and not s.recording_ref:
        raise DomainError(Code.recording_required, details={"field": "recording_ref"})


def _set_conclusion(s: ReceptionSession, conclusion: Conclusion) -> None:
    if rules.SessionKind(s.kind) not in rules.HEAD_KINDS or s.status != rules.SessionStatus.held:
        raise DomainError(Code.conclusion_not_allowed, details={"field": "conclusion"})
    if conclusion.date < s.day:
        raise DomainError(Code.date_before_previous_step, details={"field": "conclusion.date", "session_day": s.day})
    s.conclusion_number, s.conclusion_date, s.conclusion_text = conclusion.number, conclusion.date, conclusion.text


async def create_session(
    session: AsyncSession, principal: Officer, data: SessionCreate, *, env: DeadlineEnv, now: datetime
) -> SessionOut:
    await _unit_in_scope(session, principal, data.unit_id)
    ensure_writer(principal, data.unit_id)
    day = data.starts_at.astimezone(clock.VN).date()
    if data.mode is rules.Mode.online:
        latest = rules.latest_online_notice(day, env.cal)
        if data.citizens_notified_on is None or data.citizens_notified_on > latest:
            raise DomainError(
                Code.online_notice_too_late,
                details={"field": "citizens_notified_on", "latest_notice_date": latest.isoformat()},
            )
    row = ReceptionSession(
        unit_id=data.unit_id,
        kind=data.kind.value,
        mode=data.mode.value,
        in_person=data.in_person,
        host_title=data.host_title,
        status=data.status,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        day=day,
        location=data.location,
        online_link=data.online_link,
        citizens_notified_on=data.citizens_notified_on,
        recording_ref=data.recording_ref,
        created_by_id=principal.id,
    )
    if data.status == rules.SessionStatus.held:
        _check_held(row, now)
    if data.conclusion is not None:
        _set_conclusion(row, data.conclusion)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=row.id,
        action="create",
        payload={"unit_id": row.unit_id, "kind": row.kind, "mode": row.mode, "status": row.status, "day": str(day)},
    )
    await session.commit()
    return session_out(row)


_NAMED_ENTRIES = 50


async def _refuse_cancel_with_entries(session: AsyncSession, principal: Officer, row: ReceptionSession) -> None:
    """A session on which people were received (entries in the register) took place: it cannot be cancelled
    (LTCD art. 25: the register is the record of who was received). The session row is locked (FOR UPDATE) and an
    entry is written under a shared lock on it, so no entry committed before this count is missed and none can be
    added after it. The answer names the entries the caller may read and counts all of them."""
    assert row.id is not None
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(ReceptionEntry).where(ReceptionEntry.session_id == row.id)
    )
    if not count:
        return
    named = (
        await session.execute(
            sa.select(ReceptionEntry.id, ReceptionEntry.serial, ReceptionEntry.year)
            .where(ReceptionEntry.session_id == row.id, _entries_in_scope(principal, ReceptionEntry.unit_id))
            .order_by(ReceptionEntry.year, ReceptionEntry.serial)
            .limit(_NAMED_ENTRIES)
        )
    ).all()
    raise DomainError(
        Code.session_has_entries,
        details={
            "session_id": row.id,
            "entry_count": count,
            "entries": [{"id": i, "number": f"{serial}/{year}"} for i, serial, year in named],
        },
    )


async def update_session(
    session: AsyncSession, principal: Officer, session_id: int, data: SessionUpdate, *, now: datetime
) -> SessionOut:
    row = await get_session(session, principal, session_id, lock=True)
    ensure_writer(principal, row.unit_id)
    changed = data.model_dump(exclude_unset=True, exclude_none=True)
    before = row.status
    if data.recording_ref is not None:
        row.recording_ref = data.recording_ref
    if data.location is not None:
        row.location = data.location
    if data.status is not None and data.status != row.status:
        if data.status == rules.SessionStatus.cancelled:  # entries name the reason first, whatever the status
            await _refuse_cancel_with_entries(session, principal, row)
        if not rules.may_move(row.status, data.status):
            raise DomainError(Code.session_move_not_allowed, details={"status": row.status, "to": data.status})
        if data.status == rules.SessionStatus.cancelled:
            await _refuse_cancel_with_entries(session, principal, row)
            if not data.cancel_reason:
                raise DomainError(Code.missing_field, details={"field": "cancel_reason"})
            row.cancel_reason = data.cancel_reason
        if data.status == rules.SessionStatus.held:
            _check_held(row, now)
        row.status = data.status
    elif data.cancel_reason is not None and row.status != rules.SessionStatus.cancelled:
        raise DomainError(
            Code.validation_error, details={"field": "cancel_reason", "hint": "only with status cancelled"}
        )
    if data.conclusion is not None:
        _set_conclusion(row, data.conclusion)
    row.version += 1
    row.updated_at = now
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=row.id,
        action="update",
        payload={"from_status": before, "to_status": row.status, "fields": sorted(changed)},
    )
    await session.commit()
    return session_out(row)


_BY_DAY = by_date_and_id(ReceptionSession.day, ReceptionSession.id, descending=True)


async def list_sessions(
    session: AsyncSession,
    principal: Officer,
    *,
    unit_id: int | None,
    status: str | None,
    kind: str | None,
    day_from: date | None,
    day_to: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReceptionSession], str | None]:
    stmt = sa.select(ReceptionSession).where(_in_scope(principal, ReceptionSession.unit_id))
    if unit_id is not None:
        stmt = stmt.where(ReceptionSession.unit_id == unit_id)
    if status:
        stmt = stmt.where(ReceptionSession.status == status)
    if kind:
        stmt = stmt.where(ReceptionSession.kind == kind)
    if day_from:
        stmt = stmt.where(ReceptionSession.day >= day_from)
    if day_to:
        stmt = stmt.where(ReceptionSession.day <= day_to)
    return await _BY_DAY.fetch(session, stmt, limit=limit, cursor=cursor)


# Soonest first; the rows are (session, unit code, unit name).
_UPCOMING = Keyset[Any](
    columns=(ReceptionSession.day, ReceptionSession.id), kinds=(date, int), key=lambda r: [r[0].day, r[0].id]
)


async def schedule(
    session: AsyncSession, *, unit_id: int | None, now: datetime, limit: int, cursor: str | None
) -> tuple[list[ScheduleItem], str | None]:
    """Upcoming sessions as citizens may see them: when, where, whether the head or a deputy receives."""
    stmt = (
        sa.select(ReceptionSession, Unit.code, Unit.name)
        .join(Unit, Unit.id == ReceptionSession.unit_id)
        .where(ReceptionSession.status == rules.SessionStatus.scheduled, ReceptionSession.ends_at > now)
    )
    if unit_id is not None:
        stmt = stmt.where(ReceptionSession.unit_id == unit_id)
    rows, next_cursor = _UPCOMING.page(
        (await session.execute(_UPCOMING.apply(stmt, limit=limit, cursor=cursor))).all(), limit
    )
    items = [
        ScheduleItem(
            id=s.id,
            unit_id=s.unit_id,
            unit_code=code,
            unit_name=name,
            kind=s.kind,
            mode=s.mode,
            host="head" if s.in_person else "deputy",
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            # The link of an online session goes to the notified citizens, not to the public page.
            location=s.location if s.mode == rules.Mode.direct else None,
        )
        for s, code, name in rows
    ]
    return items, next_cursor


# ---- the register ----


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


# The free text of a register line beside its persons, notes and content: what was done before, where the visitor
# was guided or their letter transferred, and those documents' numbers. On a sealed line they are sealed with the
# rest (issue 21, F8; lines sealed earlier: migration 0025) and masked for whoever may not see the identity.
SEALED_REFERRALS = ("previously_handled_by", "guided_to", "guided_doc", "transferred_to", "transferred_doc")


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
        refusal = RefusalOut(
            ground=ground.code,
            text=ground.text,
            legal_basis=ground.basis,
            notice_due_date=entry.refusal_notice_due,
            notice_number=entry.refusal_notice_number,
            notice_date=entry.refusal_notice_date,
            notice_overdue=entry.refusal_notice_date is None
            and entry.refusal_notice_due is not None
            and entry.refusal_notice_due < clock.today(),
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


def _check_group(data: EntryCreate) -> tuple[int, bool]:
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


def _case_request(data: EntryCreate, day: date, people: int, accused_names: dict[int, str]) -> CaseCreate:
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
        return CaseCreate(
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
        ReceptionEntry.id == entry_id, _entries_in_scope(principal, ReceptionEntry.unit_id)
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


def _held_by_entry(
    session: AsyncSession, principal: Officer, sess: ReceptionSession, entry: ReceptionEntry, now: datetime
) -> None:
    """A session with entries in the register took place (LTCD art. 25): a scheduled one whose start has come is
    marked held, audited, in the entry's transaction. One that cannot be held yet (not started, or online without
    its recording) keeps its status; the counts treat a session with entries as held whatever its status."""
    if sess.status != rules.SessionStatus.scheduled:
        return
    try:
        _check_held(sess, now)
    except DomainError:
        return
    sess.status = rules.SessionStatus.held.value
    sess.version += 1
    sess.updated_at = now
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=sess.id,
        action="update",
        payload={"from_status": "scheduled", "to_status": "held", "fields": ["status"], "entry_id": entry.id},
    )


async def add_entry(
    session: AsyncSession,
    principal: Officer,
    settings: Settings,
    session_id: int,
    data: EntryCreate,
    *,
    env: DeadlineEnv,
    today: date,
    now: datetime | None = None,
) -> tuple[EntryOut, str | None]:
    """Write one line of the register (and open or link its case) in one transaction. Returns the entry and,
    when a case was opened, the citizen's access key (shown once). A scheduled session whose start has come is
    marked held by its first entry (LTCD art. 25: people were received on it)."""
    # Shared lock, and the status read under it: the session cannot be cancelled while an entry is written on it,
    # and one cancelled while this request waited is seen as cancelled. A scheduled session is locked for update
    # instead, as this entry may mark it held (a shared lock is never upgraded: two first entries would deadlock).
    peek = await get_session(session, principal, session_id)
    scheduled = peek.status == rules.SessionStatus.scheduled
    sess = await get_session(session, principal, session_id, lock=scheduled, share=not scheduled)
    ensure_writer(principal, sess.unit_id)
    if sess.status == rules.SessionStatus.cancelled:
        raise DomainError(Code.session_cancelled)
    if sess.day > today:
        raise DomainError(Code.session_in_future, details={"session_day": sess.day.isoformat()})
    people, group = _check_group(data)
    if sess.mode == rules.Mode.online and not rules.may_receive_online(
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
        if data.refusal.notice_date is not None and data.refusal.notice_date < sess.day:
            raise DomainError(Code.date_before_previous_step, details={"field": "refusal.notice_date"})
        refusal_due = rules.refusal_notice_due(sess.day, env.cal)
    if data.repeat_of_entry_id is not None:
        earlier = await session.scalar(
            sa.select(ReceptionEntry.id).where(
                ReceptionEntry.id == data.repeat_of_entry_id, _entries_in_scope(principal, ReceptionEntry.unit_id)
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
        request = _case_request(data, sess.day, people, accused_names)
        created = await intake_service.create(session, principal, settings, request, today=today, env=env, commit=False)
        case_id, case_code, case_key = created.id, created.tracking_code, created.access_key
    year = sess.day.year
    serial = (await session.execute(_NEXT_SERIAL, {"unit_id": sess.unit_id, "year": year})).scalar_one()
    persons = [p.model_dump(mode="json") for p in data.persons]
    reps = [r.model_dump(mode="json") for r in data.representatives]
    entry = ReceptionEntry(
        session_id=sess.id,
        unit_id=sess.unit_id,
        year=year,
        serial=serial,
        received_on=sess.day,
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
    if is_protected_entry(data.kind.value, data.identity_protection_requested):
        # As on a denunciation case: who came, what they brought and anything written about them is sealed; the
        # clear columns keep only how many.
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
    session.add(entry)
    await session.flush()
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_entry",
        entity_id=entry.id,
        action="create",
        payload={
            "session_id": sess.id,
            "number": f"{serial}/{year}",
            "kind": entry.kind,
            "handling": entry.handling,
            "visit": entry.visit,
            "case_id": case_id,
            "case_created": data.create_case is not None,
        },
    )
    _held_by_entry(session, principal, sess, entry, now or clock.now())
    await session.commit()
    # The officer who just typed the names in reads nothing new.
    return entry_out(entry, reveal=True, vault=vault, case_code=case_code), case_key


async def _case_codes(session: AsyncSession, entries: list[ReceptionEntry]) -> dict[int, str]:
    ids = {e.case_id for e in entries if e.case_id is not None}
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
    if free and entry.sealed is not None:
        opened = vault.open(entry.sealed)
        opened.update(free)
        entry.sealed = vault.seal(opened)
        for name in free:
            setattr(entry, name, "")
    else:
        for name, value in free.items():
            setattr(entry, name, value)
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
    session_id: int | None = None,
    unit_id: int | None = None,
    year: int | None = None,
    kind: str | None = None,
    visit: str | None = None,
    handling: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReceptionEntry], str | None]:
    stmt = sa.select(ReceptionEntry).where(_entries_in_scope(principal, ReceptionEntry.unit_id))
    if session_id is not None:
        stmt = stmt.where(ReceptionEntry.session_id == session_id)
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


# ---- compliance ----


def took_place() -> ColumnElement[bool]:
    """A session that took place: held, or with entries in the register whatever its stored status (a session left
    scheduled, or cancelled as versions before the cancellation rule allowed). 01/TCD counts the same
    (stats._TCD_SESSIONS)."""
    has_entries = sa.exists().where(ReceptionEntry.session_id == ReceptionSession.id)
    return sa.or_(ReceptionSession.status == rules.SessionStatus.held.value, has_entries)


def parse_period(label: str) -> periods.Period:
    try:
        return periods.parse(label, allow=frozenset({"month", "quarter", "year"}))
    except periods.PeriodError as exc:
        raise DomainError(Code.invalid_period, details={"field": "period", "hint": str(exc)}) from None


async def compliance(
    session: AsyncSession,
    principal: Officer,
    period: periods.Period,
    *,
    unit_id: int | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Each unit's head: distinct days received in person and delegated, the days required month by month
    under the rules in force, and the shortfall of the months already over; units short first."""
    if not principal.has(Role.inspector, Role.unit_head):
        raise DomainError(Code.forbidden, details={"required_roles": [Role.inspector.value, Role.unit_head.value]})
    scope: ColumnElement[bool] = unit_scope(principal)
    if unit_id is not None:
        root = await _unit_in_scope(session, principal, unit_id)
        scope = Unit.path.startswith(root.path)
    units = (await session.execute(sa.select(Unit).where(scope, Unit.is_active).order_by(Unit.code))).scalars().all()
    # Held sessions only: a scheduled or cancelled one counts nowhere, unless it has entries in the register (LTCD art.
    # 25: people were received on it, so it took place, whatever its stored status; see took_place).
    days = await session.execute(
        sa.select(
            ReceptionSession.unit_id,
            ReceptionSession.day,
            ReceptionSession.kind,
            sa.func.bool_or(ReceptionSession.in_person),
        )
        .join(Unit, Unit.id == ReceptionSession.unit_id)
        .where(
            scope,
            took_place(),
            ReceptionSession.kind.in_([k.value for k in rules.HEAD_KINDS]),
            ReceptionSession.day.between(period.start, period.end),
        )
        .group_by(ReceptionSession.unit_id, ReceptionSession.day, ReceptionSession.kind)
    )
    in_person: dict[tuple[int, date], set[date]] = defaultdict(set)
    delegated: dict[tuple[int, date], set[date]] = defaultdict(set)
    adhoc: dict[tuple[int, date], set[date]] = defaultdict(set)
    for unit, day, kind, any_in_person in days.tuples():
        key = (unit, day.replace(day=1))
        if rules.SessionKind(kind) in rules.COUNTED_KINDS:
            (in_person if any_in_person else delegated)[key].add(day)
        else:  # ad-hoc: listed beside the periodic days, never counted toward them (LTCD art. 12–18)
            adhoc[key].add(day)
    months = [m for m in period.months() if m <= today]
    rows = []
    for unit in units:
        assert unit.id is not None
        override = (
            (unit.reception_days, unit.reception_period) if unit.reception_days and unit.reception_period else None
        )
        per_month = []
        for month in months:
            key = (unit.id, month)
            mc = rules.month_compliance(unit.level, month, in_person[key], delegated[key], override, adhoc=adhoc[key])
            if mc is not None:
                per_month.append((mc, _month_end(month) < today))
        if not per_month:
            continue
        rows.append(
            {
                "unit_id": unit.id,
                "unit_code": unit.code,
                "unit_name": unit.name,
                "level": unit.level,
                "required_days": sum(m.required for m, _ in per_month),
                "in_person_days": sum(m.in_person_days for m, _ in per_month),
                "delegated_days": sum(m.delegated_days for m, _ in per_month),
                "counted_days": sum(m.counted_days for m, _ in per_month),
                "adhoc_days": sum(len(m.adhoc_days) for m, _ in per_month),
                "shortfall": sum(m.shortfall for m, over in per_month if over),
                "months": [
                    MonthOut(
                        month=m.month.strftime("%Y-%m"),
                        required=m.required,
                        in_person_days=m.in_person_days,
                        delegated_days=m.delegated_days,
                        counted_days=m.counted_days,
                        adhoc_days=len(m.adhoc_days),
                        adhoc_dates=list(m.adhoc_days),
                        shortfall=m.shortfall,
                        delegation_counts=m.delegation_counts,
                        basis=m.basis,
                        complete=over,
                    )
                    for m, over in per_month
                ],
            }
        )
    rows.sort(key=lambda r: (-r["shortfall"], r["unit_code"]))
    start = (decode_cursor(cursor, int) or [0])[0]
    page = rows[start : start + limit]
    return page, encode_cursor([start + limit]) if start + limit < len(rows) else None


def _month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)
