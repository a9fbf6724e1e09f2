# SQLModel types table attributes as their Python values: the query expressions below do not type-check, as in
# api/services (pyproject's override for api.services.*); every other strict check holds.
# mypy: disable-error-code=arg-type
# mypy: disable-error-code=call-overload
# mypy: disable-error-code=operator
# mypy: disable-error-code=union-attr
# mypy: disable-error-code=attr-defined
"""What the dashboard's list pages read that the services do not give: the cases a figure of the overview counts
and the register entries of a unit and a span of days — read-only, in the caller's scope (`access.readable`,
`entries_in_scope`: a case or entry the caller may not read is never listed), keyset-paged like every list.

Each filter mirrors the figure it explains (api/services/stats/oversight.summary):
- received: the competent unit in scope, `received_at` within the span;
- settled: `case_facts.settled_on` within the span (and `late`: settled after its period);
- overdue: open (received, accepted, in progress) with its next due date before today;
- rated: a citizen's rating dated within the span.
Also one case as the dashboard shows it (`case_view`: a protected party always masked, through the API's
presenters) and the areas the reception table folds by (a commune's former district, from the communes' data
file)."""

from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.cases.schemas import PartyOut, TimerOut
from api.models.reception import ReceptionEntry
from api.models.stats import CaseFact
from api.models.unit import Unit
from api.pagination import by_date_and_id
from api.seed import read_communes
from api.services.calendar import DeadlineEnv
from api.services.cases import access, presenters
from api.services.cases import queries as case_queries
from api.services.cases.queries import SORTS
from api.services.reception import sealing
from api.services.reception.scope import entries_in_scope, unit_in_scope
from api.services.stats.forms import scope_units
from api.vault import Vault
from workflows.deadlines import Timer

OVERDUE_STATUSES = ("received", "accepted", "in_progress")  # what oversight.summary counts as overdue now
PROVINCE_AREA = "Cấp tỉnh: Ủy ban, sở, ban, ngành"


@dataclass(frozen=True)
class CaseQuery:
    """The filters of /dashboard/cases (each None or False: not applied)."""

    unit_id: int | None = None
    subtree: bool = True  # the unit and the units below it (as the dashboard's figures), or the unit alone
    kind: str | None = None
    field: str | None = None
    status: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    settled_from: date | None = None
    settled_to: date | None = None
    late: bool | None = None
    overdue: bool = False
    rated_from: date | None = None
    rated_to: date | None = None


_RATINGS = sa.table("case_ratings", sa.column("case_id"), sa.column("rated_on"))


async def unit_ids(session: AsyncSession, principal: Officer, unit_id: int | None, subtree: bool) -> list[int]:
    """The competent units a figure counts: the caller's scope, narrowed to `unit_id` (and below it, or alone);
    404 (no_such_unit) outside the caller's scope."""
    units = await scope_units(session, principal, unit_id)
    ids = [u.id for u in units if u.id is not None]
    if unit_id is not None and not subtree:
        ids = [i for i in ids if i == unit_id]
    return ids


async def cases(
    session: AsyncSession, principal: Officer, q: CaseQuery, *, today: date, limit: int, cursor: str | None
) -> tuple[list[Case], str | None, int]:
    """The readable cases a figure counts, newest first, one page; and how many there are in all."""
    ids = await unit_ids(session, principal, q.unit_id, q.subtree)
    stmt = sa.select(Case).where(access.readable(principal), Case.competent_unit_id.in_(ids))
    if q.kind:
        stmt = stmt.where(Case.kind == q.kind)
    if q.field:
        stmt = stmt.where(Case.field == q.field)
    if q.status:
        stmt = stmt.where(Case.status == q.status)
    if q.received_from is not None:
        stmt = stmt.where(Case.received_at >= q.received_from)
    if q.received_to is not None:
        stmt = stmt.where(Case.received_at <= q.received_to)
    if q.settled_from is not None or q.settled_to is not None or q.late is not None:
        facts = sa.select(CaseFact.case_id).where(CaseFact.settled_on.is_not(None))
        if q.settled_from is not None:
            facts = facts.where(CaseFact.settled_on >= q.settled_from)
        if q.settled_to is not None:
            facts = facts.where(CaseFact.settled_on <= q.settled_to)
        if q.late is not None:
            facts = facts.where(sa.func.coalesce(CaseFact.resolution_late, False).is_(q.late))
        stmt = stmt.where(Case.id.in_(facts))
    if q.overdue:
        stmt = stmt.where(Case.next_due_date < today, Case.status.in_(OVERDUE_STATUSES))
    if q.rated_from is not None or q.rated_to is not None:
        rated = sa.select(_RATINGS.c.case_id)
        if q.rated_from is not None:
            rated = rated.where(_RATINGS.c.rated_on >= q.rated_from)
        if q.rated_to is not None:
            rated = rated.where(_RATINGS.c.rated_on <= q.rated_to)
        stmt = stmt.where(Case.id.in_(rated))
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)
    rows, next_cursor = await SORTS["-received_at"].fetch(session, stmt, limit=limit, cursor=cursor)
    return rows, next_cursor, total


_ENTRY_ORDER = by_date_and_id(ReceptionEntry.received_on, ReceptionEntry.id, descending=True)


async def entries(
    session: AsyncSession,
    principal: Officer,
    *,
    unit_id: int | None,
    subtree: bool,
    start: date | None,
    end: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReceptionEntry], str | None, int]:
    """The register entries the caller may read of a unit (and below it) received within [start, end], newest
    first, one page; and how many there are in all."""
    stmt = sa.select(ReceptionEntry).where(entries_in_scope(principal, ReceptionEntry.unit_id))
    if unit_id is not None:
        root = await unit_in_scope(session, principal, unit_id)
        if subtree:
            stmt = stmt.where(ReceptionEntry.unit_id.in_(access.subtree(root.path)))
        else:
            stmt = stmt.where(ReceptionEntry.unit_id == root.id)
    if start is not None:
        stmt = stmt.where(ReceptionEntry.received_on >= start)
    if end is not None:
        stmt = stmt.where(ReceptionEntry.received_on <= end)
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)
    rows, next_cursor = await _ENTRY_ORDER.fetch(session, stmt, limit=limit, cursor=cursor)
    return rows, next_cursor, total


async def unit_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Units' names by id (for the lists' unit column)."""
    if not ids:
        return {}
    rows = await session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(ids)))
    return {i: n for i, n in rows.tuples()}


async def hidden_identities(session: AsyncSession, rows: list[Case], vault: Vault) -> dict[int, list[str]]:
    """The protected parties' identities to mask in each listed case's title, for every caller: the dashboard
    shows none, even to a head whom the API lets open them (the presenters' query, for every case listed)."""
    return await presenters.protected_identities(session, [c.id for c in rows if c.id is not None], vault)


case_codes = sealing.case_codes  # tracking codes by case id (a register entry's case)


async def unit_name(session: AsyncSession, principal: Officer, unit_id: int) -> str:
    """The name of a unit in the caller's scope (404 no_such_unit otherwise)."""
    found = await session.scalar(sa.select(Unit.name).where(Unit.id == unit_id, access.units_in_view(principal)))
    if found is None:
        raise DomainError(Code.no_such_unit, details={"field": "unit_id"})
    return str(found)


@cache
def _former_districts() -> dict[str, str]:
    return {row["code"]: f"{row['former_district']} (cũ)" for row in read_communes() if row.get("former_district")}


def area_of(unit_code: str, level: str) -> str:
    """The district-level area a unit's row folds under: a commune's former district, else the province level."""
    if level == "commune":
        return _former_districts().get(unit_code, "Xã, phường khác")
    return PROVINCE_AREA


@dataclass(frozen=True)
class CaseView:
    """A case on the dashboard: what the oversight needs, never a protected identity (masked for everyone here,
    even for a head who may open it through the API: the dashboard records no identity read)."""

    case: Case
    title: str
    content: str
    text_redacted: bool
    parties: list[PartyOut]
    timers: list[TimerOut]
    units: dict[int, str]


async def case_view(
    session: AsyncSession, principal: Officer, case_id: int, *, today: date, env: DeadlineEnv, vault: Vault
) -> CaseView:
    """The readable case (404 case_not_found otherwise) as `presenters` show it to whoever may not see its
    protected parties: masked in the parties and in the title and content."""
    loaded = await case_queries.load(session, principal, case_id)
    case = loaded.case
    parties = [
        presenters.party(p, case.kind, False, vault, case.identity_protected)
        for p in loaded.parties
        if p.removed_at is None
    ]
    hidden = presenters.hidden_identities(case, loaded.parties, vault)
    title, content, redacted = presenters.text(case, vault, hidden)
    timers = [TimerOut(**Timer.from_dict(t).view(env.cal, today)) for t in case.timers]
    names = await unit_names(session, {case.receiving_unit_id, case.competent_unit_id})
    return CaseView(case, title, content, redacted, parties, timers, names)
