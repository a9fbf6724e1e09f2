"""Figures for an officer named as accused (docs/confidentiality.md, "who can learn what"): everything such an officer
is shown is counted over what they may read. The lists never show a case naming them (`access.readable`: even after
the link is removed, `case_parties.removed_at`), so a figure that counted it would give the case away as the figure
less its list — narrowed by day, unit, kind and field, the day a denouncer came to the desk.

Cheap for everyone else: whether the caller is named anywhere is decided once per answer (one look-up of
`case_parties` by its indexed `officer_id`: a request asks once, before its answer's cache key); only for a caller
who is does the counting SQL change (`hiding`). Official records stay complete: a report is frozen complete and
never recomputed, and everyone else's figures are the same SQL as before.

The ORM queries (the heads' reception compliance: a sitting counts as held through its register lines, see
reception/sittings.took_place) ask the same of a register line with `line_kept`.

`Hidden.version`: the cases naming the caller, as a digest. `case_parties` has no version counter (stats/cache.py), so
an answer kept for such a caller carries it in its version: a link added to an older case makes it anew."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.models.reception import ReceptionEntry
from api.services.cases import access

# The tables the statistics count, each with the column naming its case: shadowed by a common table expression of the
# same name without the rows of the cases naming the caller (inside its own definition the name is the table). A
# register line without a case (`case_id` NULL) is kept.
SHADOWED: dict[str, str] = {
    "case_facts": "case_id",
    "case_events": "case_id",
    "case_ratings": "case_id",
    "reception_entries": "case_id",
    "cases": "id",
}
_WITHOUT = "NOT EXISTS (SELECT 1 FROM case_parties hp WHERE hp.case_id = x.{column} AND hp.officer_id = :me)"
_SHADOWS = ", ".join(
    # NOT MATERIALIZED: inlined where it is read, so the counting SQL keeps its indexes (PostgreSQL would otherwise
    # materialise a table read twice, as the forms' UNION ALL reads case_facts).
    f"{table} AS NOT MATERIALIZED (SELECT * FROM {table} x WHERE {_WITHOUT.format(column=column)})"  # noqa: S608
    for table, column in SHADOWED.items()
)

# The caller's accused links (every one, removed or not), as a digest; NULL when none (ix_case_parties_officer_id).
_LINKS = sa.text("SELECT md5(string_agg(case_id::text, ',' ORDER BY case_id)) FROM case_parties WHERE officer_id = :me")


@dataclass(frozen=True)
class Hidden:
    """A caller named as accused in some case: their figures leave those cases out."""

    user_id: int
    links: str  # digest of the cases naming them

    @property
    def params(self) -> dict[str, int]:
        return {"me": self.user_id}

    @property
    def version(self) -> str:
        return f",accused={self.links}"


async def of(session: AsyncSession, principal: Officer) -> Hidden | None:
    """`Hidden` when some case names the caller as accused, else None (their figures are everyone's)."""
    links = await session.scalar(_LINKS, {"me": principal.id})
    return Hidden(principal.id, str(links)) if links is not None else None


def hiding(sql: str) -> str:
    """The counting SQL over what the caller (`:me`) may read: the tables it counts without the cases naming them,
    their register lines and their events. The SQL itself is unchanged."""
    body = sql.lstrip()
    if body[:4].upper() == "WITH":
        rest = body[4:].lstrip()
        assert not rest.upper().startswith("RECURSIVE"), "a recursive WITH would read its own shadow"
        return f"WITH {_SHADOWS}, {rest}"
    return f"WITH {_SHADOWS} {body}"


def naming(hide: Hidden, case_id: Any) -> ColumnElement[bool]:
    """Whether the case in `case_id` (a column) names the caller as accused (every link, removed or not)."""
    return access.named_accused(hide.user_id, case_id)


def line_kept(hide: Hidden | None) -> ColumnElement[bool]:
    """A register line the caller's figures count: every one, or for a caller named as accused (`hide`) those not
    linked to a case naming them (as the `reception_entries` shadow of `hiding`; a line without a case is kept)."""
    if hide is None:
        return sa.true()
    return sa.not_(naming(hide, ReceptionEntry.case_id))
