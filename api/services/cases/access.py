"""Who may read a case and act on it. Access is a query filter: a case the caller may not read is simply
not found. The rules about protected identities themselves are law and live in workflows/confidentiality."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case, CaseAssignment, CaseParty
from api.models.unit import Unit
from workflows import confidentiality
from workflows.cases import Role, Transition


def open_party_clause(kind_column: ColumnElement[str] | str) -> ColumnElement[bool]:
    """SQL twin of `not confidentiality.is_protected(...)`, for matching parties across cases."""
    kind_is_denunciation = (
        (kind_column == "denunciation")
        if not isinstance(kind_column, str)
        else sa.literal(kind_column == "denunciation")
    )
    return sa.and_(CaseParty.role != "denouncer", sa.or_(CaseParty.role == "accused", ~kind_is_denunciation))


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


def readable(principal: Officer) -> ColumnElement[bool]:
    user_id = principal.id
    named_accused = sa.exists().where(CaseParty.case_id == Case.id, CaseParty.officer_id == user_id)
    if principal.has(Role.inspector):
        return ~named_accused
    scopes: list[ColumnElement[bool]] = []
    if principal.has(Role.unit_head):
        units = subtree(principal.unit_path)
        scopes += [Case.competent_unit_id.in_(units), Case.receiving_unit_id.in_(units)]
    if principal.has(Role.desk_officer):
        scopes += [Case.receiving_unit_id == principal.unit_id, Case.competent_unit_id == principal.unit_id]
    if principal.has(Role.handler):
        scopes.append(sa.exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.user_id == user_id))
    if not scopes:
        return sa.false()
    return sa.and_(sa.or_(*scopes), ~named_accused)


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
    holding = sa.case((Case.status == "received", Case.receiving_unit_id), else_=Case.competent_unit_id)
    clauses: list[ColumnElement[bool]] = []
    if principal.has(Role.desk_officer):
        clauses.append(Case.received_by_id == principal.id)
    if principal.has(Role.unit_head):
        clauses.append(holding == principal.unit_id)
    return sa.or_(*clauses) if clauses else sa.false()


def sees_identity(principal: Officer, case: Case) -> bool:
    return confidentiality.may_see_identity(
        roles=principal.roles,
        officer_id=principal.id,
        officer_unit_id=principal.unit_id,
        received_by_id=case.received_by_id,
        holding_unit_id=holding_unit(case),
    )
