"""The working-day calendar (statutory holidays + admin overrides) and the deadline settings the
service counts with; overrides change → running timers are recomputed, and each moved case says why."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.errors import Code, DomainError
from api.models.calendar import CacheVersion, CalendarOverride
from api.models.cases import Case
from api.services import audit, outbox
from api.settings import Settings
from workflows.calendar import Basis, WorkCalendar
from workflows.deadlines import RuleSet, Timer, max_due, next_alert, next_due, rule_sets

RECOMPUTE_BATCH = 5000


@dataclass(frozen=True)
class DeadlineEnv:
    cal: WorkCalendar
    rules: tuple[RuleSet, ...]
    threshold: int  # due-soon warning, in working days


@lru_cache(maxsize=8)
def _rules(processing_days: int, processing_basis: str) -> tuple[RuleSet, ...]:
    return rule_sets(processing_days, Basis(processing_basis))


@lru_cache(maxsize=32)
def _calendar(days_off: frozenset[date], working_days: frozenset[date]) -> WorkCalendar:
    return WorkCalendar(extra_days_off=days_off, extra_working_days=working_days)


async def overrides(session: AsyncSession) -> Sequence[CalendarOverride]:
    return (await session.scalars(sa.select(CalendarOverride).order_by(CalendarOverride.day))).all()


def _calendar_of(rows: Sequence[CalendarOverride]) -> WorkCalendar:
    return _calendar(
        frozenset(r.day for r in rows if r.kind == "day_off"), frozenset(r.day for r in rows if r.kind == "working_day")
    )


# Per database: the calendar as of a version of the overrides table (see CacheVersion).
_CACHED: dict[object, tuple[int, WorkCalendar]] = {}

CALENDAR_VERSION = sa.select(CacheVersion.version).where(CacheVersion.name == "calendar").scalar_subquery()


async def env(session: AsyncSession, settings: Settings, *, version: int | None = None) -> DeadlineEnv:
    """The statutory calendar merged with the admins' overrides. With `version` (the overrides' version the
    caller has just read in the same request, e.g. with the officer) a process reuses the calendar it built
    for that version; without it the overrides are read now (inside a calendar change, for instance)."""
    if version is None:
        cal = _calendar_of(await overrides(session))
    else:
        key = session.get_bind().engine
        cached = _CACHED.get(key)
        if cached is not None and cached[0] == version:
            cal = cached[1]
        else:
            cal = _calendar_of(await overrides(session))
            _CACHED[key] = (version, cal)
    return DeadlineEnv(
        cal=cal,
        rules=_rules(settings.processing_days, settings.processing_basis),
        threshold=settings.due_soon_working_days,
    )


def cached_env(session: AsyncSession, settings: Settings, version: int) -> DeadlineEnv | None:
    """The deadline environment this process has built for the overrides' `version`, or None if it holds
    another (no query either way): for an officer remembered with that version (api/services/cases/remembered.py)."""
    cached = _CACHED.get(session.get_bind().engine)
    if cached is None or cached[0] != version:
        return None
    return DeadlineEnv(
        cal=cached[1],
        rules=_rules(settings.processing_days, settings.processing_basis),
        threshold=settings.due_soon_working_days,
    )


def store_timers(case: Case, timers: list[Timer], env: DeadlineEnv) -> None:
    """Timers as data plus the indexed dates derived from them."""
    case.timers = [t.to_dict() for t in timers]
    case.next_due_date = next_due(timers, env.cal)
    case.next_alert_date = next_alert(timers, env.cal, env.threshold)
    case.max_due_date = max_due(timers, env.cal)


async def set_override(
    session: AsyncSession, settings: Settings, actor_id: int, day: date, kind: str, reason: str
) -> tuple[CalendarOverride, int]:
    if kind not in ("day_off", "working_day"):
        raise DomainError(Code.invalid_kind, details={"field": "kind"})
    await locks.hold(session, locks.Lock.calendar)
    before = await env(session, settings)
    row = await session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day, kind=kind, reason=reason, created_by_id=actor_id)
        session.add(row)
    else:
        row.kind, row.reason, row.created_by_id = kind, reason, actor_id
    await session.flush()
    label = "là ngày nghỉ" if kind == "day_off" else "là ngày làm việc"
    why = f"Lịch làm việc: {day.isoformat()} {label} ({reason})"
    moved = await _recompute(session, before, await env(session, settings), day, actor_id, why)
    audit.record(
        session,
        actor_id=actor_id,
        entity="calendar",
        entity_id=day.isoformat(),
        action="set",
        payload={"kind": kind, "reason": reason, "cases_recomputed": moved},
    )
    await session.commit()
    return row, moved


async def remove_override(session: AsyncSession, settings: Settings, actor_id: int, day: date) -> int:
    await locks.hold(session, locks.Lock.calendar)
    row = await session.get(CalendarOverride, day)
    if row is None:
        raise DomainError(Code.override_not_found)
    before = await env(session, settings)
    await session.delete(row)
    await session.flush()
    why = f"Lịch làm việc: bỏ điều chỉnh ngày {day.isoformat()}"
    moved = await _recompute(session, before, await env(session, settings), day, actor_id, why)
    audit.record(
        session,
        actor_id=actor_id,
        entity="calendar",
        entity_id=day.isoformat(),
        action="remove",
        payload={"cases_recomputed": moved},
    )
    await session.commit()
    return moved


async def _recompute(
    session: AsyncSession, before: DeadlineEnv, after: DeadlineEnv, day: date, actor_id: int, why: str
) -> int:
    """Cases with an open timer due on or after the changed day: recompute (set-based, in batches), re-arm
    the alerts of timers that moved, and record on each moved case what changed and why."""
    from api.services import bulk

    if before.cal.is_working_day(day) == after.cal.is_working_day(day):
        return 0
    moved = 0
    last_id = 0
    while True:
        rows = (
            await session.execute(
                sa.select(Case.id, Case.tracking_code, Case.timers)
                .where(Case.max_due_date >= day, Case.id > last_id)
                .order_by(Case.id)
                .limit(RECOMPUTE_BATCH)
                .with_for_update()
            )
        ).all()
        if not rows:
            return moved
        last_id = rows[-1].id
        updates = bulk.TimerUpdates(after.cal, after.threshold)
        pending: list[tuple[int, list[tuple[str, dict[str, Any]]]]] = []
        messages: list[tuple[str, int | None, dict[str, Any]]] = []
        for row in rows:
            timers = [Timer.from_dict(t) for t in row.timers]
            changes = [
                {"timer": t.name, "from": t.due_date(before.cal).isoformat(), "to": t.due_date(after.cal).isoformat()}
                for t in timers
                if t.is_open() and t.due_date(before.cal) != t.due_date(after.cal)
            ]
            if not changes:
                continue
            names = {c["timer"] for c in changes}
            updates.add(
                row.id,
                [replace(t, warned=False, breached=False) if t.name in names and t.is_open() else t for t in timers],
            )
            pending.append((row.id, [("deadlines_recomputed", {"changes": changes})]))
            messages.append(
                (
                    "deadline.recomputed",
                    row.id,
                    {"case_id": row.id, "tracking_code": row.tracking_code, "changes": changes},
                )
            )
        await updates.write(session)
        await bulk.append_events(session, pending, effective_date=None, actor_id=actor_id, reason=why)
        await outbox.enqueue_many(session, messages)
        moved += len(pending)
