"""Small rules every case command shares: the facts the deadline rules need, the timers as data, and
the check of a legal document's date."""

from datetime import date

from api.errors import Code, DomainError
from api.models.cases import Case
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
