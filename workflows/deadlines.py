"""Statutory periods as versioned data, and case timers computed from them.

Rule sets are keyed by the date the law took effect and chosen by the date of the event that starts
the period (receipt for processing and acceptance, acceptance for resolution). Values the law leaves
unconfirmed (the processing period's day type) are parameters of `rule_sets()`.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from workflows.calendar import Basis, WorkCalendar

_BASES = {b.value: b for b in Basis}


@dataclass(frozen=True)
class Period:
    basis: Basis
    days: int
    legal_basis: str


@dataclass(frozen=True)
class RuleSet:
    name: str
    effective_from: date
    processing: Period
    complaint_acceptance: Period
    denunciation_acceptance: Period
    denunciation_acceptance_multi_place: Period
    denunciation_transfer: Period
    # (round, remote, complex) → calendar days from acceptance (LKN art. 28, 37)
    complaint_resolution: dict[tuple[int, bool, bool], int]
    denunciation_resolution: Period
    denunciation_extension_max_days: int
    # complexity → how many extensions (LTC art. 30)
    denunciation_max_extensions: dict[str, int]
    complaint_send_decision: Period
    complaint_send_decision_second: Period
    denunciation_notify_acceptance: Period
    denunciation_send_conclusion: Period
    denunciation_publish_conclusion: Period
    complaint_filing_window: Period
    second_complaint_window: Period
    second_complaint_window_remote: Period
    complaint_suspension_allowed: bool
    complaint_notify_procedural: Period | None
    # The grounds on which an accepted complaint may be terminated (đình chỉ), by the acceptance date: before Law
    # 136/2025 only withdrawal (LKN art. 10); from 2026-07-01 also LKN art. 11a's (None: every ground of
    # workflows.cases.TERMINATE_REASONS).
    complaint_termination_reasons: frozenset[str] | None
    complaint_resolution_legal_basis: str = "LKN art. 28 (1st), art. 37 (2nd)"
    # Complaints against a disciplinary decision on an officer (LKN art. 46–51): a 15-day window from receiving the
    # decision (art. 48); (round, complex) → calendar days from acceptance (art. 50; the second round's art. 51
    # values are unconfirmed: data); no remote-area extension is written for them.
    disciplinary_filing_window: Period = Period(Basis.calendar, 15, "LKN art. 48")
    disciplinary_resolution: tuple[tuple[tuple[int, bool], int], ...] = (
        ((1, False), 30),
        ((1, True), 45),
        ((2, False), 30),
        ((2, True), 45),
    )
    disciplinary_resolution_legal_basis: str = "LKN art. 50 (1st), art. 51 (2nd, số ngày chưa xác nhận)"
    # LTC art. 30: each extension of a denunciation's resolution is a written decision notified to the parties. The
    # law (as LEGAL.md has it) sets no number of days for that notice: 3 working days here, as for the other
    # procedural decisions (Decree 155/2026), UNCONFIRMED — data, change it here when the rule is known.
    denunciation_notify_extension: Period = Period(
        Basis.working, 3, "LTC art. 30 (thông báo quyết định gia hạn; số ngày chưa xác nhận)"
    )

    def max_extensions(self, complexity: str) -> int:
        """How many times a denunciation of this complexity may be extended (LTC art. 30)."""
        return self.denunciation_max_extensions.get(complexity, 0)


def rule_sets(processing_days: int = 10, processing_basis: Basis = Basis.working) -> tuple[RuleSet, ...]:
    """LKN 2011 / LTC 2018 until 2026-06-30, Law 136/2025 from 2026-07-01."""
    cd, wd = Basis.calendar, Basis.working
    before = RuleSet(
        name="LKN 02/2011, LTC 25/2018",
        effective_from=date(2012, 7, 1),
        processing=Period(processing_basis, processing_days, "TT 05/2021/TT-TTCP (xử lý đơn)"),
        complaint_acceptance=Period(cd, 10, "LKN art. 27"),
        denunciation_acceptance=Period(wd, 7, "LTC art. 24"),
        denunciation_acceptance_multi_place=Period(wd, 10, "LTC art. 24 (xác minh nhiều nơi)"),
        denunciation_transfer=Period(wd, 5, "LTC art. 24 (không thuộc thẩm quyền: chuyển đơn)"),
        complaint_resolution={
            (1, False, False): 30,
            (1, False, True): 45,
            (1, True, False): 45,
            (1, True, True): 60,
            (2, False, False): 45,
            (2, False, True): 60,
            (2, True, False): 60,
            (2, True, True): 70,
        },
        denunciation_resolution=Period(cd, 30, "LTC art. 30"),
        denunciation_extension_max_days=30,
        denunciation_max_extensions={"normal": 0, "complex": 1, "especially_complex": 2},
        complaint_send_decision=Period(wd, 3, "LKN art. 32"),
        # LKN art. 41: the days are not confirmed in our statute extract (LEGAL.md: "about 7; make it data").
        complaint_send_decision_second=Period(wd, 7, "LKN art. 41 (số ngày chưa xác nhận)"),
        denunciation_notify_acceptance=Period(wd, 5, "LTC art. 29"),
        denunciation_send_conclusion=Period(wd, 5, "LTC art. 35"),
        denunciation_publish_conclusion=Period(wd, 7, "LTC art. 40"),
        complaint_filing_window=Period(cd, 90, "LKN art. 9"),
        second_complaint_window=Period(cd, 30, "LKN art. 33"),
        second_complaint_window_remote=Period(cd, 45, "LKN art. 33"),
        complaint_suspension_allowed=False,
        complaint_notify_procedural=None,
        complaint_termination_reasons=frozenset({"withdrawn"}),
    )
    after = replace(
        before,
        name="Law 136/2025/QH15",
        effective_from=date(2026, 7, 1),
        complaint_acceptance=Period(wd, 7, "LKN art. 27 as amended by Law 136/2025"),
        complaint_suspension_allowed=True,
        complaint_termination_reasons=None,
        complaint_notify_procedural=Period(
            wd, 3, "Decree 155/2026/NĐ-CP (gửi quyết định tạm đình chỉ, tiếp tục, đình chỉ)"
        ),
    )
    return (before, after)


RULE_SETS = rule_sets()


def rules_on(on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> RuleSet:
    candidates = [s for s in sets if s.effective_from <= on]
    return max(candidates, key=lambda s: s.effective_from) if candidates else min(sets, key=lambda s: s.effective_from)


class TimerStatus(StrEnum):
    running = "running"
    paused = "paused"
    met = "met"  # completed on or before the due date
    met_late = "met_late"
    overdue = "overdue"


@dataclass(frozen=True)
class Timer:
    """One statutory period on a case. Stored as data; status and remaining days are derived."""

    name: str
    basis: Basis
    days: int
    start_date: date
    legal_basis: str
    extended_days: int = 0
    paused_days: int = 0
    paused_since: date | None = None
    completed_on: date | None = None
    # Alerts already recorded for the current due date (reset whenever the due date moves).
    warned: bool = False
    breached: bool = False

    def due_date(self, cal: WorkCalendar) -> date:
        return _due(cal, self.start_date, self.days + self.extended_days, self.basis, self.paused_days)

    def status(self, cal: WorkCalendar, today: date) -> TimerStatus:
        due = self.due_date(cal)
        if self.completed_on is not None:
            return TimerStatus.met if self.completed_on <= due else TimerStatus.met_late
        if self.paused_since is not None:
            return TimerStatus.paused
        return TimerStatus.overdue if today > due else TimerStatus.running

    def remaining_days(self, cal: WorkCalendar, today: date) -> int | None:
        """Days left (in the timer's own basis) until the due date; negative once overdue."""
        if self.completed_on is not None:
            return None
        ref = self.paused_since or today
        due = self.due_date(cal)
        if self.basis is Basis.working:
            return cal.working_days_between(ref, due)
        return (due - ref).days

    def is_open(self) -> bool:
        return self.completed_on is None

    def view(self, cal: WorkCalendar, today: date) -> dict[str, Any]:
        return {
            "name": self.name,
            "basis": self.basis.value,
            "start_date": self.start_date,
            "due_date": self.due_date(cal),
            "status": self.status(cal, today),
            "remaining_days": self.remaining_days(cal, today),
            "days": self.days + self.extended_days,
            "legal_basis": self.legal_basis,
            "completed_on": self.completed_on,
        }

    def to_dict(self) -> dict[str, Any]:
        # Written out (not dataclasses.asdict, which deep-copies): the sweep serialises thousands of these.
        return {
            "name": self.name,
            "basis": self.basis.value,
            "days": self.days,
            "start_date": self.start_date.isoformat(),
            "legal_basis": self.legal_basis,
            "extended_days": self.extended_days,
            "paused_days": self.paused_days,
            "paused_since": self.paused_since.isoformat() if self.paused_since else None,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "warned": self.warned,
            "breached": self.breached,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Timer":
        paused_since, completed_on = d.get("paused_since"), d.get("completed_on")
        return cls._of(
            {
                "name": d["name"],
                "basis": _BASES[d["basis"]],
                "days": int(d["days"]),
                "start_date": date.fromisoformat(d["start_date"]),
                "legal_basis": d.get("legal_basis", ""),
                "extended_days": int(d.get("extended_days", 0)),
                "paused_days": int(d.get("paused_days", 0)),
                "paused_since": date.fromisoformat(paused_since) if paused_since else None,
                "completed_on": date.fromisoformat(completed_on) if completed_on else None,
                "warned": bool(d.get("warned", False)),
                "breached": bool(d.get("breached", False)),
            }
        )

    def flagged(self, *, warned: bool, breached: bool) -> "Timer":
        """This timer with its alert flags set (`dataclasses.replace` at a seventh of the cost: the sweep flags
        thousands)."""
        return Timer._of({**self.__dict__, "warned": warned, "breached": breached})

    @classmethod
    def _of(cls, fields: dict[str, Any]) -> "Timer":
        """A timer from all of its fields, already of their types (the frozen dataclass's __init__ sets them one
        by one through object.__setattr__, which costs more than the rest of reading a stored timer)."""
        timer = object.__new__(cls)
        timer.__dict__.update(fields)
        return timer


@lru_cache(maxsize=65536)
def _due(cal: WorkCalendar, start: date, days: int, basis: Basis, paused_days: int) -> date:
    """Due dates repeat across thousands of cases (same start, period, calendar): computed once each."""
    # Suspended time is not counted: the paused days (in the period's own basis) are added to the period
    # itself, and only its end rolls past days off, once (BLDS art. 148; never roll first and add afterwards).
    return cal.add(start, days + paused_days, basis)


def _timer(name: str, period: Period, start: date) -> Timer:
    return Timer(name=name, basis=period.basis, days=period.days, start_date=start, legal_basis=period.legal_basis)


@dataclass(frozen=True)
class CaseFacts:
    """What the deadlines depend on."""

    kind: str
    complaint_round: int = 1
    complexity: str = "normal"
    remote_area: bool = False
    multi_place_verification: bool = False
    # Received by a unit that is not competent (e.g. a level-skipping letter).
    competent_elsewhere: bool = False
    # A complaint against a disciplinary decision on an officer (LKN art. 46–51).
    disciplinary: bool = False


def intake_timers(facts: CaseFacts, received_on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """Processing (xử lý đơn) for every letter; acceptance (thụ lý) for complaints and denunciations;
    a denunciation received by a unit that is not competent must be transferred within 5 working days."""
    rules = rules_on(received_on, sets)
    timers = [_timer("processing", rules.processing, received_on)]
    if facts.kind == "complaint":
        timers.append(_timer("acceptance", rules.complaint_acceptance, received_on))
    elif facts.kind == "denunciation":
        period = (
            rules.denunciation_acceptance_multi_place
            if facts.multi_place_verification
            else rules.denunciation_acceptance
        )
        timers.append(_timer("acceptance", period, received_on))
        if facts.competent_elsewhere:
            timers.append(_timer("transfer", rules.denunciation_transfer, received_on))
    return timers


def complaint_resolution_period(facts: CaseFacts, rules: RuleSet) -> Period:
    complex_ = facts.complexity in ("complex", "especially_complex")
    if facts.disciplinary:
        days = dict(rules.disciplinary_resolution)[(facts.complaint_round, complex_)]
        return Period(Basis.calendar, days, rules.disciplinary_resolution_legal_basis)
    days = rules.complaint_resolution[(facts.complaint_round, facts.remote_area, complex_)]
    return Period(Basis.calendar, days, rules.complaint_resolution_legal_basis)


def acceptance_timers(facts: CaseFacts, accepted_on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """Resolution from the acceptance date; a denunciation's acceptance is notified within 5 working days."""
    rules = rules_on(accepted_on, sets)
    if facts.kind == "complaint":
        return [_timer("resolution", complaint_resolution_period(facts, rules), accepted_on)]
    if facts.kind == "denunciation":
        return [
            _timer("resolution", rules.denunciation_resolution, accepted_on),
            _timer("notify_acceptance", rules.denunciation_notify_acceptance, accepted_on),
        ]
    return []


COMPLEXITY_ORDER = ("normal", "complex", "especially_complex")


def recomplexed(timers: list[Timer], facts: CaseFacts, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """A complaint's running resolution period after the resolver decides its complexity (LKN art. 28, 37:
    30/45 becomes 45/60, 60/70 in remote areas), counted from the same acceptance date under the same rules."""
    if facts.kind != "complaint":
        return timers
    out = []
    for t in timers:
        if t.name == "resolution" and t.is_open():
            period = complaint_resolution_period(facts, rules_on(t.start_date, sets))
            t = replace(t, days=period.days, legal_basis=period.legal_basis, warned=False, breached=False)
        out.append(t)
    return out


def period_ended(timers: list[Timer], name: str, on: date, cal: WorkCalendar) -> date | None:
    """The due date of the open period `name` if it had already ended before `on` (LEGAL.md: an extension, and a
    complexity decision that lengthens the period, is decided while the period still runs), else None. A suspended
    period stopped running on its suspension: it ended only if it had ended before that."""
    for t in timers:
        if t.name == name and t.is_open():
            due = t.due_date(cal)
            if (t.paused_since or on) > due:
                return due
    return None


def resolution_timers(facts: CaseFacts, decided_on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """Notification duties after the decision (complaints) or conclusion (denunciations)."""
    rules = rules_on(decided_on, sets)
    if facts.kind == "complaint":
        # LKN art. 32 (first round) and art. 41 (second round) each set a duty to send the decision.
        period = rules.complaint_send_decision if facts.complaint_round == 1 else rules.complaint_send_decision_second
        return [_timer("send_decision", period, decided_on)]
    if facts.kind == "denunciation":
        return [
            _timer("send_conclusion", rules.denunciation_send_conclusion, decided_on),
            _timer("publish_conclusion", rules.denunciation_publish_conclusion, decided_on),
        ]
    return []


# Notification duties: met only by a recorded notice (POST /cases/{id}/notices), never by closing the case. The
# one list of them: the notice endpoint accepts exactly these, and every timer the engine creates is either one of
# them or one of PERIOD_TIMERS (a test walks the engine to keep it so).
NOTICE_TIMERS = frozenset(
    {
        "notify_acceptance",  # LTC art. 29
        "send_decision",  # LKN art. 32, 41
        "send_conclusion",  # LTC art. 35
        "publish_conclusion",  # LTC art. 40
        "notify_suspension",  # Decree 155/2026
        "notify_resumption",  # Decree 155/2026
        "notify_termination",  # Decree 155/2026
        "notify_extension",  # LTC art. 30 (days unconfirmed: RuleSet.denunciation_notify_extension)
    }
)
# Periods ended by a step of the case itself (processing, acceptance, transfer, resolution), never by a notice.
PERIOD_TIMERS = frozenset({"processing", "acceptance", "transfer", "resolution"})


def complete(timers: list[Timer], names: set[str] | None, on: date) -> list[Timer]:
    """Mark open timers (all, or those named) as done on `on`."""
    return [
        replace(
            t,
            completed_on=on,
            paused_since=None,
            paused_days=t.paused_days + ((on - t.paused_since).days if t.paused_since else 0),
        )
        if t.is_open() and (names is None or t.name in names)
        else t
        for t in timers
    ]


def complete_one(timers: list[Timer], index: int, on: date) -> list[Timer]:
    """Mark the one open timer at `index` as done on `on` (a notice meets the duty of one decision only)."""
    return [complete([t], None, on)[0] if i == index else t for i, t in enumerate(timers)]


def notice_duty(timers: list[Timer], name: str, sent_on: date, decision_date: date | None = None) -> int | None:
    """The index of the open duty a notice meets: the one for the decision it notifies (Decree 155/2026; every step on
    or after the step before it). With `decision_date`, the open duty of that name started that day; otherwise the
    latest open duty of that name started on or before `sent_on` (a notice is never dated before its decision). When
    every open duty started after `sent_on`, the earliest, so that the step order refuses the notice by that
    decision's date. None when no open duty matches."""
    open_ = [(t.start_date, i) for i, t in enumerate(timers) if t.name == name and t.is_open()]
    if decision_date is not None:
        return next((i for start, i in open_ if start == decision_date), None)
    if not open_:
        return None
    started = [(start, i) for start, i in open_ if start <= sent_on]
    return max(started)[1] if started else min(open_)[1]


SUSPENDED_TIMERS = frozenset({"resolution"})  # LTC art. 34, LKN art. 11a: only the resolution period stops


def pause(timers: list[Timer], on: date, names: frozenset[str] = SUSPENDED_TIMERS) -> list[Timer]:
    return [
        replace(t, paused_since=on) if t.is_open() and t.paused_since is None and t.name in names else t for t in timers
    ]


def resume(timers: list[Timer], on: date, cal: WorkCalendar | None = None) -> list[Timer]:
    """Unpause: the days paused are counted in the timer's basis (working days for a working-day period)."""

    def paused(t: Timer) -> int:
        assert t.paused_since is not None
        if t.basis is Basis.working and cal is not None:
            return cal.working_days_between(t.paused_since, on)
        return (on - t.paused_since).days

    return [
        replace(t, paused_since=None, paused_days=t.paused_days + paused(t), warned=False, breached=False)
        if t.is_open() and t.paused_since is not None
        else t
        for t in timers
    ]


def procedural_notice(name: str, facts: CaseFacts, on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """Decree 155/2026 (from 2026-07-01): a complaint's suspension, resumption or termination decision is sent
    within 3 working days; `name` is the duty (notify_suspension | notify_resumption | notify_termination)."""
    period = rules_on(on, sets).complaint_notify_procedural
    return [_timer(name, period, on)] if period is not None and facts.kind == "complaint" else []


def extension_notice(facts: CaseFacts, on: date, sets: tuple[RuleSet, ...] = RULE_SETS) -> list[Timer]:
    """LTC art. 30: a denunciation's extension decided on `on` is notified to the parties (`notify_extension`; the
    number of days is unconfirmed data, `RuleSet.denunciation_notify_extension`)."""
    if facts.kind != "denunciation":
        return []
    return [_timer("notify_extension", rules_on(on, sets).denunciation_notify_extension, on)]


def extend(timers: list[Timer], name: str, days: int) -> list[Timer]:
    return [
        replace(t, extended_days=t.extended_days + days, warned=False, breached=False)
        if t.name == name and t.is_open()
        else t
        for t in timers
    ]


def running(timers: list[Timer]) -> list[Timer]:
    return [t for t in timers if t.is_open() and t.paused_since is None]


def max_due(timers: list[Timer], cal: WorkCalendar) -> date | None:
    """The latest due date among open timers, paused ones included (a calendar change at or before it
    may move one of them)."""
    dues = [t.due_date(cal) for t in timers if t.is_open()]
    return max(dues) if dues else None


def warn_date(timer: Timer, cal: WorkCalendar, threshold: int) -> date:
    """From this day on the timer is due soon: `threshold` working days or fewer remain."""
    return cal.subtract_working_days(timer.due_date(cal), threshold)


def next_alert(timers: list[Timer], cal: WorkCalendar, threshold: int) -> date | None:
    """The next day on which the sweep has something to record: a due-soon warning or a breach
    (overdue from the day after the due date)."""
    dates = []
    for t in running(timers):
        if t.breached:
            continue
        dates.append(t.due_date(cal) + timedelta(days=1) if t.warned else warn_date(t, cal, threshold))
    return min(dates) if dates else None


@dataclass(frozen=True)
class Alert:
    timer: str
    kind: str  # "due_soon" | "overdue"
    due_date: date


# LTC art. 38: the denouncer may take a denunciation to the head directly above the resolver when its resolution
# period passed unresolved (or the resolution was unlawful). A late acceptance notice, conclusion or publication is a
# breach of that duty (recorded as such), not a ground for escalating the case.
ESCALATING_TIMERS = frozenset({"resolution"})


def escalates(kind: str, alert: Alert) -> bool:
    """Whether this breach escalates the case to the supervising unit (LTC art. 38)."""
    return kind == "denunciation" and alert.kind == "overdue" and alert.timer in ESCALATING_TIMERS


def sweep(timers: list[Timer], cal: WorkCalendar, today: date, threshold: int) -> tuple[list[Timer], list[Alert]]:
    """Alerts due today for a case's timers, each recorded once: the timers come back flagged."""
    alerts: list[Alert] = []
    out: list[Timer] = []
    for t in timers:
        if t.is_open() and t.paused_since is None and not t.breached:
            due = t.due_date(cal)
            if today > due:
                alerts.append(Alert(t.name, "overdue", due))
                t = t.flagged(warned=True, breached=True)
            elif not t.warned and today >= warn_date(t, cal, threshold):
                alerts.append(Alert(t.name, "due_soon", due))
                t = t.flagged(warned=True, breached=t.breached)
        out.append(t)
    return out, alerts


def next_due(timers: list[Timer], cal: WorkCalendar) -> date | None:
    """The earliest due date among running timers (indexed on the case for overdue filters)."""
    dues = [t.due_date(cal) for t in timers if t.is_open() and t.paused_since is None]
    return min(dues) if dues else None


def filing_window_due(
    facts: CaseFacts, start: date, cal: WorkCalendar, sets: tuple[RuleSet, ...] = RULE_SETS
) -> tuple[date, str]:
    """Last day to file: 90 days from learning of the decision (1st complaint), 15 days from receiving a
    disciplinary decision (LKN art. 48), 30 / 45 (remote) days from the 1st decision (2nd complaint). Checked at
    intake and shown as a warning only."""
    rules = rules_on(start, sets)
    if facts.disciplinary and facts.complaint_round == 1:
        period = rules.disciplinary_filing_window
    elif facts.complaint_round == 2:
        period = rules.second_complaint_window_remote if facts.remote_area else rules.second_complaint_window
    else:
        period = rules.complaint_filing_window
    return cal.add_calendar_days(start, period.days), period.legal_basis
