"""Statistics for the inspectorate: the report forms (one aggregate query per form over the cases' milestone
dates and the register), their rows per unit with subtotals and the total, frozen submissions and their diff,
the summary and the watch-list. Only counts and sums leave this module: no name, title or content."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.stats import StatReport
from api.models.unit import Unit
from api.pagination import by_date_and_id
from api.services import audit
from api.services.cases import access, queries
from workflows import forms, periods
from workflows.cases import INELIGIBLE_REFUSALS, Role

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


# ---- the forms' figures ----


def _count(cond: str) -> str:
    return f"count(*) FILTER (WHERE {cond})"


def _sum(expr: str, cond: str) -> str:
    return f"coalesce(sum({expr}) FILTER (WHERE {cond}), 0)"


def _tcd_sql() -> str:
    parts = []
    for cat in ("reg", "head", "del"):
        c = f"cat = '{cat}'"
        parts += [
            _count(c) + " AS " + f"{cat}_visits",
            _sum("people_count", c) + " AS " + f"{cat}_people",
            _count(c + " AND visit = 'first'") + " AS " + f"{cat}_first",
            _count(c + " AND visit = 'repeat'") + " AS " + f"{cat}_repeat",
            _count(c + " AND is_group") + " AS " + f"{cat}_groups",
            _sum("people_count", c + " AND is_group") + " AS " + f"{cat}_group_people",
            _count(c + " AND is_group AND visit = 'first'") + " AS " + f"{cat}_group_first",
            _count(c + " AND is_group AND visit = 'repeat'") + " AS " + f"{cat}_group_repeat",
        ]
    return f"""
        SELECT unit_id, {", ".join(parts)} FROM (
            SELECT e.unit_id, e.people_count, e.visit, e.is_group,
                   CASE WHEN s.kind = 'regular' THEN 'reg' WHEN s.in_person THEN 'head' ELSE 'del' END AS cat
            FROM reception_entries e JOIN reception_sessions s ON s.id = e.session_id
            -- A visitor refused under LTCD art. 9 stays in the register (with the refusal and its notice) but is not
            -- a visit, a person or a matter received.
            WHERE e.received_on BETWEEN :start AND :end AND e.unit_id = ANY(:units) AND e.handling <> 'refused'
        ) x GROUP BY unit_id
    """  # noqa: S608 - built from constant column definitions; values are bound


# Sessions that took place (LTCD art. 25): held, or with entries in the register whatever their stored status (left
# scheduled, or cancelled as older versions allowed); as the compliance count (reception.took_place).
_TCD_SESSIONS = """
    SELECT unit_id, count(*) FILTER (WHERE in_person) AS head_sessions,
           count(*) FILTER (WHERE NOT in_person) AS del_sessions
    FROM reception_sessions s
    WHERE (status = 'held' OR EXISTS (SELECT 1 FROM reception_entries e WHERE e.session_id = s.id))
      AND kind IN ('periodic', 'adhoc') AND day BETWEEN :start AND :end AND unit_id = ANY(:units)
    GROUP BY unit_id
"""

# Processed with an answer (a stored letter, lưu đơn, is not eligible). A letter refused as not eligible for
# processing (TT 05/2021/TT-TTCP: workflows.cases.INELIGIBLE_REFUSALS) was processed and answered in writing, but is
# neither eligible (02/XLD columns 6–7 and the breakdowns of them) nor within competence (14–17): it is neither.
_ANSWERED = "processed_on <= :end AND processed_as IN ('accept', 'guide', 'transfer', 'reject')"
_INELIGIBLE_CODES = ", ".join(f"'{code}'" for code in sorted(INELIGIBLE_REFUSALS))
_INELIGIBLE_REFUSAL = f"(processed_as = 'reject' AND reason_code IN ({_INELIGIBLE_CODES}))"
_ELIGIBLE = f"{_ANSWERED} AND {_INELIGIBLE_REFUSAL} IS NOT TRUE"
# Within competence: accepted, or refused on a ground other than competence. A letter refused as outside the unit's
# competence (LTCD art. 28; LTC art. 29.1.c) was answered by telling the citizen where to go: outside competence,
# counted with the guided letters, never within competence.
_OUTSIDE_REFUSAL = "reason_code = 'not_competent'"
_COMPETENT = f"(processed_as = 'accept' OR (processed_as = 'reject' AND ({_OUTSIDE_REFUSAL}) IS NOT TRUE))"
_GUIDED = f"(processed_as = 'guide' OR (processed_as = 'reject' AND {_OUTSIDE_REFUSAL}))"
_PRIOR = "((coalesce(complaint_round, 1) = 2)::int + (repeat_of_case_id IS NOT NULL)::int)"


_XLD_COLUMNS = (
    "receiving_unit_id, received_at, processed_on, processed_as, kind, field, repeat_of_case_id, complaint_round, "
    "reason_code"
)
_KQTH_COLUMNS = "competent_unit_id, settled_on, enforced_on, remedies, enforcement"


def _xld_sql() -> str:
    e = _ELIGIBLE
    cols = [
        _count("received_at < :start") + " AS " + "carried",
        _count("received_at >= :start") + " AS " + "received",
        _count("processed_on <= :end") + " AS " + "processed",
        _count(e) + " AS " + "eligible_letters",
        _count(e + " AND repeat_of_case_id IS NULL") + " AS " + "eligible_matters",
        _count(e + " AND kind = 'complaint'") + " AS " + "complaint",
        _count(e + " AND kind = 'denunciation'") + " AS " + "denunciation",
        _count(e + " AND kind IN ('petition', 'feedback')") + " AS " + "petition",
        _count(e + f" AND {_PRIOR} = 1") + " AS " + "settled_once",
        _count(e + f" AND {_PRIOR} >= 2") + " AS " + "settled_more",
        _count(e + f" AND {_COMPETENT}") + " AS " + "competent",
        _count(e + f" AND {_COMPETENT} AND kind = 'complaint'") + " AS " + "competent_complaint",
        _count(e + f" AND {_COMPETENT} AND kind = 'denunciation'") + " AS " + "competent_denunciation",
        _count(e + f" AND {_COMPETENT} AND kind IN ('petition', 'feedback')") + " AS competent_petition",
        _count(e + f" AND {_GUIDED}") + " AS " + "guided",
        _count(e + " AND processed_as = 'transfer'") + " AS " + "transferred",
        # Written answers (column 22): every guidance and refusal, a refusal as not eligible included.
        _count(_ANSWERED + " AND processed_as IN ('guide', 'reject')") + " AS " + "replies",
        *(_count(e + " AND field = '" + k + "'") + " AS field_" + k for k, _ in forms.FIELD_COLUMNS),
    ]
    return f"""
        SELECT receiving_unit_id AS unit_id, {", ".join(cols)}
        FROM (
            -- Two disjoint index ranges rather than one scan of every letter ever received.
            SELECT {_XLD_COLUMNS} FROM case_facts WHERE processed_on >= :start AND received_at <= :end
              AND receiving_unit_id = ANY(:units)
            UNION ALL
            SELECT {_XLD_COLUMNS} FROM case_facts WHERE processed_on IS NULL AND received_at <= :end
              AND receiving_unit_id = ANY(:units)
        ) c
        GROUP BY receiving_unit_id
    """  # noqa: S608 - built from constant column definitions; values are bound


_XLD_URGED = """
    SELECT u.unit_id, count(*) AS urged
    FROM case_events ev JOIN users u ON u.id = ev.actor_id
    WHERE ev.action = 'urge' AND ev.effective_date BETWEEN :start AND :end AND u.unit_id = ANY(:units)
    GROUP BY u.unit_id
"""

_REMEDIES = (
    ("money_to_state", "(remedies->>'money_to_state_vnd')::numeric / 1000000"),
    ("land_to_state", "(remedies->>'land_to_state_m2')::numeric"),
    ("money_to_citizens", "(remedies->>'money_to_citizens_vnd')::numeric / 1000000"),
    ("land_to_citizens", "(remedies->>'land_to_citizens_m2')::numeric"),
    ("organisations_restored", "(remedies->>'organisations_restored')::numeric"),
    ("people_restored", "(remedies->>'people_restored')::numeric"),
    ("people_sanctioned", "(remedies->>'people_sanctioned')::numeric"),
    ("officials_sanctioned", "(remedies->>'officials_sanctioned')::numeric"),
    ("referred_cases", "(remedies->>'referred_cases')::numeric"),
    ("referred_people", "(remedies->>'referred_people')::numeric"),
)


_SETTLEMENT_COLUMNS = (
    "competent_unit_id, accepted_on, settled_on, outcome, reason_code, resolution_late, remedies, complaint_round, "
    "previous_case_id"
)


def _settlement_sql(kind: str) -> str:
    picked = _SETTLEMENT_COLUMNS
    s = "settled_on <= :end"
    cols = [
        _count("accepted_on < :start") + " AS " + "carried",
        _count("accepted_on >= :start") + " AS " + "new",
        _count(s) + " AS " + "settled",
        _count(s + " AND outcome IS NOT NULL") + (" AS by_decision" if kind == "complaint" else " AS by_conclusion"),
        _count(s + " AND outcome IS NULL AND reason_code = 'withdrawn'") + " AS " + "withdrawn",
        _count(s + " AND outcome IS NULL AND reason_code IS DISTINCT FROM 'withdrawn'") + " AS " + "terminated",
        _count(s + " AND NOT coalesce(resolution_late, false)") + " AS " + "on_time",
        _count(s + " AND coalesce(resolution_late, false)") + " AS " + "late",
        *(_sum(expr, s + " AND outcome IS NOT NULL") + " AS " + key for key, expr in _REMEDIES),
    ]
    if kind == "complaint":
        cols += [
            _count(s + " AND complaint_round = 1 AND outcome = 'correct'") + " AS " + "first_correct",
            _count(s + " AND complaint_round = 1 AND outcome = 'partly_correct'") + " AS " + "first_partly",
            _count(s + " AND complaint_round = 1 AND outcome = 'wrong'") + " AS " + "first_wrong",
            _count(s + " AND complaint_round = 2 AND outcome = 'upheld'") + " AS " + "second_upheld",
            _count(s + " AND complaint_round = 2 AND outcome IN ('annulled', 'amended')") + " AS " + "second_changed",
        ]
    else:
        cols += [
            # Column 4, further denunciations (tố cáo tiếp, LTC art. 38.1): linked to the earlier denunciation they
            # take above its resolver; a repeat letter to the same unit about a decided case is not one.
            _count("previous_case_id IS NOT NULL") + " AS " + "repeat",
            _count(s + " AND outcome = 'correct'") + " AS " + "correct",
            _count(s + " AND outcome = 'partly_correct'") + " AS " + "partly",
            _count(s + " AND outcome = 'false'") + " AS " + "false",
        ]
    return f"""
        SELECT competent_unit_id AS unit_id, {", ".join(cols)}
        FROM (
            SELECT {picked} FROM case_facts WHERE settled_on >= :start AND accepted_on <= :end
              AND kind = '{kind}' AND competent_unit_id = ANY(:units)
            UNION ALL
            SELECT {picked} FROM case_facts WHERE settled_on IS NULL AND accepted_on IS NOT NULL AND accepted_on <= :end
              AND kind = '{kind}' AND competent_unit_id = ANY(:units)
        ) c
        GROUP BY competent_unit_id
    """  # noqa: S608 - built from constant column definitions; values are bound


_ENFORCED = (
    ("money_to_state", "money_to_state_vnd", 1_000_000),
    ("land_to_state", "land_to_state_m2", 1),
    ("money_to_citizens", "money_to_citizens_vnd", 1_000_000),
    ("land_to_citizens", "land_to_citizens_m2", 1),
)


def _kqth_sql() -> str:
    done = "enforced_on <= :end"
    cols = [
        _count("settled_on < :start") + " AS " + "carried",
        _count("settled_on >= :start") + " AS " + "new",
        _count(done) + " AS " + "enforced",
        _sum("(remedies->>'people_sanctioned')::numeric", "true") + " AS " + "sanction_due",
        _sum("(enforcement->>'people_sanctioned')::numeric", done) + " AS " + "sanction_done",
        _sum("(remedies->>'referred_cases')::numeric", "true") + " AS " + "prosecute_due",
        _sum("(enforcement->>'prosecuted_cases')::numeric", done) + " AS " + "prosecuted_cases",
        _sum("(enforcement->>'prosecuted_people')::numeric", done) + " AS " + "prosecuted_people",
    ]
    for key, source, scale in _ENFORCED:
        cols.append(_sum("(remedies->>'" + source + "')::numeric / " + str(scale), "true") + " AS " + key + "_due")
        cols.append(_sum("(enforcement->>'" + source + "')::numeric / " + str(scale), done) + " AS " + key + "_done")
    return f"""
        SELECT competent_unit_id AS unit_id, {", ".join(cols)}
        FROM (
            SELECT {_KQTH_COLUMNS} FROM case_facts
            WHERE enforced_on >= :start AND settled_on <= :end AND outcome IS NOT NULL
              AND kind IN ('complaint', 'denunciation') AND competent_unit_id = ANY(:units)
            UNION ALL
            SELECT {_KQTH_COLUMNS} FROM case_facts
            WHERE enforced_on IS NULL AND outcome IS NOT NULL AND settled_on <= :end
              AND kind IN ('complaint', 'denunciation') AND competent_unit_id = ANY(:units)
        ) c
        GROUP BY competent_unit_id
    """  # noqa: S608 - built from constant column definitions; values are bound


QUERIES: dict[str, list[str]] = {
    "tcd": [_tcd_sql(), _TCD_SESSIONS],
    "xld": [_xld_sql(), _XLD_URGED],
    "gqkn": [_settlement_sql("complaint")],
    "gqtc": [_settlement_sql("denunciation")],
    "kqth": [_kqth_sql()],
}


def _derive(form: forms.Form, v: dict[str, float]) -> None:
    """The columns each form defines as sums or differences of others."""
    if form.code == "tcd":
        v["total_visits"] = v["reg_visits"] + v["head_visits"] + v["del_visits"]
        v["total_people"] = v["reg_people"] + v["head_people"] + v["del_people"]
        v["total_matters"] = sum(v[f"{c}_{k}"] for c in ("reg", "head", "del") for k in ("first", "repeat"))
    elif form.code == "xld":
        v["total"] = v["carried"] + v["received"]
        v["unprocessed"] = v["total"] - v["processed"]
        v["not_settled"] = v["eligible_letters"] - v["settled_once"] - v["settled_more"]
        v["outside"] = v["guided"] + v["transferred"] + v["urged"]
    elif form.code in ("gqkn", "gqtc"):
        v["total"] = v["carried"] + v["new"]
        v["pending"] = v["total"] - v["settled"]
    elif form.code == "kqth":
        v["total"] = v["carried"] + v["new"]
        v["pending"] = v["total"] - v["enforced"]


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
        _derive(form, values)
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


# ---- submitted reports ----


def _sort_key(d: dict[str, Any]) -> tuple[str, int]:
    return (str(d.get("type")), int(d.get("unit_id") or 0))


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
    """Every figure of the submitted report that the live figures no longer show, cell by cell."""
    period = periods.Period(report.period, report.start, report.end)
    live = await build(session, principal, form, period, report.unit_id)
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
        items.append(
            {
                "unit_id": u.id,
                "unit_code": u.code,
                "unit_name": u.name,
                "submitted": r is not None,
                "report_id": r.id if r else None,
                "submitted_at": r.submitted_at if r else None,
                "late": (r.submitted_at.date() > due if r and r.submitted_at else today > due) if due else False,
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


# ---- summary and watch-list ----

OPEN = ("received", "accepted", "in_progress", "suspended")
SENSITIVE_FIELDS = ("land", "compensation", "policy")  # the plan: land, compensation and site clearance, policy


async def summary(
    session: AsyncSession, principal: Officer, period: periods.Period, unit_id: int | None, today: date
) -> dict[str, Any]:
    """The province (or a subtree) at a glance: letters received in the period by kind, status, field and unit;
    matters settled in it, on time or late, and the median days to settle; received vs settled per month; overdue
    now; satisfaction once citizens rate."""
    units = await scope_units(session, principal, unit_id)
    ids = [u.id for u in units]
    p = {"start": period.start, "end": period.end, "units": ids, "today": today}
    received = "competent_unit_id = ANY(:units) AND received_at BETWEEN :start AND :end"

    # One pass over the period's letters: by kind, status, field, unit and month together.
    grouped = await session.execute(
        sa.text(
            f"""
            SELECT kind, status, field, competent_unit_id, date_trunc('month', received_at)::date, count(*)
            FROM case_facts WHERE {received}
            GROUP BY GROUPING SETS (
                (kind), (status), (field), (competent_unit_id), (date_trunc('month', received_at)::date)
            )
            """  # noqa: S608
        ),
        p,
    )
    by: dict[str, dict[Any, int]] = {"kind": {}, "status": {}, "field": {}, "unit": {}, "month": {}}
    for kind, st, fld, unit, month, n in grouped.tuples():
        for name, value in (("kind", kind), ("status", st), ("field", fld), ("unit", unit), ("month", month)):
            if value is not None:
                by[name][value] = int(n)
    # One pass over the matters settled in the period: the totals, each month, each unit.
    settled_rows = (
        await session.execute(
            sa.text(
                """
                SELECT date_trunc('month', settled_on)::date, competent_unit_id, count(*),
                       count(*) FILTER (WHERE NOT coalesce(resolution_late, false)),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY settled_on - received_at)
                FROM case_facts
                WHERE competent_unit_id = ANY(:units) AND settled_on BETWEEN :start AND :end
                GROUP BY GROUPING SETS ((), (date_trunc('month', settled_on)::date), (competent_unit_id))
                """
            ),
            p,
        )
    ).all()
    settled = next((r[2:] for r in settled_rows if r[0] is None and r[1] is None), (0, 0, None))
    settled_by_month = {r[0]: int(r[2]) for r in settled_rows if r[0] is not None}
    settled_units = {r[1]: (int(r[2]), int(r[3])) for r in settled_rows if r[1] is not None}
    overdue_rows = await session.execute(
        sa.text(
            "SELECT competent_unit_id, count(*) FROM case_facts WHERE competent_unit_id = ANY(:units) "
            "AND next_due_date < :today AND status IN ('received', 'accepted', 'in_progress') GROUP BY 1"
        ),
        p,
    )
    overdue_by_unit = {u: int(n) for u, n in overdue_rows.tuples()}
    names = {u.id: u for u in units}
    by_unit = sorted(
        (
            {
                "unit_id": uid,
                "unit_code": names[uid].code,
                "unit_name": names[uid].name,
                "received": by["unit"].get(uid, 0),
                "overdue": overdue_by_unit.get(uid, 0),
                "settled": settled_units.get(uid, (0, 0))[0],
                "on_time_rate": round(settled_units[uid][1] / settled_units[uid][0], 4)
                if settled_units.get(uid, (0, 0))[0]
                else None,
            }
            for uid in set(by["unit"]) | set(overdue_by_unit) | set(settled_units)
        ),
        key=lambda x: (-x["overdue"], -x["received"], x["unit_code"]),
    )
    months = sorted(set(by["month"]) | set(settled_by_month))
    total_settled, on_time, median = int(settled[0]), int(settled[1]), settled[2]
    return {
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "received": sum(by["kind"].values()),
        "by_kind": by["kind"],
        "by_status": by["status"],
        "by_field": by["field"],
        "by_unit": by_unit,
        "settled": total_settled,
        "on_time": on_time,
        "on_time_rate": round(on_time / total_settled, 4) if total_settled else None,
        "median_days_to_settle": float(median) if median is not None else None,
        "overdue_now": sum(overdue_by_unit.values()),
        "trend": [
            {"month": m.strftime("%Y-%m"), "received": by["month"].get(m, 0), "settled": settled_by_month.get(m, 0)}
            for m in months
        ],
        "satisfaction": await satisfaction(session, ids, period),
    }


async def satisfaction(session: AsyncSession, unit_ids: list[int], period: periods.Period) -> dict[str, Any]:
    """The share of citizens' ratings of 4–5 in the period (the plan's goal: 90%); `share_4_5` is None without
    ratings."""
    row = (
        await session.execute(
            sa.text(
                """
                SELECT count(*), count(*) FILTER (WHERE r.score >= 4)
                FROM case_ratings r JOIN cases c ON c.id = r.case_id
                WHERE c.competent_unit_id = ANY(:units) AND r.rated_on BETWEEN :start AND :end
                """
            ),
            {"units": unit_ids, "start": period.start, "end": period.end},
        )
    ).one()
    n, good = int(row[0]), int(row[1])
    return {"ratings": n, "share_4_5": round(good / n, 4) if n else None, "goal": 0.9}


async def watchlist(
    session: AsyncSession,
    principal: Officer,
    *,
    unit_id: int | None,
    reason: str | None,
    today: date,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Open matters the plan asks the inspectorate to watch, most overdue first: overdue (long-running), complained
    about again after a decision, sent to a level above the competent one, and multi-person in sensitive fields.
    Each links to its case by id and tracking code; no title or party."""
    units = await scope_units(session, principal, unit_id)
    ids = [u.id for u in units]
    names = {u.id: u for u in units}
    overdue = Case.next_due_date < today
    repeat = sa.or_(Case.repeat_of_case_id.is_not(None), Case.complaint_round == 2)
    skipping = Case.level_skipping.is_(True)
    multi = sa.and_(Case.signer_count >= 5, Case.field.in_(SENSITIVE_FIELDS))
    reasons = {"overdue": overdue, "repeat_after_decision": repeat, "level_skipping": skipping, "multi_person": multi}
    if reason is not None and reason not in reasons:
        raise DomainError(Code.validation_error, details={"field": "reason", "allowed": sorted(reasons)})
    chosen = [reasons[reason]] if reason else list(reasons.values())
    # Matters whose clock runs (a suspended one has none), most urgent first: the walk follows the due-date index
    # and stops at a page, however many closed letters the province holds.
    stmt = sa.select(Case).where(
        Case.next_due_date.is_not(None),
        Case.status.in_(OPEN),
        Case.competent_unit_id.in_(ids),
        access.readable(principal),
        sa.or_(*chosen),
    )
    order = by_date_and_id(Case.next_due_date, Case.id)
    rows, next_cursor = await order.fetch(session, stmt, limit=limit, cursor=cursor)
    items = []
    for c in rows:
        why = [
            name
            for name, hit in (
                ("overdue", c.next_due_date is not None and c.next_due_date < today),
                ("repeat_after_decision", c.repeat_of_case_id is not None or c.complaint_round == 2),
                ("level_skipping", c.level_skipping),
                ("multi_person", c.signer_count >= 5 and c.field in SENSITIVE_FIELDS),
            )
            if hit
        ]
        unit = names[c.competent_unit_id]
        items.append(
            {
                "case_id": c.id,
                "tracking_code": c.tracking_code,
                "kind": c.kind,
                "field": c.field,
                "status": c.status,
                "unit_id": unit.id,
                "unit_code": unit.code,
                "unit_name": unit.name,
                "received_at": c.received_at,
                "due_date": c.next_due_date,
                "days_overdue": (today - c.next_due_date).days
                if c.next_due_date is not None and c.next_due_date < today
                else 0,
                "signer_count": c.signer_count,
                "reasons": why,
            }
        )
    return items, next_cursor


MAX_URGE = 500


async def urge(
    session: AsyncSession,
    principal: Officer,
    unit_id: int,
    case_ids: list[int] | None,
    reason: str | None,
    *,
    today: date,
    vault: Any,
) -> list[int]:
    """Đôn đốc: the inspectorate (or a head above) urges a unit on its overdue cases; each case gets an `urge`
    event (on its chain), which form 02/XLD counts for the urging unit."""
    if not principal.has(Role.inspector, Role.unit_head):
        raise DomainError(Code.forbidden, details={"required_roles": [Role.inspector.value, Role.unit_head.value]})
    units = await scope_units(session, principal, unit_id)
    ids = [u.id for u in units]
    stmt = sa.select(Case.id).where(
        Case.competent_unit_id.in_(ids),
        Case.next_due_date < today,
        Case.status.in_(("received", "accepted", "in_progress")),
        access.readable(principal),
    )
    if case_ids is not None:
        found = set((await session.scalars(stmt.where(Case.id.in_(case_ids)))).all())
        missing = sorted(set(case_ids) - found)
        if missing:
            raise DomainError(Code.not_overdue, details={"field": "case_ids", "case_ids": missing[:50]})
        targets = sorted(found)
    else:
        targets = list((await session.scalars(stmt.order_by(Case.id).limit(MAX_URGE))).all())
    for case_id in targets:
        loaded = await queries.load(session, principal, case_id, lock=True)
        queries.chain_step(
            session,
            principal,
            loaded,
            action="urge",
            effective_date=today,
            reason=reason,
            payload={"urging_unit_id": principal.unit_id, "urged_unit_id": unit_id},
            vault=vault,
        )
    await session.commit()
    return targets
