"""Oversight: the province (or a subtree) at a glance (`summary`, with citizens' `satisfaction`), the open matters
the plan asks the inspectorate to watch (`watchlist`), and urging a unit on its overdue cases (`urge`, an event on
each case's chain that 02/XLD counts for the urging unit)."""

import json
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.pagination import by_date_and_id
from api.services import reception
from api.services.cases import access, queries, trail
from api.services.stats import accused, cache, forms
from api.services.stats.forms import scope_units
from workflows import periods
from workflows.cases import Role
from workflows.confidentiality import MULTI_PERSON_SIGNERS, is_multi_person

OPEN = ("received", "accepted", "in_progress", "suspended")
SENSITIVE_FIELDS = ("land", "compensation", "policy")  # the plan: land, compensation and site clearance, policy


# The summary's passes (stats/cache.SOURCES["summary"] names the tables they read; tests/test_stats_cache.py checks).
# One pass over the period's letters by kind, status and field, by unit, and by day (folded into months here):
# grouping by the day itself, not its month, spares a date-to-timestamp conversion per letter (half the time of
# this pass on a year of 1M cases). An index-only scan of ixx_case_facts_received_cover (migration 0030).
RECEIVED_SQL = """
    SELECT GROUPING(kind, competent_unit_id, received_at), kind, status, field, competent_unit_id, received_at,
           count(*)
    FROM case_facts WHERE competent_unit_id = ANY(:units) AND received_at BETWEEN :start AND :end
    GROUP BY GROUPING SETS ((kind, status, field), (competent_unit_id), (received_at))
"""
# One pass over the matters settled in the period: each day (folded into months here) and each unit, on time or not
# (hashed, no sort); the median days to settle on its own (a median per day and unit would sort every row thrice).
SETTLED_SQL = """
    SELECT GROUPING(settled_on, competent_unit_id), settled_on, competent_unit_id, count(*),
           count(*) FILTER (WHERE NOT coalesce(resolution_late, false))
    FROM case_facts
    WHERE competent_unit_id = ANY(:units) AND settled_on BETWEEN :start AND :end
    GROUP BY GROUPING SETS ((settled_on), (competent_unit_id))
"""
MEDIAN_SQL = """
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY settled_on - received_at)
    FROM case_facts WHERE competent_unit_id = ANY(:units) AND settled_on BETWEEN :start AND :end
"""
OVERDUE_SQL = """
    SELECT competent_unit_id, count(*) FROM case_facts WHERE competent_unit_id = ANY(:units)
    AND next_due_date < :today AND status IN ('received', 'accepted', 'in_progress') GROUP BY 1
"""
SATISFACTION_SQL = """
    SELECT count(*), count(*) FILTER (WHERE r.score >= 4)
    FROM case_ratings r JOIN case_facts c ON c.case_id = r.case_id
    WHERE c.competent_unit_id = ANY(:units) AND r.rated_on BETWEEN :start AND :end
"""
SUMMARY_SQL = (RECEIVED_SQL, SETTLED_SQL, MEDIAN_SQL, OVERDUE_SQL, SATISFACTION_SQL)


async def summary(
    session: AsyncSession,
    principal: Officer,
    period: periods.Period,
    unit_id: int | None,
    today: date,
    *,
    use: cache.Use = cache.PLAIN,
    complete: bool = False,
) -> dict[str, Any]:
    """The province (or a subtree) at a glance: letters received in the period by kind, status, field and unit;
    matters settled in it, on time or late, and the median days to settle; received vs settled per month; overdue
    now; satisfaction once citizens rate. Kept in the cache (stats/cache.py) under the data it counts and today's
    date, for a named period. `complete`: for a record to freeze (the inspectorate's report), never without the
    cases naming the caller; otherwise a caller named as accused sees it without them (stats/accused.py)."""
    await scope_units(session, principal, unit_id)  # 403 / 404 before anything is served
    hide = None if complete else await accused.of(session, principal)

    async def compute() -> bytes:
        return forms.to_json(await _summary(session, principal, period, unit_id, today, hide))

    # One entry per period and scope, replaced as the data or the day change (overdue is counted as of today).
    key = f"summary:{period.label}:{unit_id or 0}:{forms.view_key(principal, hide)}"
    store = ".." not in period.label
    sources = cache.SOURCES["summary"]
    also = f",today={today}" + (hide.version if hide is not None else "")
    body = await cache.answer(session, key, sources, compute, use=use, store=store, also=also)
    out: dict[str, Any] = json.loads(body)
    out["start"], out["end"] = period.start, period.end
    return out


async def _summary(
    session: AsyncSession,
    principal: Officer,
    period: periods.Period,
    unit_id: int | None,
    today: date,
    hide: accused.Hidden | None = None,
) -> dict[str, Any]:
    units = await scope_units(session, principal, unit_id)
    ids = [u.id for u in units]
    p: dict[str, Any] = {"start": period.start, "end": period.end, "units": ids, "today": today}

    def sql(text: str) -> sa.TextClause:  # for a caller named as accused, without the cases naming them
        return sa.text(accused.hiding(text) if hide is not None else text)

    if hide is not None:
        p.update(hide.params)
    # The median sorts a year's settled matters: in memory, not on disk; no JIT compilation (forms.NO_JIT).
    await session.execute(sa.text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"))
    by: dict[str, dict[Any, int]] = {"kind": {}, "status": {}, "field": {}, "unit": {}, "month": {}}

    def add(name: str, key: Any, n: int) -> None:
        by[name][key] = by[name].get(key, 0) + n

    # GROUPING(...) says which set a row belongs to: 0b011 kind/status/field, 0b101 unit, 0b110 day.
    for grouping, kind, st, fld, unit, day, n in (await session.execute(sql(RECEIVED_SQL), p)).tuples():
        if grouping == 0b011:
            for name, value in (("kind", kind), ("status", st), ("field", fld)):
                add(name, value, n)
        elif grouping == 0b101:
            add("unit", unit, n)
        else:
            add("month", day.replace(day=1), n)
    settled_by_month: dict[date, int] = {}
    settled_units: dict[int, tuple[int, int]] = {}
    # 0b01 a day, 0b10 a unit (every settled matter is in one day and one unit: the totals are the units' sums).
    for grouping, day, unit, n, in_time in (await session.execute(sql(SETTLED_SQL), p)).tuples():
        if grouping == 0b01:
            month = day.replace(day=1)
            settled_by_month[month] = settled_by_month.get(month, 0) + int(n)
        else:
            settled_units[unit] = (int(n), int(in_time))
    median = await session.scalar(sql(MEDIAN_SQL), p)
    settled = (sum(n for n, _ in settled_units.values()), sum(t for _, t in settled_units.values()), median)
    overdue_rows = await session.execute(sql(OVERDUE_SQL), p)
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
        "satisfaction": await satisfaction(session, ids, period, hide),
    }


async def compliance(
    session: AsyncSession,
    principal: Officer,
    period: periods.Period,
    *,
    unit_id: int | None,
    today: date,
    use: cache.Use = cache.PLAIN,
) -> list[dict[str, Any]]:
    """Every unit's reception compliance for the period (services/reception/duty.compliance, all of it, each month
    with MonthOut's fields as attributes), kept in the
    cache under the register's, the sittings', the units' and the calendar's versions and today's date (a month's
    shortfall counts once it is over): what the dashboard shows for a year without recounting it each time. A caller
    named as accused gets it without the register lines of the cases naming them (stats/accused.py), kept apart."""
    hide = await accused.of(session, principal)

    async def compute() -> bytes:
        rows, _ = await reception.compliance(
            session, principal, period, unit_id=unit_id, today=today, limit=100_000, cursor=None, hide=hide
        )
        plain = [{**r, "months": [m.model_dump(mode="json") for m in r["months"]]} for r in rows]
        return json.dumps(plain, ensure_ascii=False).encode()

    key = f"compliance:{period.label}:{unit_id or 0}:{forms.view_key(principal, hide)}"
    store = ".." not in period.label
    sources = cache.SOURCES["compliance"]
    also = f",today={today}" + (hide.version if hide is not None else "")
    body = await cache.answer(session, key, sources, compute, use=use, store=store, also=also)
    rows: list[dict[str, Any]] = json.loads(body)
    for row in rows:  # MonthOut's fields as attributes, without validating again (a year: 1,800 months)
        row["months"] = [
            SimpleNamespace(
                **{
                    **m,
                    "adhoc_dates": [date.fromisoformat(d) for d in m["adhoc_dates"]],
                    "weeks_short": [date.fromisoformat(d) for d in m["weeks_short"]],
                }
            )
            for m in row["months"]
        ]
    return rows


async def satisfaction(
    session: AsyncSession, unit_ids: list[int], period: periods.Period, hide: accused.Hidden | None = None
) -> dict[str, Any]:
    """The share of citizens' ratings of 4–5 in the period (the plan's goal: 90%); `share_4_5` is None without
    ratings. For a caller named as accused (`hide`), without the cases naming them."""
    params: dict[str, Any] = {"units": unit_ids, "start": period.start, "end": period.end}
    query = SATISFACTION_SQL
    if hide is not None:
        params.update(hide.params)
        query = accused.hiding(query)
    row = (await session.execute(sa.text(query), params)).one()
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
    multi = sa.and_(Case.signer_count >= MULTI_PERSON_SIGNERS, Case.field.in_(SENSITIVE_FIELDS))
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
                ("multi_person", is_multi_person(c.signer_count) and c.field in SENSITIVE_FIELDS),
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
        payload = {"urging_unit_id": principal.unit_id, "urged_unit_id": unit_id}
        queries.chain_step(session, principal, loaded, trail.Step("urge", today, reason, payload), vault=vault)
    await session.commit()
    return targets
