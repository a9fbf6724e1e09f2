"""The counts of an evaluation that the statistics services do not give as they are: the report forms' total rows
for a unit and its subtree, and what no form counts — letters processed on time and late, extensions, suspensions
and the days suspended inside the period, repeat and level-skipping letters, matters overdue at the end of the
period. Counts only."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.unit import Unit
from api.services.stats import accused, forms
from workflows import periods
from workflows.calendar import WorkCalendar
from workflows.deadlines import Timer, TimerStatus
from workflows.forms import FORMS


async def units_of(session: AsyncSession, unit_id: int) -> list[Unit]:
    root = await session.scalar(sa.select(Unit).where(Unit.id == unit_id))
    assert root is not None
    return list((await session.scalars(sa.select(Unit).where(Unit.path.startswith(root.path), Unit.is_active))).all())


async def form_totals(
    session: AsyncSession, units: list[Unit], period: periods.Period, hide: accused.Hidden | None = None
) -> dict[str, dict[str, float]]:
    """Each form's total row for these units and period, as GET /stats/forms/{form} shows it (to a reader named as
    accused, `hide`: without the cases naming them)."""
    out = {}
    for code in FORMS:
        form = forms.get_form(code)
        rows = forms.arrange(form, units, await forms.figures(session, form, units, period, hide))
        out[code] = next(r.values for r in rows if r.type == "total")
    return out


def _sql(text: str, hide: accused.Hidden | None) -> sa.TextClause:
    """The SQL as it is, or for a reader named as accused over what they may read (stats/accused.py: `:me`)."""
    return sa.text(accused.hiding(text) if hide is not None else text)


async def own_counts(
    session: AsyncSession,
    ids: list[int],
    period: periods.Period,
    cal: WorkCalendar,
    hide: accused.Hidden | None = None,
) -> dict[str, int]:
    """What no report form counts: processing on time, extensions, suspensions, repeat and level-skipping letters,
    matters overdue at the end of the period: accepted by then, due before its last day (overdue from the day after
    the due date, LEGAL.md) and not settled by then."""
    p: dict[str, Any] = {"units": ids, "start": period.start, "end": period.end, **(hide.params if hide else {})}
    processing = (
        await session.execute(
            _sql(
                "SELECT t FROM cases c, jsonb_array_elements(c.timers) t WHERE c.receiving_unit_id = ANY(:units) "
                "AND c.processed_on BETWEEN :start AND :end AND t->>'name' = 'processing'",
                hide,
            ),
            p,
        )
    ).scalars()
    on_time = late = 0
    for raw in processing:
        timer = Timer.from_dict(raw)
        if timer.completed_on is None:
            continue
        if timer.status(cal, timer.completed_on) is TimerStatus.met:
            on_time += 1
        else:
            late += 1
    row = (
        await session.execute(
            _sql(
                """
                SELECT
                  (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
                   WHERE e.action = 'extend' AND e.effective_date BETWEEN :start AND :end
                     AND c.competent_unit_id = ANY(:units)),
                  (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
                   WHERE e.action = 'suspend' AND e.effective_date BETWEEN :start AND :end
                     AND c.competent_unit_id = ANY(:units)),
                  (SELECT count(*) FROM case_facts WHERE receiving_unit_id = ANY(:units)
                     AND received_at BETWEEN :start AND :end AND repeat_of_case_id IS NOT NULL),
                  (SELECT count(*) FROM cases WHERE receiving_unit_id = ANY(:units)
                     AND received_at BETWEEN :start AND :end AND level_skipping),
                  (SELECT count(*) FROM case_facts WHERE competent_unit_id = ANY(:units) AND accepted_on <= :end
                     AND next_due_date < :end AND (settled_on IS NULL OR settled_on > :end))
                """,
                hide,
            ),
            p,
        )
    ).one()
    extensions, suspensions, repeat, skipping, overdue = (int(v) for v in row)
    suspended_days = await _suspended_days(session, ids, period, hide)
    return {
        "letters_processed_on_time": on_time,
        "letters_processed_late": late,
        "extensions": extensions,
        "suspensions": suspensions,
        "suspended_days": suspended_days,
        "repeat_letters": repeat,
        "level_skipping_letters": skipping,
        "overdue_at_end": overdue,
    }


async def _suspended_days(
    session: AsyncSession, ids: list[int], period: periods.Period, hide: accused.Hidden | None = None
) -> int:
    """Calendar days the resolution of the unit's matters stood suspended inside the period: each suspension runs
    from its `suspend` event to the next `resume` (or the settlement, or on), cut to the period's first and last
    day. (Not the timers' `paused_days`, which sum every pause of a case whenever it fell.)"""
    rows = (
        await session.execute(
            _sql(
                "SELECT e.case_id, e.action, e.effective_date, c.settled_on FROM case_events e "
                "JOIN cases c ON c.id = e.case_id WHERE c.competent_unit_id = ANY(:units) "
                "AND e.action IN ('suspend', 'resume') AND e.effective_date <= :end "
                "ORDER BY e.case_id, e.effective_date, e.id",
                hide,
            ),
            {"units": ids, "end": period.end, **(hide.params if hide else {})},
        )
    ).all()
    after = period.end + timedelta(days=1)
    total, since, current = 0, None, None

    def close(until: date | None) -> int:
        if since is None:
            return 0
        stop = min(until or after, after)
        return max(0, (stop - max(since, period.start)).days)

    settled: date | None = None
    for case_id, action, day, settled_on in rows:
        if case_id != current:
            total += close(settled)
            since, current, settled = None, case_id, settled_on
        if action == "suspend" and since is None:
            since = day
        elif action == "resume" and since is not None:
            total += close(day)
            since = None
    return total + close(settled)
