"""The report forms' figures: who may read which units (`scope_units`), the period and the form asked for, each
unit's figures for a period (the aggregate queries of `counts`, then the columns the form's identities give), and the
rows of the official table: units in tree order with subtotals and the total. Only counts and sums leave this
module: no name, title or content."""

import asyncio
import hashlib
import json
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
from api.services.stats import accused, cache, exports, pdf
from api.services.stats.counts import DERIVED, QUERIES
from workflows import forms, periods, vocabulary
from workflows.cases import Role

NO_JIT = sa.text("SELECT set_config('jit', 'off', true)")  # for the rest of the transaction
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
    session: AsyncSession,
    form: forms.Form,
    units: list[Unit],
    period: periods.Period,
    hide: accused.Hidden | None = None,
) -> dict[int, dict[str, float]]:
    """Each unit's figures for the period (zeros for a unit with nothing); for a caller named as accused (`hide`),
    without the cases naming them and their register lines (stats/accused.py)."""
    ids = [u.id for u in units if u.id is not None]
    money = {c.key for c in form.columns if c.money}
    out: dict[int, dict[str, float]] = {i: dict.fromkeys(form.column_keys(), 0) for i in ids}
    params: dict[str, Any] = {"start": period.start, "end": period.end, "units": ids}
    sqls = QUERIES[form.code]
    if hide is not None:
        params.update(hide.params)
        sqls = [accused.hiding(sql) for sql in sqls]
    # No JIT for these aggregates: PostgreSQL's cost estimate of 02/XLD (its per-letter EXISTS) sets off JIT
    # compilation with inlining and optimisation, 0.7 s of a 0.9 s query on 1M cases; the query runs in 0.23 s without.
    await session.execute(NO_JIT)
    for sql in sqls:
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
            rows.append(
                Row(
                    "subtotal",
                    unit.id,
                    unit.code,
                    f"{vocabulary.ROW_TYPE['subtotal']} {unit.name}",
                    unit.level,
                    subtotal,
                )
            )
        return subtotal

    total: dict[str, float] = dict.fromkeys(form.column_keys(), 0)
    for root in children[None]:
        _add(total, visit(root, True))
    rows.append(Row("total", None, "", vocabulary.ROW_TYPE["total"], None, total))
    money = [c.key for c in form.columns if c.money]
    for row in rows:  # sums of two-decimal figures, without the float noise of adding them
        for key in money:
            row.values[key] = round(row.values[key], 2)
    return rows


async def build(
    session: AsyncSession,
    principal: Officer,
    form: forms.Form,
    period: periods.Period,
    unit_id: int | None,
    hide: accused.Hidden | None = None,
) -> dict[str, Any]:
    """The form complete (a report to freeze: the official record), or as the caller named as accused may see it
    (`hide`)."""
    units = await scope_units(session, principal, unit_id)
    per_unit = await figures(session, form, units, period, hide)
    rows = arrange(form, units, per_unit)
    return document(form, period, unit_id, rows, clock.now())


FORMATS = ("json", "csv", "xlsx", "pdf")


def cacheable(period: periods.Period, today: date) -> bool:
    """A statutory period (or month) whose cut-off has passed: its answers are kept (stats/cache.py)."""
    return ".." not in period.label and period.end < today


def view_key(principal: Officer, hide: accused.Hidden | None = None) -> str:
    """Which units the caller's answers cover (access.units_in_view): the province, or a subtree; and for a caller
    named as accused, whose answers they are (without the cases naming them: kept apart from everyone's)."""
    view = "all" if principal.has(Role.inspector) else principal.unit_path
    if hide is not None:
        view += f"|accused:{hide.user_id}"
    return hashlib.sha256(view.encode()).hexdigest()[:16]


async def answer(
    session: AsyncSession,
    principal: Officer,
    form: forms.Form,
    period: periods.Period,
    unit_id: int | None,
    fmt: str,
    *,
    today: date,
    use: cache.Use = cache.PLAIN,
) -> bytes:
    """The form as `fmt` (json, csv, xlsx, pdf): from the cache when the period's cut-off has passed and the data
    it counts are as they were, else computed (charged to the caller through `use`); every format is written from
    the one JSON document."""
    if fmt not in FORMATS:
        raise DomainError(Code.unsupported_format, details={"field": "format", "allowed": list(FORMATS)})
    await scope_units(session, principal, unit_id)  # 403 / 404 before anything is served
    hide = await accused.of(session, principal)
    base = f"form:{form.code}:{period.label}:{unit_id or 0}:{view_key(principal, hide)}"
    sources = cache.SOURCES[form.code]
    store = cacheable(period, today)
    also = hide.version if hide is not None else ""

    async def compute() -> bytes:
        units = await scope_units(session, principal, unit_id)
        rows = arrange(form, units, await figures(session, form, units, period, hide))
        return to_json(document(form, period, unit_id, rows, clock.now()))

    async def doc() -> bytes:
        return await cache.answer(session, f"{base}:json", sources, compute, use=use, store=store, also=also)

    if fmt == "json":
        return await doc()

    async def render() -> bytes:  # the document read inside this answer's versions
        # A spreadsheet or a PDF of the province takes a tenth of a second or more to write: off the event loop, so
        # the process keeps answering meanwhile.
        return await asyncio.to_thread(write, fmt, from_json(await doc()))

    return await cache.answer(
        session, f"{base}:{fmt}", sources, render, use=cache.Use(use.local), store=store, also=also
    )


def write(fmt: str, doc: dict[str, Any]) -> bytes:
    if fmt == "csv":
        return exports.to_csv(doc)
    if fmt == "xlsx":
        return exports.to_xlsx(doc)
    return pdf.to_pdf(doc)


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value))


def to_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, default=_iso, ensure_ascii=False).encode()


def from_json(body: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(body)
    doc["start"], doc["end"] = date.fromisoformat(doc["start"]), date.fromisoformat(doc["end"])
    doc["generated_at"] = datetime.fromisoformat(doc["generated_at"])
    return doc


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
        "generated_at": generated_at.astimezone(clock.VN),  # Lào Cai's time, as the forms print it
        "columns": [
            {"number": c.number, "key": c.key, "label": c.label, "groups": list(c.groups), "money": c.money}
            for c in form.columns
        ],
        "rows": [r.__dict__ for r in rows],
    }
