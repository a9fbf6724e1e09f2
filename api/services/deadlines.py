"""The deadline sweep (due-soon warnings, breaches, escalation) and the overdue / due-soon lists.

Exactly once, with several API processes: candidate cases are locked `FOR UPDATE SKIP LOCKED`, each
timer carries flags saying which alert was recorded for its current due date, and flags, case events
and outbox rows are written in one transaction per batch. An advisory lock held by a leader transaction for the
whole sweep keeps a second sweeper from doing the same work at the same moment.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import locks
from api.auth import Officer
from api.errors import UnitNotFound
from api.models.cases import Case, CaseAlert
from api.models.unit import Unit
from api.pagination import Keyset
from api.services import bulk, outbox
from api.services.calendar import DeadlineEnv
from api.services.calendar import env as deadline_env
from api.services.cases import access as case_access
from api.settings import Settings
from workflows.deadlines import Timer, escalates, running
from workflows.deadlines import sweep as sweep_timers

BATCH = 2000  # small enough that one batch computes while the other writes, on 2 cores (bench_sweep.py)
WORKERS = 2  # batches in flight at once: one computing while the other writes


@dataclass
class SweepResult:
    cases: int = 0
    due_soon: int = 0
    overdue: int = 0
    escalated: int = 0
    skipped: bool = False  # another sweeper held the lock


async def sweep(maker: async_sessionmaker[AsyncSession], settings: Settings, today: date) -> SweepResult:
    """One sweeper at a time: a leader transaction holds the sweep lock (tried, not waited for) while WORKERS
    take batches of candidate cases concurrently, each batch in its own transaction, so that one batch's
    writes overlap the next one's computation. Rows locked `FOR UPDATE SKIP LOCKED` keep the batches disjoint."""
    result = SweepResult()
    async with maker() as leader:
        if not await locks.try_hold(leader, locks.Lock.sweep):
            result.skipped = True
            return result
        # Batches follow the alerts' index in (alert date, case) order: a shared keyset cursor, so that each
        # batch starts where the furthest one ended.
        cursor: dict[str, tuple[date, int]] = {"last": (date.min, 0)}

        async def worker() -> None:
            while True:
                async with maker() as session:
                    env = await deadline_env(session, settings)
                    rows = (
                        await session.execute(
                            sa.select(
                                Case.id,
                                Case.timers,
                                Case.kind,
                                Case.tracking_code,
                                Case.competent_unit_id,
                                Case.escalated_to_unit_id,
                                CaseAlert.next_alert_date,
                            )
                            .join(CaseAlert, CaseAlert.case_id == Case.id)
                            .where(
                                CaseAlert.next_alert_date <= today,
                                sa.tuple_(CaseAlert.next_alert_date, CaseAlert.case_id) > sa.tuple_(*cursor["last"]),
                            )
                            .order_by(CaseAlert.next_alert_date, CaseAlert.case_id)
                            .limit(BATCH)
                            .with_for_update(of=Case, skip_locked=True)
                        )
                    ).all()
                    if not rows:
                        return
                    cursor["last"] = max(cursor["last"], (rows[-1].next_alert_date, rows[-1].id))
                    await _process(session, env, today, rows, result)
                    await session.commit()

        tasks = [asyncio.create_task(worker()) for _ in range(WORKERS)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One batch failed (or the sweep was cancelled): stop the others before the lock is let go.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        await leader.commit()  # releases the lock
    return result


async def _process(
    session: AsyncSession, env: DeadlineEnv, today: date, rows: Sequence[Any], result: SweepResult
) -> None:
    parents: dict[int, int | None] = dict(
        (
            await session.execute(
                sa.select(Unit.id, Unit.parent_id).where(Unit.id.in_({r.competent_unit_id for r in rows}))
            )
        )
        .tuples()
        .all()
    )
    updates = bulk.TimerUpdates(env.cal, env.threshold)
    pending: list[tuple[int, list[tuple[str, dict[str, Any]]]]] = []
    messages: list[tuple[str, int | None, dict[str, Any]]] = []
    for row in rows:
        timers, alerts = sweep_timers([Timer.from_dict(t) for t in row.timers], env.cal, today, env.threshold)
        escalate_to = None
        case_evts: list[tuple[str, dict[str, Any]]] = []
        for alert in alerts:
            data = {"timer": alert.timer, "due_date": alert.due_date.isoformat()}
            case_evts.append(("deadline_overdue" if alert.kind == "overdue" else "deadline_due_soon", data))
            messages.append(
                (
                    f"deadline.{alert.kind}",
                    row.id,
                    {"case_id": row.id, "tracking_code": row.tracking_code, "kind": row.kind, **data},
                )
            )
            if alert.kind == "overdue":
                result.overdue += 1
                # LTC art. 38: a denunciation whose resolution period passed unresolved goes to the supervising
                # unit's head; a late notice or publication is a breach of that duty only.
                parent = parents.get(row.competent_unit_id)
                if escalates(row.kind, alert) and row.escalated_to_unit_id is None and escalate_to is None and parent:
                    escalate_to = parent
            else:
                result.due_soon += 1
        if escalate_to is not None:
            result.escalated += 1
            case_evts.append(
                ("escalated", {"to_unit_id": escalate_to, "timer": "resolution", "legal_basis": "LTC art. 38"})
            )
            messages.append(
                (
                    "deadline.escalated",
                    row.id,
                    {"case_id": row.id, "tracking_code": row.tracking_code, "to_unit_id": escalate_to},
                )
            )
        updates.add(row.id, timers, escalate_to)
        if case_evts:
            pending.append((row.id, case_evts))
    result.cases += len(rows)
    # Chained first, so that the one UPDATE of each case also moves its chain anchor to the new last event.
    chained = await bulk.chain(session, pending, effective_date=today)
    await updates.write(session, chained.heads)
    await bulk.insert(session, chained)
    await outbox.enqueue_many(session, messages)


@dataclass(frozen=True)
class Urgent:
    case: Case
    timer: Timer
    due_date: date


_BY_DUE: Keyset[Case] = Keyset(
    columns=(Case.next_due_date, Case.id), kinds=(date, int), key=lambda c: [c.next_due_date, c.id]
)


async def urgent(
    session: AsyncSession,
    principal: Officer,
    env: DeadlineEnv,
    today: date,
    *,
    overdue: bool,
    unit_id: int | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Urgent], str | None]:
    """Cases of a unit's subtree by their most urgent running timer: overdue, or due within the threshold."""
    stmt = sa.select(Case).where(case_access.readable(principal), Case.next_due_date.is_not(None))
    if overdue:
        stmt = stmt.where(Case.next_due_date < today)
    else:
        horizon = env.cal.add_working_days(today, env.threshold)
        stmt = stmt.where(Case.next_due_date >= today, Case.next_due_date <= horizon)
    if unit_id is not None:
        root = await session.get(Unit, unit_id)
        if root is None:
            raise UnitNotFound("unit_id")
        stmt = stmt.where(Case.competent_unit_id.in_(case_access.subtree(root.path)))
    rows, next_cursor = await _BY_DUE.fetch(session, stmt, limit=limit, cursor=cursor)
    out = []
    for case in rows:
        timer = min(running([Timer.from_dict(t) for t in case.timers]), key=lambda t: t.due_date(env.cal))
        out.append(Urgent(case=case, timer=timer, due_date=timer.due_date(env.cal)))
    return out, next_cursor
