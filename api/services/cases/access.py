"""Who may read a case and act on it. Access is a query filter: a case the caller may not read is simply
not found. The rules about protected identities themselves are law and live in workflows/confidentiality."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case, CaseAssignment, CaseParty
from api.models.unit import Unit
from api.models.user import User
from workflows import confidentiality
from workflows.cases import Role, Transition


def open_party_clause(
    kind_column: ColumnElement[str] | str, protected_column: ColumnElement[bool] | bool = False
) -> ColumnElement[bool]:
    """SQL twin of `not confidentiality.is_protected(...)`, for matching parties across cases: `kind_column` and
    `protected_column` (the case's `identity_protected`) are columns, or one case's values."""
    kind_is_denunciation = (
        (kind_column == "denunciation")
        if not isinstance(kind_column, str)
        else sa.literal(kind_column == "denunciation")
    )
    protected = sa.literal(protected_column) if isinstance(protected_column, bool) else protected_column
    counterparty = CaseParty.role.in_(sorted(confidentiality.COUNTERPARTY_ROLES))
    return sa.and_(
        CaseParty.role != "denouncer",
        sa.or_(CaseParty.role == "accused", ~kind_is_denunciation),
        sa.or_(counterparty, ~protected),
    )


def subtree(unit_path: str) -> sa.Select[Any]:
    """Ids of a unit and every unit below it (materialised path)."""
    stmt: sa.Select[Any] = sa.select(Unit.id).where(Unit.path.startswith(unit_path))
    return stmt


def units_in_view(principal: Officer) -> ColumnElement[bool]:
    """Units whose registers and figures the caller may read: every unit for an inspector, else the caller's
    unit and the units below it."""
    if principal.has(Role.inspector):
        return sa.true()
    clause: ColumnElement[bool] = Unit.path.startswith(principal.unit_path)
    return clause


def named_accused(user_id: int, case_id: Any = Case.id) -> ColumnElement[bool]:
    """The case in `case_id` (a column: the case itself, a register line's case) names this officer as accused —
    every link, removed or not."""
    return sa.exists().where(CaseParty.case_id == case_id, CaseParty.officer_id == user_id)


def not_named_accused(principal: Officer) -> ColumnElement[bool]:
    """The case does not name the caller as accused: a lookup outside `readable` (e.g. an earlier case named at
    intake) must still never reach the case against the caller."""
    return ~named_accused(principal.id)


def _holding_column() -> ColumnElement[int]:
    return sa.case((Case.status == "received", Case.receiving_unit_id), else_=Case.competent_unit_id)


# SQL twin of `confidentiality.oversight` for reading and listing: the cases naming officers as accused where no
# unaccused active inspector remains (escalated), and those where nobody unaccused is left to oversee them — no
# inspector, no head of the inspectorate, no head of a unit above the holding one (everyone accused). Grouped over
# the accused links only (few rows), so a list reads it once as a hashed set.
_ESCALATED = sa.text("""
    SELECT p.case_id FROM case_parties p WHERE p.officer_id IS NOT NULL GROUP BY p.case_id
    HAVING NOT EXISTS (
        SELECT 1 FROM users u
        WHERE u.is_active AND u.id <> ALL(array_agg(p.officer_id)) AND 'inspector' = ANY(u.roles)
    )
""").columns(sa.column("case_id", sa.BigInteger))
_EVERYONE_ACCUSED = sa.text("""
    SELECT p.case_id FROM case_parties p JOIN cases c ON c.id = p.case_id WHERE p.officer_id IS NOT NULL
    GROUP BY p.case_id, c.status, c.receiving_unit_id, c.competent_unit_id
    HAVING NOT EXISTS (
        SELECT 1 FROM users u JOIN units uu ON uu.id = u.unit_id
        WHERE u.is_active AND u.id <> ALL(array_agg(p.officer_id)) AND (
            'inspector' = ANY(u.roles)
            OR ('unit_head' = ANY(u.roles) AND (uu.level = 'inspectorate' OR EXISTS (
                SELECT 1 FROM units h
                WHERE h.id = CASE WHEN c.status = 'received' THEN c.receiving_unit_id ELSE c.competent_unit_id END
                  AND h.id <> uu.id AND left(h.path, length(uu.path)) = uu.path)))
        )
    )
""").columns(sa.column("case_id", sa.BigInteger))


def escalated_clause() -> ColumnElement[bool]:
    """Cases whose oversight is escalated (`confidentiality.oversight`): no unaccused inspector reads them."""
    clause: ColumnElement[bool] = Case.id.in_(sa.select(_ESCALATED.subquery().c.case_id))
    return clause


def _heads_unit(principal: Officer, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    return sa.exists().where(Unit.id == principal.unit_id, *where)


def readable(principal: Officer) -> ColumnElement[bool]:
    user_id = principal.id
    names_caller = named_accused(user_id)
    if principal.has(Role.inspector):
        return ~names_caller
    scopes: list[ColumnElement[bool]] = []
    extra: list[ColumnElement[bool]] = []
    if principal.has(Role.unit_head):
        units = subtree(principal.unit_path)
        scopes += [Case.competent_unit_id.in_(units), Case.receiving_unit_id.in_(units)]
        # A case always keeps an overseer: with every inspector accused, the chief inspector reads it; with
        # everyone accused, the province chair does (never as its holding head, so never its identities).
        extra.append(sa.and_(_heads_unit(principal, Unit.level == "inspectorate"), escalated_clause(), ~names_caller))
        if principal.unit_path.count("/") == 2:  # the root unit ("/<id>/"): the province chair
            extra.append(
                sa.and_(
                    sa.or_(*scopes),
                    Case.id.in_(sa.select(_EVERYONE_ACCUSED.subquery().c.case_id)),
                    _holding_column() != principal.unit_id,
                    Case.received_by_id != user_id,
                )
            )
    if principal.has(Role.desk_officer):
        scopes += [Case.receiving_unit_id == principal.unit_id, Case.competent_unit_id == principal.unit_id]
    if principal.has(Role.handler):
        scopes.append(sa.exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.user_id == user_id))
    if not scopes:
        return sa.false()
    return sa.or_(sa.and_(sa.or_(*scopes), ~names_caller), *extra)


def holding_unit(case: Case) -> int:
    return confidentiality.holding_unit(case.status, case.receiving_unit_id, case.competent_unit_id)


def acting_roles(principal: Officer, case: Case) -> set[str]:
    """The caller's roles that count on this case: only in the unit holding it."""
    if principal.unit_id != holding_unit(case):
        return set()
    return {r for r in (Role.unit_head.value, Role.desk_officer.value) if r in principal.roles}


def ensure_desk_or_head(principal: Officer, case: Case, code: Code = Code.not_your_unit) -> None:
    """Work on the case's record outside the transition table (notices, enforcement, dismissing a duplicate) is
    for the desk or the head of the unit holding it: 403 `code` otherwise."""
    if not acting_roles(principal, case):
        raise DomainError(code)


def ensure_may_act(principal: Officer, case: Case, t: Transition) -> None:
    """Holding the role somewhere else is not enough: a forbidden action in another unit is 403."""
    if not any(r.value in acting_roles(principal, case) for r in t.roles):
        raise DomainError(Code.not_your_unit)


def sees_identity_clause(principal: Officer) -> ColumnElement[bool]:
    """SQL twin of `sees_identity`: rows whose protected identities this officer may see."""
    if principal.has(Role.handler):
        return sa.false()
    clauses: list[ColumnElement[bool]] = []
    if principal.has(Role.desk_officer) and not confidentiality.is_system_account(principal.username):
        clauses.append(Case.received_by_id == principal.id)
    if principal.has(Role.unit_head):
        clauses.append(_holding_column() == principal.unit_id)
    if not clauses:
        return sa.false()
    return sa.and_(sa.or_(*clauses), ~named_accused(principal.id))


def sees_identity(principal: Officer, case: Case) -> bool:
    """Whether this officer may see the case's protected identities (`confidentiality.may_see_identity`). An
    officer named as accused never reads the case at all (`readable`), save the province chair when everyone is
    accused, and then never as its holding head or receiver — so the accused never see an identity here either."""
    receiver = case.received_by_id == principal.id
    return confidentiality.may_see_identity(
        roles=principal.roles,
        officer_id=principal.id,
        officer_unit_id=principal.unit_id,
        received_by_id=case.received_by_id,
        # The receiver is the caller here: a system account (citizen channel, Open311) is never a human receiver.
        received_by_system=receiver and confidentiality.is_system_account(principal.username),
        holding_unit_id=holding_unit(case),
    )


async def oversight(session: AsyncSession, case_id: int, holding_unit_id: int) -> confidentiality.Oversight:
    """Who oversees this case now (`confidentiality.oversight`), from its accused links and the active officers."""
    accused = frozenset(
        (
            await session.scalars(
                sa.select(CaseParty.officer_id).where(CaseParty.case_id == case_id, CaseParty.officer_id.is_not(None))
            )
        ).all()
    )
    return await oversight_of(session, accused, holding_unit_id)


async def oversight_of(
    session: AsyncSession, accused: frozenset[int], holding_unit_id: int
) -> confidentiality.Oversight:
    """`confidentiality.oversight` for officers named as accused on a case held by this unit."""
    if not accused:
        return confidentiality.Oversight(False, None, frozenset())
    holding = await session.get_one(Unit, holding_unit_id)
    rows = (
        await session.execute(
            sa.select(User.id, User.roles, Unit.id, Unit.level, Unit.parent_id, Unit.path)
            .join(Unit, Unit.id == User.unit_id)
            .where(
                User.is_active,
                sa.or_(User.roles.any(Role.inspector.value), User.roles.any(Role.unit_head.value)),
            )
        )
    ).all()
    inspectors: set[int] = set()
    chiefs: set[int] = set()
    chairs: set[int] = set()
    above: dict[int, set[int]] = {}  # depth of the unit (longer path: nearer) → its heads
    for user_id, roles, unit_id, level, parent_id, path in rows:
        if Role.inspector.value in roles:
            inspectors.add(user_id)
        if Role.unit_head.value not in roles:
            continue
        if level == "inspectorate":
            chiefs.add(user_id)
        if parent_id is None:
            chairs.add(user_id)
        if unit_id != holding.id and holding.path.startswith(path):
            above.setdefault(len(path), set()).add(user_id)
    return confidentiality.oversight(
        accused=accused,
        inspectors=frozenset(inspectors),
        chief_inspectors=frozenset(chiefs),
        heads_above=[frozenset(above[d]) for d in sorted(above, reverse=True)],
        province_chairs=frozenset(chairs),
    )
