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


RULES: tuple[ReceptionRule, ...] = (
    ReceptionRule("province", date(2014, 7, 1), 1, "month", "LTCD art. 12"),
    ReceptionRule("district", date(2014, 7, 1), 2, "month", "LTCD art. 13"),
    ReceptionRule("commune", date(2014, 7, 1), 1, "week", "LTCD art. 15"),
    ReceptionRule("commune", date(2026, 7, 1), 2, "month", "LTCD art. 15 as amended by Law 136/2025"),
    ReceptionRule("agency", date(2014, 7, 1), 1, "month", "LTCD art. 18"),
    ReceptionRule("inspectorate", date(2014, 7, 1), 1, "month", "LTCD art. 18"),
)


def required_reception(level: str, on: date, rules: tuple[ReceptionRule, ...] = RULES) -> ReceptionRule | None:
    """The rule in force for `level` on the date `on` (latest effective_from not after it)."""
    candidates = [r for r in rules if r.level == level and r.effective_from <= on]
    return max(candidates, key=lambda r: r.effective_from) if candidates else None
