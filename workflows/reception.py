"""How often the head of a unit must receive citizens (tiếp công dân định kỳ), as versioned data.

LTCD art. 12 (province chair), 13 (district chair), 15 (commune chair), 18 (agency heads);
Law 136/2025 changes the commune rule from 2026-07-01. A unit may carry an admin override.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from workflows.calendar import WorkCalendar


@dataclass(frozen=True)
class ReceptionRule:
    level: str
    effective_from: date
    days: int
    per: str  # "week" | "month"
    basis: str
    effective_to: date | None = None  # last day in force (None: still in force)


RULES: tuple[ReceptionRule, ...] = (
    ReceptionRule("province", date(2014, 7, 1), 1, "month", "LTCD art. 12"),
    # District People's Committees were abolished from 2025-07-01 (two-level local government).
    ReceptionRule("district", date(2014, 7, 1), 2, "month", "LTCD art. 13", effective_to=date(2025, 6, 30)),
    ReceptionRule("commune", date(2014, 7, 1), 1, "week", "LTCD art. 15"),
    ReceptionRule("commune", date(2026, 7, 1), 2, "month", "LTCD art. 15 as amended by Law 136/2025"),
    ReceptionRule("agency", date(2014, 7, 1), 1, "month", "LTCD art. 18"),
    ReceptionRule("inspectorate", date(2014, 7, 1), 1, "month", "LTCD art. 18"),
)


def required_reception(level: str, on: date, rules: tuple[ReceptionRule, ...] = RULES) -> ReceptionRule | None:
    """The rule in force for `level` on the date `on` (latest effective_from not after it, not yet ended)."""
    candidates = [r for r in rules if r.level == level and r.effective_from <= on]
    rule = max(candidates, key=lambda r: r.effective_from) if candidates else None
    return None if rule is None or (rule.effective_to is not None and on > rule.effective_to) else rule


def per_month(days: int, per: str) -> float:
    """Days of reception a month, to compare a weekly rule with a monthly one."""
    return days * 52 / 12 if per == "week" else float(days)


def below_minimum(level: str, on: date, days: int, per: str) -> ReceptionRule | None:
    """The legal rule that an override of `days` per `per` would fall short of, or None when it does not."""
    legal = required_reception(level, on)
    return legal if legal is not None and per_month(days, per) < per_month(legal.days, legal.per) else None


def requirement(level: str, on: date, override: tuple[int, str] | None) -> ReceptionRule | None:
    """What the head must do on `on`: the unit's override when it asks at least as much as the law (an admin
    may raise the requirement, never lower it), else the law."""
    if override is not None and below_minimum(level, on, *override) is None:
        return ReceptionRule(level, on, override[0], override[1], "override")
    return required_reception(level, on)


# Groups (đoàn đông người): LTCD art. 29 and Decree 154/2026 — 5 or more people on one matter appoint
# representatives in writing: 1–2 for 5–10 people, at most 5 for more.
GROUP_MIN_PEOPLE = 5


def is_group(people: int) -> bool:
    return people >= GROUP_MIN_PEOPLE


def representatives_allowed(people: int) -> range:
    """How many representatives a group of `people` may appoint (empty range below the group size)."""
    if not is_group(people):
        return range(0)
    return range(1, 3) if people <= 10 else range(1, 6)


def may_receive_online(kind: str, identity_protection_requested: bool) -> bool:
    """Decree 154/2026: a denunciation whose author asks for identity protection is never received online."""
    return not (kind == "denunciation" and identity_protection_requested)


# Sessions (LTCD art. 12–18; Decree 154/2026): what a reception session is and how it may move.
class SessionKind(StrEnum):
    regular = "regular"  # the reception office's daily work (tiếp thường xuyên)
    periodic = "periodic"  # the head's scheduled day (tiếp định kỳ)
    adhoc = "adhoc"  # urgent, complex or mass matters (tiếp đột xuất)


class Mode(StrEnum):
    direct = "direct"
    online = "online"  # LTCD art. 3a as amended by Law 136/2025; Decree 154/2026 art. 16–24


class SessionStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"


# The head's reception (periodic and ad-hoc): each ends with a conclusion notice, and both are the head's sessions of
# form 01/TCD.
HEAD_KINDS = frozenset({SessionKind.periodic, SessionKind.adhoc})
# What meets the head's periodic requirement (LTCD art. 12–18: "định kỳ"): the periodic days only. Ad-hoc reception
# (đột xuất: urgent, complex or mass matters) is a duty beside them, listed next to them, never making up a
# shortfall.
COUNTED_KINDS = frozenset({SessionKind.periodic})
SESSION_MOVES: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.scheduled: frozenset({SessionStatus.held, SessionStatus.cancelled}),
    SessionStatus.held: frozenset(),
    SessionStatus.cancelled: frozenset(),
}


def may_move(current: str, target: str) -> bool:
    return current == target or SessionStatus(target) in SESSION_MOVES[SessionStatus(current)]


ONLINE_NOTICE_WORKING_DAYS = 5  # Decree 154/2026: the citizen is told at least 5 working days ahead
REFUSAL_NOTICE_WORKING_DAYS = 3  # Decree 154/2026: a refusal is notified in writing within 3 working days
ONLINE_BASIS = "Nghị định 154/2026/NĐ-CP (tiếp công dân trực tuyến)"


def latest_online_notice(session_day: date, cal: WorkCalendar) -> date:
    """The last day on which the citizen may be told of an online session on `session_day` (at least
    5 working days ahead, the notice day itself not counted)."""
    return cal.subtract_working_days(session_day, ONLINE_NOTICE_WORKING_DAYS)


@dataclass(frozen=True)
class RefusalNoticeRule:
    effective_from: date
    working_days: int | None  # None: no written refusal notice is owed by a deadline
    basis: str


# The written notice of a refusal (LTCD art. 9) by the date of the refusal: none was owed by a deadline before
# Decree 154/2026 came into force on 2026-07-01; from then, within 3 working days.
REFUSAL_NOTICE_RULES: tuple[RefusalNoticeRule, ...] = (
    RefusalNoticeRule(date(2014, 7, 1), None, "LTCD art. 9 (no deadline for a written notice)"),
    RefusalNoticeRule(date(2026, 7, 1), REFUSAL_NOTICE_WORKING_DAYS, "Decree 154/2026"),
)


def refusal_notice_rule(
    refused_on: date, rules: tuple[RefusalNoticeRule, ...] = REFUSAL_NOTICE_RULES
) -> RefusalNoticeRule:
    """The refusal-notice rule in force on the day of the refusal."""
    return max((r for r in rules if r.effective_from <= refused_on), key=lambda r: r.effective_from, default=rules[0])


def refusal_notice_due(refused_on: date, cal: WorkCalendar) -> date | None:
    """When the written notice of a refusal on `refused_on` is due, or None when no deadline applied that day."""
    days = refusal_notice_rule(refused_on).working_days
    return None if days is None else cal.add_working_days(refused_on, days)


@dataclass(frozen=True)
class RefusalGround:
    code: str
    text: str
    basis: str


# LTCD art. 9: the cases in which a reception officer may refuse to receive a person.
REFUSAL_GROUNDS: dict[str, RefusalGround] = {
    g.code: g
    for g in (
        RefusalGround(
            "incapacitated",
            "Người trong tình trạng say do dùng chất kích thích, người mắc bệnh tâm thần hoặc bệnh khác làm mất "
            "khả năng nhận thức hoặc khả năng điều khiển hành vi của mình",
            "Luật Tiếp công dân, điều 9 khoản 1",
        ),
        RefusalGround(
            "threats_or_insults",
            "Người có hành vi đe dọa, xúc phạm cơ quan, tổ chức, đơn vị, người tiếp công dân, người thi hành công "
            "vụ hoặc có hành vi khác vi phạm nội quy nơi tiếp công dân",
            "Luật Tiếp công dân, điều 9 khoản 2",
        ),
        RefusalGround(
            "already_settled",
            "Người khiếu nại, tố cáo về vụ việc đã giải quyết đúng chính sách, pháp luật, đã được kiểm tra, rà "
            "soát, thông báo bằng văn bản và đã được tiếp, giải thích, hướng dẫn nhưng vẫn cố tình khiếu nại, tố "
            "cáo kéo dài",
            "Luật Tiếp công dân, điều 9 khoản 3",
        ),
        RefusalGround(
            "other_by_law",
            "Những trường hợp khác theo quy định của pháp luật",
            "Luật Tiếp công dân, điều 9 khoản 4",
        ),
    )
}


@dataclass(frozen=True)
class DelegationRule:
    effective_from: date
    counts: bool
    basis: str


# Whether a session a deputy holds for the head (ủy quyền tiếp) counts toward the head's requirement.
DELEGATION_RULES: tuple[DelegationRule, ...] = (
    DelegationRule(date(2014, 7, 1), True, "LTCD art. 12–18 (ủy quyền cấp phó tiếp)"),
    DelegationRule(date(2026, 7, 1), False, "Law 136/2025: the head receives in person (trực tiếp)"),
)


def delegation_counts(on: date, rules: tuple[DelegationRule, ...] = DELEGATION_RULES) -> bool:
    in_force = [r for r in rules if r.effective_from <= on]
    return max(in_force, key=lambda r: r.effective_from).counts if in_force else True


def mondays_in(month: date) -> int:
    """Weeks attributed to a month: those whose Monday falls in it (so no week is counted twice)."""
    first = month.replace(day=1)
    offset = (7 - first.weekday()) % 7
    return len(range(1 + offset, monthrange(first.year, first.month)[1] + 1, 7))


def required_days(rule: ReceptionRule, month: date) -> int:
    """Days of reception `rule` asks for in the calendar month of `month`."""
    return rule.days * mondays_in(month) if rule.per == "week" else rule.days


# Weeks as the weekly rule counts them (LTCD art. 15 before 2026-07-01: "ít nhất 01 ngày trong 01 tuần"): calendar
# weeks Monday–Sunday (ISO), each attributed to the month holding its Monday, so a week split across two months is
# counted once, in the first. A day belongs to the month of its week's Monday when the rule in force in both months
# is weekly; otherwise to its calendar month (so across the change to Law 136/2025's 2 days a month, Wed 1 – Sun 5
# July 2026 are July's days and the week of Mon 29 June keeps only 29–30 June).


def week_of(day: date) -> date:
    """The Monday of the week holding `day`."""
    return date.fromordinal(day.toordinal() - day.weekday())


def _weekly(level: str, month: date, override: tuple[int, str] | None) -> bool:
    rule = requirement(level, month, override)
    return rule is not None and rule.per == "week"


def duty_month(level: str, day: date, override: tuple[int, str] | None = None) -> date:
    """The month (its first day) whose reception duty a day of reception counts toward."""
    own = day.replace(day=1)
    monday = week_of(day).replace(day=1)
    if monday != own and _weekly(level, own, override) and _weekly(level, monday, override):
        return monday
    return own


def last_duty_day(level: str, month: date, override: tuple[int, str] | None = None) -> date:
    """The last day counted toward the month's duty: the Sunday of its last week under a weekly rule whose next
    month is weekly too, else the month's last day (the month is over, its shortfall final, after this day)."""
    first = month.replace(day=1)
    end = first.replace(day=monthrange(first.year, first.month)[1])
    nxt = date.fromordinal(end.toordinal() + 1)
    if _weekly(level, first, override) and _weekly(level, nxt, override):
        return date.fromordinal(week_of(end).toordinal() + 6)
    return end


@dataclass(frozen=True)
class MonthCompliance:
    month: date  # first day of the month
    required: int
    in_person_days: int
    delegated_days: int
    counted_days: int
    shortfall: int
    basis: str
    delegation_counts: bool
    adhoc_days: tuple[date, ...] = ()  # days of ad-hoc reception: listed, never counted toward `required`
    weeks_short: tuple[date, ...] = ()  # under a weekly rule, the Mondays of the month's weeks left short


def month_compliance(
    level: str,
    month: date,
    in_person: set[date],
    delegated: set[date],
    override: tuple[int, str] | None = None,
    adhoc: set[date] | None = None,
) -> MonthCompliance | None:
    """How a head did in one month: distinct periodic days received in person and delegated (a day with both counts
    once, as in person), the days the rule in force on the month's first day asks for, and the shortfall (a month's
    surplus never makes up another month's shortfall). Under a weekly rule (LTCD art. 15 before 2026-07-01) each
    week whose Monday is in the month is checked on its own: its shortfall is what it lacks of the weekly days, and a
    week's surplus never makes up another week (five days in the first week of June 2026 and none after: 4 short).
    The days given are those `duty_month` attributes to the month. `in_person` and `delegated` are periodic days
    only; the `adhoc` days are listed beside them and never reduce the shortfall (LTCD art. 12–18: ad-hoc reception
    is a separate duty). None when no rule applies to the level."""
    first = month.replace(day=1)
    rule = requirement(level, first, override)
    if rule is None:
        return None
    delegated_only = delegated - in_person
    counts = delegation_counts(first)
    counted_set = in_person | (delegated_only if counts else set())
    need = required_days(rule, first)
    weeks_short: tuple[date, ...] = ()
    if rule.per == "week":
        last = monthrange(first.year, first.month)[1]
        mondays = [first.replace(day=d) for d in range(1, last + 1) if first.replace(day=d).weekday() == 0]
        held = {w: sum(1 for d in counted_set if week_of(d) == w) for w in mondays}
        weeks_short = tuple(w for w in mondays if held[w] < rule.days)
        shortfall = sum(rule.days - held[w] for w in weeks_short)
    else:
        shortfall = max(0, need - len(counted_set))
    return MonthCompliance(
        month=first,
        required=need,
        in_person_days=len(in_person),
        delegated_days=len(delegated_only),
        counted_days=len(counted_set),
        shortfall=shortfall,
        basis=rule.basis,
        delegation_counts=counts,
        adhoc_days=tuple(sorted(adhoc or ())),
        weeks_short=weeks_short,
    )
