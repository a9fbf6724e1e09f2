"""Submitted reports: a form frozen for a period (`submit`, stored once and never changed), read back
(`get_report`), compared cell by cell with the live figures (`diff`), and which units of the caller's scope have
submitted a form for a period and which have not (`submissions`, with the due date and who is late)."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.stats import StatReport
from api.services import audit
from api.services.stats import accused
from api.services.stats.forms import LEVEL_ORDER, build, scope_units
from workflows import forms, periods
from workflows.cases import Role


async def submit(
    session: AsyncSession, principal: Officer, form: forms.Form, period: periods.Period, unit_id: int | None
) -> StatReport:
    """Freeze a form for a period: a unit head for their unit, the inspectorate for any unit (the province's
    report). Stored once, never changed (the application role cannot update or delete it)."""
    target = unit_id if unit_id is not None else principal.unit_id
    if not (principal.has(Role.inspector) or (principal.has(Role.unit_head) and target == principal.unit_id)):
        raise DomainError(Code.report_forbidden)
    doc = await build(session, principal, form, period, target)
    exists = await session.scalar(
        sa.select(StatReport.id).where(
            StatReport.form == form.code, StatReport.period == period.label, StatReport.unit_id == target
        )
    )
    if exists is not None:
        raise DomainError(Code.report_already_submitted, details={"report_id": exists})
    report = StatReport(
        form=form.code,
        period=period.label,
        start=period.start,
        end=period.end,
        unit_id=target,
        figures={"rows": [_json_row(r) for r in doc["rows"]], "generated_at": doc["generated_at"].isoformat()},
        submitted_by_id=principal.id,
    )
    session.add(report)
    try:
        await session.flush()
    except sa.exc.IntegrityError:  # a parallel submission won
        await session.rollback()
        raise DomainError(Code.report_already_submitted) from None
    audit.record(
        session,
        actor_id=principal.id,
        entity="stat_report",
        entity_id=report.id,
        action="submit",
        payload={"form": form.code, "period": period.label, "unit_id": target},
    )
    await session.commit()
    return report


def _json_row(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("type", "unit_id", "unit_code", "unit_name", "level", "values")}


async def get_report(session: AsyncSession, principal: Officer, form: forms.Form, report_id: int) -> StatReport:
    report: StatReport | None = await session.scalar(
        sa.select(StatReport).where(StatReport.id == report_id, StatReport.form == form.code)
    )
    if report is None:
        raise DomainError(Code.report_not_found)
    await scope_units(session, principal, report.unit_id)  # 404 outside the caller's scope
    return report


async def diff(session: AsyncSession, principal: Officer, form: forms.Form, report: StatReport) -> list[dict[str, Any]]:
    """Every figure of the submitted report that the live figures no longer show, cell by cell (the live ones as the
    caller may see them: without the cases naming them, for a caller named as accused; the frozen report stays as
    it was submitted)."""
    period = periods.Period(report.period, report.start, report.end)
    live = await build(session, principal, form, period, report.unit_id, await accused.of(session, principal))
    now = {(r["type"], r["unit_id"]): r["values"] for r in live["rows"]}
    then = {(r["type"], r["unit_id"]): r for r in report.figures["rows"]}
    numbers = {c.key: c.number for c in form.columns}
    changes = []
    for key in sorted(set(now) | set(then), key=lambda k: (k[0], k[1] or 0)):
        old = then.get(key, {}).get("values", {})
        new = now.get(key, {})
        for col in form.column_keys():
            a, b = old.get(col, 0), new.get(col, 0)
            if round(float(a) - float(b), 6) != 0:
                row = then.get(key) or next(r for r in live["rows"] if (r["type"], r["unit_id"]) == key)
                changes.append(
                    {
                        "type": key[0],
                        "unit_id": key[1],
                        "unit_code": row["unit_code"],
                        "column": col,
                        "number": numbers[col],
                        "submitted": a,
                        "live": b,
                    }
                )
    return changes


async def submissions(
    session: AsyncSession, principal: Officer, form: forms.Form, period: periods.Period, today: date
) -> dict[str, Any]:
    """Which units of the caller's scope have submitted the form for the period, which have not, and the due date."""
    units = await scope_units(session, principal, None)
    ids = [u.id for u in units]
    reports = (
        await session.scalars(
            sa.select(StatReport).where(
                StatReport.form == form.code, StatReport.period == period.label, StatReport.unit_id.in_(ids)
            )
        )
    ).all()
    done = {r.unit_id: r for r in reports}
    due = periods.report_due(period)
    items = []
    for u in sorted(units, key=lambda u: (LEVEL_ORDER.get(u.level, 9), u.code)):
        r = done.get(u.id or 0)
        sent_on = clock.legal_date(r.submitted_at) if r and r.submitted_at else None
        items.append(
            {
                "unit_id": u.id,
                "unit_code": u.code,
                "unit_name": u.name,
                "submitted": r is not None,
                "report_id": r.id if r else None,
                "submitted_at": r.submitted_at if r else None,
                "late": ((sent_on or today) > due) if due else False,
            }
        )
    return {
        "form": form.code,
        "period": period.label,
        "due_date": due,
        "submitted": sum(1 for i in items if i["submitted"]),
        "missing": sum(1 for i in items if not i["submitted"]),
        "items": items,
    }
