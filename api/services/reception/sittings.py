"""Reception sittings (buổi tiếp công dân): create one, change its status (held, cancelled) and conclusion, list
them, the public schedule of the coming ones, and when a sitting counts as having taken place.

A "sitting" here is one reception day or half-day of a unit (the `ReceptionSession` row, `/reception-sessions` in
HTTP); `session` is always the database session."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.audit import AuditEvent
from api.models.reception import (
    Conclusion,
    ReceptionEntry,
    ReceptionSession,
    ScheduleItemOut,
    SessionIn,
    SessionOut,
    SessionUpdate,
)
from api.models.unit import Unit
from api.pagination import Keyset, by_date_and_id
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.reception.scope import ensure_writer, entries_in_scope, sittings_in_scope, unit_in_scope
from api.services.stats import accused
from workflows import reception as rules


async def get_sitting(
    session: AsyncSession, principal: Officer, sitting_id: int, *, lock: bool = False, share: bool = False
) -> ReceptionSession:
    """The sitting in the caller's scope; `lock` locks it for a change of the sitting, `share` for writing an
    entry on it (many entries at once, no change of status meanwhile). A locked read returns the row as it is once
    the lock is held, never a status read before another transaction changed it."""
    stmt = sa.select(ReceptionSession).where(
        ReceptionSession.id == sitting_id, sittings_in_scope(principal, ReceptionSession.unit_id)
    )
    if lock or share:
        stmt = stmt.with_for_update(read=not lock).execution_options(populate_existing=True)
    sitting = await session.scalar(stmt)
    if sitting is None:
        raise DomainError(Code.session_not_found)
    return sitting


def sitting_out(sitting: ReceptionSession) -> SessionOut:
    assert sitting.id is not None
    conclusion = (
        Conclusion(number=sitting.conclusion_number, date=sitting.conclusion_date, text=sitting.conclusion_text or "")
        if sitting.conclusion_number and sitting.conclusion_date
        else None
    )
    head = rules.SessionKind(sitting.kind) in rules.HEAD_KINDS
    return SessionOut(
        id=sitting.id,
        unit_id=sitting.unit_id,
        kind=sitting.kind,
        mode=sitting.mode,
        in_person=sitting.in_person,
        host_title=sitting.host_title,
        status=sitting.status,
        starts_at=sitting.starts_at,
        ends_at=sitting.ends_at,
        day=sitting.day,
        location=sitting.location,
        online_link=sitting.online_link,
        citizens_notified_on=sitting.citizens_notified_on,
        recording_ref=sitting.recording_ref,
        cancel_reason=sitting.cancel_reason,
        conclusion=conclusion,
        conclusion_missing=head and sitting.status == rules.SessionStatus.held and conclusion is None,
        version=sitting.version,
        created_at=sitting.created_at,
    )


def _check_held(sitting: ReceptionSession, now: datetime) -> None:
    if sitting.starts_at > now:
        raise DomainError(Code.session_not_started, details={"starts_at": sitting.starts_at.isoformat()})
    if sitting.mode == rules.Mode.online and not sitting.recording_ref:
        raise DomainError(Code.recording_required, details={"field": "recording_ref"})


def _set_conclusion(sitting: ReceptionSession, conclusion: Conclusion) -> None:
    if rules.SessionKind(sitting.kind) not in rules.HEAD_KINDS or sitting.status != rules.SessionStatus.held:
        raise DomainError(Code.conclusion_not_allowed, details={"field": "conclusion"})
    if conclusion.date < sitting.day:
        raise DomainError(
            Code.date_before_previous_step, details={"field": "conclusion.date", "session_day": sitting.day}
        )
    sitting.conclusion_number, sitting.conclusion_date = conclusion.number, conclusion.date
    sitting.conclusion_text = conclusion.text


async def create_sitting(
    session: AsyncSession, principal: Officer, data: SessionIn, *, env: DeadlineEnv, now: datetime
) -> SessionOut:
    await unit_in_scope(session, principal, data.unit_id)
    ensure_writer(principal, data.unit_id)
    day = clock.legal_date(data.starts_at)
    if data.mode is rules.Mode.online:
        latest = rules.latest_online_notice(day, env.cal)
        if data.citizens_notified_on is None or data.citizens_notified_on > latest:
            raise DomainError(
                Code.online_notice_too_late,
                details={"field": "citizens_notified_on", "latest_notice_date": latest.isoformat()},
            )
    sitting = ReceptionSession(
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
        _check_held(sitting, now)
    if data.conclusion is not None:
        _set_conclusion(sitting, data.conclusion)
    session.add(sitting)
    await session.flush()
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=sitting.id,
        action="create",
        payload={
            "unit_id": sitting.unit_id,
            "kind": sitting.kind,
            "mode": sitting.mode,
            "status": sitting.status,
            "day": str(day),
        },
    )
    await session.commit()
    return sitting_out(sitting)


_NAMED_ENTRIES = 50


async def _refuse_cancel_with_entries(session: AsyncSession, principal: Officer, sitting: ReceptionSession) -> None:
    """A sitting on which people were received (entries in the register) took place: it cannot be cancelled
    (LTCD art. 25: the register is the record of who was received). The sitting's row is locked (FOR UPDATE) and an
    entry is written under a shared lock on it, so no entry committed before this count is missed and none can be
    added after it. The answer names the entries the caller may read and counts all of them."""
    assert sitting.id is not None
    count = await session.scalar(
        sa.select(sa.func.count()).select_from(ReceptionEntry).where(ReceptionEntry.session_id == sitting.id)
    )
    if not count:
        return
    named = (
        await session.execute(
            sa.select(ReceptionEntry.id, ReceptionEntry.serial, ReceptionEntry.year)
            .where(ReceptionEntry.session_id == sitting.id, entries_in_scope(principal, ReceptionEntry.unit_id))
            .order_by(ReceptionEntry.year, ReceptionEntry.serial)
            .limit(_NAMED_ENTRIES)
        )
    ).all()
    raise DomainError(
        Code.session_has_entries,
        details={
            "session_id": sitting.id,
            "entry_count": count,
            "entries": [{"id": i, "number": f"{serial}/{year}"} for i, serial, year in named],
        },
    )


async def update_sitting(
    session: AsyncSession, principal: Officer, sitting_id: int, data: SessionUpdate, *, now: datetime
) -> SessionOut:
    sitting = await get_sitting(session, principal, sitting_id, lock=True)
    ensure_writer(principal, sitting.unit_id)
    changed = data.model_dump(exclude_unset=True, exclude_none=True)
    before = sitting.status
    if data.recording_ref is not None:
        sitting.recording_ref = data.recording_ref
    if data.location is not None:
        sitting.location = data.location
    if data.status is not None and data.status != sitting.status:
        if data.status == rules.SessionStatus.cancelled:  # entries name the reason first, whatever the status
            await _refuse_cancel_with_entries(session, principal, sitting)
        if not rules.may_move(sitting.status, data.status):
            raise DomainError(Code.session_move_not_allowed, details={"status": sitting.status, "to": data.status})
        if data.status == rules.SessionStatus.cancelled:
            await _refuse_cancel_with_entries(session, principal, sitting)
            if not data.cancel_reason:
                raise DomainError(Code.missing_field, details={"field": "cancel_reason"})
            sitting.cancel_reason = data.cancel_reason
        if data.status == rules.SessionStatus.held:
            _check_held(sitting, now)
        sitting.status = data.status
    elif data.cancel_reason is not None and sitting.status != rules.SessionStatus.cancelled:
        raise DomainError(
            Code.validation_error, details={"field": "cancel_reason", "hint": "only with status cancelled"}
        )
    if data.conclusion is not None:
        _set_conclusion(sitting, data.conclusion)
    sitting.version += 1
    sitting.updated_at = now
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=sitting.id,
        action="update",
        payload={"from_status": before, "to_status": sitting.status, "fields": sorted(changed)},
    )
    await session.commit()
    return sitting_out(sitting)


def mark_held_by_entry(
    session: AsyncSession, principal: Officer, sitting: ReceptionSession, entry: ReceptionEntry, now: datetime
) -> None:
    """A sitting with entries in the register took place (LTCD art. 25): a scheduled one whose start has come is
    marked held, audited, in the entry's transaction. One that cannot be held yet (not started, or online without
    its recording) keeps its status; the counts treat a sitting with entries as held whatever its status."""
    if sitting.status != rules.SessionStatus.scheduled:
        return
    try:
        _check_held(sitting, now)
    except DomainError:
        return
    sitting.status = rules.SessionStatus.held.value
    sitting.version += 1
    sitting.updated_at = now
    audit.record(
        session,
        actor_id=principal.id,
        entity="reception_session",
        entity_id=sitting.id,
        action="update",
        payload={"from_status": "scheduled", "to_status": "held", "fields": ["status"], "entry_id": entry.id},
    )


def took_place(hide: accused.Hidden | None = None) -> ColumnElement[bool]:
    """A sitting that took place: held, or with entries in the register whatever its stored status (one left
    scheduled, or cancelled as versions before the cancellation rule allowed) — except an online sitting without its
    recording, which cannot be marked held (Decree 154/2026 art. 16–24: an online sitting is recorded and kept) and
    so never counts as held, entries or not. Form 01/TCD counts the same (the stats package's `counts.SITTINGS`).
    For a caller named as accused (`hide`), only the entries they may read make it count, and a sitting that a line
    linked to a case naming them marked held (`mark_held_by_entry`, as its audit says) is held for them only through
    the lines they may read: that line (never found by them) would otherwise show as a day held (stats/accused.py)."""
    has_entries = sa.exists().where(ReceptionEntry.session_id == ReceptionSession.id, accused.line_kept(hide))
    may_be_held = sa.or_(
        ReceptionSession.mode != rules.Mode.online.value, sa.func.coalesce(ReceptionSession.recording_ref, "") != ""
    )
    held: ColumnElement[bool] = ReceptionSession.status == rules.SessionStatus.held.value
    if hide is not None:
        line = aliased(ReceptionEntry)
        by_hidden_line = sa.exists().where(
            AuditEvent.entity == "reception_session",
            AuditEvent.entity_id == sa.cast(ReceptionSession.id, sa.String),
            AuditEvent.action == "update",
            AuditEvent.payload["to_status"].astext == rules.SessionStatus.held.value,
            sa.exists().where(
                line.id == AuditEvent.payload["entry_id"].as_integer(),
                line.session_id == ReceptionSession.id,
                accused.naming(hide, line.case_id),
            ),
        )
        held = sa.and_(held, sa.not_(by_hidden_line))
    return sa.or_(held, sa.and_(has_entries, may_be_held))


_BY_DAY = by_date_and_id(ReceptionSession.day, ReceptionSession.id, descending=True)


async def list_sittings(
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
    stmt = sa.select(ReceptionSession).where(sittings_in_scope(principal, ReceptionSession.unit_id))
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


# Soonest first; the rows are (sitting, unit code, unit name).
_UPCOMING = Keyset[Any](
    columns=(ReceptionSession.day, ReceptionSession.id), kinds=(date, int), key=lambda r: [r[0].day, r[0].id]
)


async def schedule(
    session: AsyncSession, *, unit_id: int | None, now: datetime, limit: int, cursor: str | None
) -> tuple[list[ScheduleItemOut], str | None]:
    """Upcoming sittings as citizens may see them: when, where, whether the head or a deputy receives."""
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
        ScheduleItemOut(
            id=sitting.id,
            unit_id=sitting.unit_id,
            unit_code=code,
            unit_name=name,
            kind=sitting.kind,
            mode=sitting.mode,
            host="head" if sitting.in_person else "deputy",
            starts_at=sitting.starts_at,
            ends_at=sitting.ends_at,
            # The link of an online sitting goes to the notified citizens, not to the public page.
            location=sitting.location if sitting.mode == rules.Mode.direct else None,
        )
        for sitting, code, name in rows
    ]
    return items, next_cursor
