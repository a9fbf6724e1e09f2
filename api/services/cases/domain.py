"""Small rules every case command shares: the facts the deadline rules need, the timers as data, and
the check of a legal document's date."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.unit import Unit
from workflows.calendar import WorkCalendar
from workflows.cases import Kind, Status
from workflows.deadlines import CaseFacts, Timer


def facts(case: Case) -> CaseFacts:
    return CaseFacts(
        kind=case.kind,
        complaint_round=case.complaint_round or 1,
        complexity=case.complexity,
        remote_area=case.remote_area,
        multi_place_verification=case.multi_place_verification,
        competent_elsewhere=case.competent_unit_id != case.receiving_unit_id,
        disciplinary=case.disciplinary,
    )


def load_timers(case: Case) -> list[Timer]:
    return [Timer.from_dict(t) for t in case.timers]


def validate_effective_date(
    value: date, *, received_at: date, today: date, field: str = "effective_date", previous: date | None = None
) -> None:
    """A step is dated between the step before it and today: no decision before acceptance, no close before
    the decision (LEGAL.md, counting rules)."""
    if value > today:
        raise DomainError(Code.date_in_future, details={"field": field})
    if value < received_at:
        raise DomainError(Code.date_before_receipt, details={"field": field})
    if previous is not None and value < previous:
        raise DomainError(
            Code.date_before_previous_step, details={"field": field, "previous_step_date": previous.isoformat()}
        )


def unresolved_in_time(earlier: Case, on: date, cal: WorkCalendar) -> date | None:
    """The due date of `earlier`'s resolution period if it passed unresolved before `on`, else None. Suspended time
    is not counted: a period suspended while it still ran has not passed; one suspended only after its due date had
    passed unresolved all the same (as `workflows.deadlines.period_ended` compares them)."""
    for t in load_timers(earlier):
        if t.name == "resolution" and t.is_open():
            due = t.due_date(cal)
            stopped = min(t.paused_since, on) if t.paused_since is not None else on
            if stopped > due:
                return due
    return None


async def check_further_denunciation(
    session: AsyncSession, earlier: Case | None, competent_unit_id: int, received_at: date, cal: WorkCalendar
) -> None:
    """LTC art. 38.1: a further denunciation (tố cáo tiếp) names an earlier denunciation that was decided (the
    denouncer holds its resolution unlawful) or whose resolution period passed unresolved, and goes to the head
    directly above the one who resolved (or should have resolved) it. A repeat to the same unit about a decided case
    is not one (it is a repeat letter, `repeat_of_case_id`)."""
    if earlier is None or earlier.kind != Kind.denunciation:
        raise DomainError(Code.earlier_denunciation_not_found, details={"field": "previous_case_id"})
    decided = earlier.status in (Status.resolved, Status.closed)
    overdue = unresolved_in_time(earlier, received_at, cal)
    if not decided and overdue is None:
        due = next((t.due_date(cal) for t in load_timers(earlier) if t.name == "resolution"), None)
        raise DomainError(
            Code.further_denunciation_premature,
            details={
                "field": "previous_case_id",
                "status": earlier.status,
                "resolution_due_date": due.isoformat() if due else None,
                "legal_basis": "LTC art. 38.1",
            },
        )
    above = await session.scalar(sa.select(Unit.parent_id).where(Unit.id == earlier.competent_unit_id))
    if competent_unit_id != above:
        raise DomainError(
            Code.further_denunciation_wrong_unit,
            details={"field": "competent_unit_id", "required_unit_id": above, "legal_basis": "LTC art. 38.1"},
        )
