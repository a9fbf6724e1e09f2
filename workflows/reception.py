"""How often the head of a unit must receive citizens (tiếp công dân định kỳ), as versioned data.

LTCD art. 12 (province chair), 13 (district chair), 15 (commune chair), 18 (agency heads);
Law 136/2025 changes the commune rule from 2026-07-01. A unit may carry an admin override.
"""

from dataclasses import dataclass
from datetime import date


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
