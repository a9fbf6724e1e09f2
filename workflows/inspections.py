"""Thanh tra tỉnh's own work (the province's plan 13/KH-UBND 2022, section IV item 5: "xây dựng kế hoạch kiểm tra,
đánh giá về công tác tiếp dân, giải quyết khiếu nại, tố cáo tại các sở, ngành, địa phương"): the states of an
inspection plan (kế hoạch kiểm tra), of an inspection (cuộc kiểm tra) and of a recommendation (kiến nghị), who may
move them, and the recommendation's timer (due soon, overdue) on the working-day calendar.

The finding areas and the rating scale are data: the migration seeds them into `inspection_criteria` from
`DEFAULT_AREAS` and `DEFAULT_RATINGS`, an administrator may change that table, and each plan keeps the scale it was
made with. Time is always a parameter."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from workflows.calendar import WorkCalendar


class PlanStatus(StrEnum):
    draft = "draft"  # dự thảo
    approved = "approved"  # đã phê duyệt (decision number and date by the chief inspector)


class InspectionStatus(StrEnum):
    planned = "planned"  # trong kế hoạch
    decided = "decided"  # đã có quyết định thành lập đoàn
    in_progress = "in_progress"  # đang kiểm tra
    concluded = "concluded"  # đã có kết luận
    cancelled = "cancelled"  # đã hủy (có lý do)


class InspectionAction(StrEnum):
    decide = "decide"  # quyết định thành lập đoàn kiểm tra
    start = "start"  # công bố quyết định, bắt đầu kiểm tra
    conclude = "conclude"  # ký ban hành kết luận kiểm tra
    cancel = "cancel"


class Actor(StrEnum):
    """Who acts on the inspectorate's work: an inspector, the chief inspector (the `unit_head` of the inspectorate's
    unit), the head of the inspected unit."""

    inspector = "inspector"
    chief = "chief"
    inspected_head = "inspected_head"


S, A = InspectionStatus, InspectionAction
INSPECTION_TRANSITIONS: dict[tuple[InspectionStatus, InspectionAction], tuple[InspectionStatus, frozenset[Actor]]] = {
    (S.planned, A.decide): (S.decided, frozenset({Actor.inspector, Actor.chief})),
    (S.decided, A.start): (S.in_progress, frozenset({Actor.inspector, Actor.chief})),
    (S.in_progress, A.conclude): (S.concluded, frozenset({Actor.chief})),
    (S.planned, A.cancel): (S.cancelled, frozenset({Actor.inspector, Actor.chief})),
    (S.decided, A.cancel): (S.cancelled, frozenset({Actor.inspector, Actor.chief})),
    (S.in_progress, A.cancel): (S.cancelled, frozenset({Actor.chief})),
}
"""(status, action) → (next status, who may). Anything else is refused with the actions allowed."""

OPEN_INSPECTIONS = frozenset({S.planned, S.decided, S.in_progress})


class TransitionRefused(ValueError):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__("action not allowed")
        self.allowed = allowed


def allowed_actions(status: InspectionStatus, actors: frozenset[Actor]) -> list[str]:
    return sorted(a.value for (s, a), (_, who) in INSPECTION_TRANSITIONS.items() if s == status and who & actors)


def next_status(status: InspectionStatus, action: InspectionAction, actors: frozenset[Actor]) -> InspectionStatus:
    """The status after `action`, or TransitionRefused naming what the caller may do instead."""
    found = INSPECTION_TRANSITIONS.get((status, action))
    if found is None or not (found[1] & actors):
        raise TransitionRefused(allowed_actions(status, actors))
    return found[0]


class RecommendationStatus(StrEnum):
    open = "open"  # đang thực hiện
    reported = "reported"  # đơn vị đã báo cáo kết quả, chờ Thanh tra xem xét
    done = "done"  # đã thực hiện xong (báo cáo được chấp nhận)


class RecommendationAction(StrEnum):
    report = "report"  # the inspected unit's head reports what was done
    accept = "accept"  # the inspector accepts the report: done
    reject = "reject"  # the inspector rejects it: open again


R, RA = RecommendationStatus, RecommendationAction
RECOMMENDATION_TRANSITIONS: dict[
    tuple[RecommendationStatus, RecommendationAction], tuple[RecommendationStatus, frozenset[Actor]]
] = {
    (R.open, RA.report): (R.reported, frozenset({Actor.inspected_head})),
    (R.reported, RA.accept): (R.done, frozenset({Actor.inspector, Actor.chief})),
    (R.reported, RA.reject): (R.open, frozenset({Actor.inspector, Actor.chief})),
}


def next_recommendation_status(
    status: RecommendationStatus, action: RecommendationAction, actors: frozenset[Actor]
) -> RecommendationStatus:
    found = RECOMMENDATION_TRANSITIONS.get((status, action))
    if found is None or not (found[1] & actors):
        allowed = sorted(
            a.value for (s, a), (_, who) in RECOMMENDATION_TRANSITIONS.items() if s == status and who & actors
        )
        raise TransitionRefused(allowed)
    return found[0]


class TimerState(StrEnum):
    running = "running"
    due_soon = "due_soon"
    overdue = "overdue"
    reported = "reported"  # reported done by the deadline; waiting for the inspectorate's decision
    reported_late = "reported_late"  # reported after the deadline; waiting for the inspectorate's decision
    met = "met"  # done on or before the deadline
    met_late = "met_late"


@dataclass(frozen=True)
class RecommendationTimer:
    """A recommendation's deadline, as a case's duties run: a deadline falling on a day off runs to the end of the
    next working day (BLDS art. 148, LEGAL.md "How days are counted": `effective`); due soon from `threshold`
    working days before it, overdue from the day after it, met or met late once done. While the unit's report waits
    for the inspectorate (`reported_on`: the day it was filed), the item is neither due soon nor overdue: the wait
    is the inspectorate's, not the unit's (`reported` / `reported_late`)."""

    deadline: date
    done_on: date | None
    reported_on: date | None = None

    def effective(self, cal: WorkCalendar) -> date:
        return cal.roll_forward(self.deadline)

    def due_soon_from(self, cal: WorkCalendar, threshold: int) -> date:
        return cal.subtract_working_days(self.effective(cal), threshold)

    def state(self, cal: WorkCalendar, today: date, threshold: int) -> TimerState:
        due = self.effective(cal)
        if self.done_on is not None:
            return TimerState.met if self.done_on <= due else TimerState.met_late
        if self.reported_on is not None:
            return TimerState.reported if self.reported_on <= due else TimerState.reported_late
        if today > due:
            return TimerState.overdue
        if today >= self.due_soon_from(cal, threshold):
            return TimerState.due_soon
        return TimerState.running

    def remaining_days(self, cal: WorkCalendar, today: date) -> int | None:
        """Calendar days until the effective deadline (negative once overdue); None once done or reported."""
        if self.done_on is not None or self.reported_on is not None:
            return None
        return (self.effective(cal) - today).days


def latest_deadline_before(cal: WorkCalendar, day: date) -> date:
    """The latest nominal deadline whose effective deadline (rolled to a working day) is before `day`: a deadline
    D is past on `day` iff D <= this date. (Every date from the last working day before `day` up to `day - 1` rolls
    forward to `day` or later, unless it is itself a working day.)"""
    last = day - timedelta(days=1)
    while not cal.is_working_day(last):
        last -= timedelta(days=1)
    return last


def due_soon_deadlines(cal: WorkCalendar, today: date, threshold: int) -> tuple[date, date]:
    """The nominal deadlines [lo, hi] whose timer is `due_soon` today (RecommendationTimer's own rule, as a range:
    both ends are monotonic in the deadline); empty when hi < lo."""
    lo = latest_deadline_before(cal, today) + timedelta(days=1)
    hi = lo - timedelta(days=1)
    while cal.subtract_working_days(cal.roll_forward(hi + timedelta(days=1)), threshold) <= today:
        hi += timedelta(days=1)
    return lo, hi


@dataclass(frozen=True)
class Criterion:
    kind: str  # area | rating
    code: str
    label: str
    position: int
    shortfall: bool = False  # a rating that means the unit was found short


DEFAULT_AREAS: tuple[Criterion, ...] = (
    Criterion("area", "reception", "Tiếp công dân", 1),
    Criterion("area", "letters", "Xử lý đơn", 2),
    Criterion("area", "complaints", "Giải quyết khiếu nại", 3),
    Criterion("area", "denunciations", "Giải quyết tố cáo", 4),
    Criterion("area", "enforcement", "Thi hành quyết định giải quyết khiếu nại, kết luận nội dung tố cáo", 5),
)
DEFAULT_RATINGS: tuple[Criterion, ...] = (
    Criterion("rating", "good", "Tốt", 1),
    Criterion("rating", "meets", "Đạt yêu cầu", 2),
    Criterion("rating", "below", "Không đạt yêu cầu", 3, shortfall=True),
)
