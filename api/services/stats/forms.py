"""The report forms' figures: who may read which units (`scope_units`), the period and the form asked for, each
unit's figures for a period (the aggregate queries of `counts`, then the columns the form's identities give), and the
rows of the official table: units in tree order with subtotals and the total. Only counts and sums leave this
module: no name, title or content."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.unit import Unit
from api.services.cases import access
from api.services.stats.counts import DERIVED, QUERIES
from workflows import forms, periods
from workflows.cases import Role

LEVEL_ORDER = {"province": 0, "inspectorate": 1, "agency": 2, "district": 3, "commune": 4}


def parse_period(label: str | None, start: date | None, end: date | None) -> periods.Period:
    """`period` with the statutory cut-offs, or `from`/`to`."""
    try:
        if label:
            if start or end:
                raise periods.PeriodError("give period or from/to, not both")
            return periods.parse(label, cutoffs=periods.STATUTORY)
        if start and end:
            return periods.between(start, end)
        raise periods.PeriodError("give period, or both from and to")
    except periods.PeriodError as exc:
        raise DomainError(Code.invalid_period, details={"field": "period", "hint": str(exc)}) from None


def get_form(code: str) -> forms.Form:
    form = forms.FORMS.get(code)
    if form is None:
        raise DomainError(Code.no_such_form, details={"field": "form", "allowed": sorted(forms.FORMS)})
    return form


# ---- scope ----


async def scope_units(session: AsyncSession, principal: Officer, unit_id: int | None) -> list[Unit]:
    """The units whose figures the caller may read: everything for an inspector, a head's subtree; narrowed to
    the subtree of `unit_id` (404 outside the caller's scope)."""
    if not principal.has(Role.inspector, Role.unit_head):
        raise DomainError(Code.forbidden, details={"required_roles": [Role.inspector.value, Role.unit_head.value]})
    mine = access.units_in_view(principal)
    prefix = None
    if unit_id is not None:
        root = await session.scalar(sa.select(Unit).where(Unit.id == unit_id, mine))
        if root is None:
            raise DomainError(Code.no_such_unit, details={"field": "unit_id"})
        prefix = root.path
    stmt = sa.select(Unit).where(mine, Unit.is_active)
    if prefix is not None:
        stmt = stmt.where(Unit.path.startswith(prefix))
    return list((await session.scalars(stmt)).all())


# ---- the figures ----


def _plain(value: Any, money: bool) -> float:
    return round(float(value), 2) if money else int(value)


async def figures(
    session: AsyncSession, form: forms.Form, units: list[Unit], period: periods.Period
) -> dict[int, dict[str, float]]:
    """Each unit's figures for the period (zeros for a unit with nothing)."""
    ids = [u.id for u in units if u.id is not None]
    money = {c.key for c in form.columns if c.money}
    out: dict[int, dict[str, float]] = {i: dict.fromkeys(form.column_keys(), 0) for i in ids}
    params = {"start": period.start, "end": period.end, "units": ids}
    for sql in QUERIES[form.code]:
        for row in (await session.execute(sa.text(sql), params)).mappings():
            target = out[row["unit_id"]]
            for key, value in row.items():
                if key != "unit_id":
                    assert key in target, key  # every column a query makes is one of the form's
                    target[key] = _plain(value, key in money)
    for values in out.values():
        for step in DERIVED[form.code]:  # the columns the form's identities give from the counted ones
            values[step.column] = step.value(values)
        for key in money:
            values[key] = round(values[key], 2)
    return out


@dataclass
class Row:
    type: str  # unit | subtotal | total
    unit_id: int | None
    unit_code: str
    unit_name: str
    level: str | None
    values: dict[str, float] = field(default_factory=dict)


def _add(into: dict[str, float], values: dict[str, float]) -> None:
    for k, v in values.items():
        into[k] = into.get(k, 0) + v


def arrange(form: forms.Form, units: list[Unit], per_unit: dict[int, dict[str, float]]) -> list[Row]:
    """Units in tree order (parents first, siblings by level then code), a subtotal after every unit below the
    top that has units of its own in scope, and the total row."""
    by_id = {u.id: u for u in units}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for u in units:
        children[u.parent_id if u.parent_id in by_id else None].append(u)
    for kids in children.values():
        kids.sort(key=lambda u: (LEVEL_ORDER.get(u.level, 9), u.code))
    rows: list[Row] = []

    def visit(unit: Unit, top: bool) -> dict[str, float]:
        assert unit.id is not None
        own = dict(per_unit[unit.id])
        rows.append(Row("unit", unit.id, unit.code, unit.name, unit.level, own))
        subtotal = dict(own)
        for child in children.get(unit.id, []):
            _add(subtotal, visit(child, False))
        if children.get(unit.id) and not top:
            rows.append(Row("subtotal", unit.id, unit.code, f"Cộng {unit.name}", unit.level, subtotal))
        return subtotal

    total: dict[str, float] = dict.fromkeys(form.column_keys(), 0)
    for root in children[None]:
        _add(total, visit(root, True))
    rows.append(Row("total", None, "", "Tổng cộng", None, total))
    money = [c.key for c in form.columns if c.money]
    for row in rows:  # sums of two-decimal figures, without the float noise of adding them
        for key in money:
            row.values[key] = round(row.values[key], 2)
    return rows


async def build(
    session: AsyncSession, principal: Officer, form: forms.Form, period: periods.Period, unit_id: int | None
) -> dict[str, Any]:
    units = await scope_units(session, principal, unit_id)
    per_unit = await figures(session, form, units, period)
    rows = arrange(form, units, per_unit)
    return document(form, period, unit_id, rows, clock.now())


def document(
    form: forms.Form, period: periods.Period, unit_id: int | None, rows: list[Row], generated_at: datetime
) -> dict[str, Any]:
    return {
        "form": form.code,
        "official": form.official,
        "title": form.title,
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "unit_id": unit_id,
        "generated_at": generated_at,
        "columns": [
            {"number": c.number, "key": c.key, "label": c.label, "groups": list(c.groups), "money": c.money}
            for c in form.columns
        ],
        "rows": [r.__dict__ for r in rows],
    }
