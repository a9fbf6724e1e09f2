"""The heads' reception duty (LTCD art. 12–18): per unit and month, the days its head must receive citizens under
the rules in force (`workflows.reception`), the distinct days received in person and by delegation on sittings that
took place, the ad-hoc days beside them, and the shortfall of the months already over."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.reception import MonthOut, ReceptionSession
from api.models.unit import Unit
from api.pagination import decode_cursor, encode_cursor
from api.services.reception.scope import unit_in_scope, unit_scope
from api.services.reception.sittings import took_place
from api.services.stats import accused
from workflows import periods
from workflows import reception as rules
from workflows.cases import Role


def parse_period(label: str) -> periods.Period:
    try:
        return periods.parse(label, allow=frozenset({"month", "quarter", "year"}))
    except periods.PeriodError as exc:
        raise DomainError(Code.invalid_period, details={"field": "period", "hint": str(exc)}) from None


async def compliance(
    session: AsyncSession,
    principal: Officer,
    period: periods.Period,
    *,
    unit_id: int | None,
    today: date,
    limit: int,
    cursor: str | None,
    hide: accused.Hidden | None | Literal["ask"] = "ask",
) -> tuple[list[dict[str, Any]], str | None]:
    """Each unit's head: distinct days received in person and delegated, the days required month by month
    under the rules in force, and the shortfall of the months already over; units short first. For a caller named
    as accused (`hide`; looked up unless given), a sitting counts through its entries only over those they may read
    (sittings.took_place)."""
    if not principal.has(Role.inspector, Role.unit_head):
        raise DomainError(Code.forbidden, details={"required_roles": [Role.inspector.value, Role.unit_head.value]})
    if isinstance(hide, str):
        hide = await accused.of(session, principal)
    scope: ColumnElement[bool] = unit_scope(principal)
    if unit_id is not None:
        root = await unit_in_scope(session, principal, unit_id)
        scope = Unit.path.startswith(root.path)
    units = (await session.execute(sa.select(Unit).where(scope, Unit.is_active).order_by(Unit.code))).scalars().all()
    # Held sittings only: a scheduled or cancelled one counts nowhere, unless it has entries in the register (LTCD art.
    # 25: people were received on it, so it took place, whatever its stored status) — but an online one without its
    # recording never counts (Decree 154/2026: it cannot be held); see sittings.took_place.
    days = await session.execute(
        sa.select(
            ReceptionSession.unit_id,
            ReceptionSession.day,
            ReceptionSession.kind,
            sa.func.bool_or(ReceptionSession.in_person),
        )
        .join(Unit, Unit.id == ReceptionSession.unit_id)
        .where(
            scope,
            took_place(hide),
            ReceptionSession.kind.in_([k.value for k in rules.HEAD_KINDS]),
            # a weekly rule's last week of the period may end in the days after it (`rules.duty_month`)
            ReceptionSession.day.between(period.start, period.end + timedelta(days=6)),
        )
        .group_by(ReceptionSession.unit_id, ReceptionSession.day, ReceptionSession.kind)
    )
    overrides = {u.id: _override(u) for u in units}
    levels = {u.id: u.level for u in units}
    in_person: dict[tuple[int, date], set[date]] = defaultdict(set)
    delegated: dict[tuple[int, date], set[date]] = defaultdict(set)
    adhoc: dict[tuple[int, date], set[date]] = defaultdict(set)
    for unit, day, kind, any_in_person in days.tuples():
        # the month whose duty the day counts toward: its calendar month, or under a weekly rule the month of its
        # week's Monday (LTCD art. 15 before 2026-07-01)
        key = (unit, rules.duty_month(levels[unit], day, overrides[unit]))
        if rules.SessionKind(kind) in rules.COUNTED_KINDS:
            (in_person if any_in_person else delegated)[key].add(day)
        else:  # ad-hoc: listed beside the periodic days, never counted toward them (LTCD art. 12–18)
            adhoc[key].add(day)
    months = [m for m in period.months() if m <= today]
    rows = []
    for unit in units:
        assert unit.id is not None
        override = overrides[unit.id]
        per_month = []
        for month in months:
            key = (unit.id, month)
            mc = rules.month_compliance(unit.level, month, in_person[key], delegated[key], override, adhoc=adhoc[key])
            if mc is not None:
                per_month.append((mc, rules.last_duty_day(unit.level, month, override) < today))
        if not per_month:
            continue
        rows.append(
            {
                "unit_id": unit.id,
                "unit_code": unit.code,
                "unit_name": unit.name,
                "level": unit.level,
                "required_days": sum(m.required for m, _ in per_month),
                "in_person_days": sum(m.in_person_days for m, _ in per_month),
                "delegated_days": sum(m.delegated_days for m, _ in per_month),
                "counted_days": sum(m.counted_days for m, _ in per_month),
                "adhoc_days": sum(len(m.adhoc_days) for m, _ in per_month),
                "shortfall": sum(m.shortfall for m, over in per_month if over),
                "months": [
                    MonthOut(
                        month=m.month.strftime("%Y-%m"),
                        required=m.required,
                        in_person_days=m.in_person_days,
                        delegated_days=m.delegated_days,
                        counted_days=m.counted_days,
                        adhoc_days=len(m.adhoc_days),
                        adhoc_dates=list(m.adhoc_days),
                        shortfall=m.shortfall,
                        weeks_short=list(m.weeks_short),
                        delegation_counts=m.delegation_counts,
                        basis=m.basis,
                        complete=over,
                    )
                    for m, over in per_month
                ],
            }
        )
    rows.sort(key=lambda r: (-r["shortfall"], r["unit_code"]))
    start = (decode_cursor(cursor, int) or [0])[0]
    page = rows[start : start + limit]
    return page, encode_cursor([start + limit]) if start + limit < len(rows) else None


def _override(unit: Unit) -> tuple[int, str] | None:
    """The unit's own requirement set by an administrator, if any (it may only raise the law's)."""
    return (unit.reception_days, unit.reception_period) if unit.reception_days and unit.reception_period else None
