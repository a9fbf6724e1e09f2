"""Who may read a case, act on it, and see a denouncer's identity. Access is a query filter: a case
the caller may not read is simply not found."""

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from api.deps import Principal
from api.errors import Forbidden
from api.models.case import Case, CaseAssignment, CaseParty
from api.models.unit import Unit
from workflows.cases import Role, Status, Transition


def is_secret(role: str, kind: str) -> bool:
    """Whose identity is sealed and masked: every denouncer, and in a denunciation everyone but the
    accused — representatives and relatives of denouncers are protected too (LTC art. 9, 47, 56)."""
    return role == "denouncer" or (kind == "denunciation" and role != "accused")


def open_party_clause(kind_column: ColumnElement[str] | str) -> ColumnElement[bool]:
    """SQL twin of `not is_secret(...)`, for matching parties across cases."""
    kind_is_denunciation = (kind_column == "denunciation") if not isinstance(kind_column, str) \
        else sa.literal(kind_column == "denunciation")
    return sa.and_(CaseParty.role != "denouncer", sa.or_(CaseParty.role == "accused", ~kind_is_denunciation))


def readable(principal: Principal) -> ColumnElement[bool]:
    user_id, unit = principal.id, principal.unit
    named_accused = sa.exists().where(CaseParty.case_id == Case.id, CaseParty.officer_id == user_id)
    if principal.has(Role.inspector):
        return ~named_accused
    scopes: list[ColumnElement[bool]] = []
    if principal.has(Role.unit_head):
        subtree = sa.select(Unit.id).where(Unit.path.startswith(unit.path))
        scopes += [Case.competent_unit_id.in_(subtree), Case.receiving_unit_id.in_(subtree)]
    if principal.has(Role.desk_officer):
        scopes += [Case.receiving_unit_id == unit.id, Case.competent_unit_id == unit.id]
    if principal.has(Role.handler):
        scopes.append(sa.exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.user_id == user_id))
    if not scopes:
        return sa.false()
    return sa.and_(sa.or_(*scopes), ~named_accused)


def holding_unit(case: Case) -> int:
    """The unit whose officers act on the case: the receiving unit while the letter is being processed
    (xử lý đơn), the competent unit once it has been accepted."""
    return case.receiving_unit_id if case.status == Status.received else case.competent_unit_id


def acting_roles(principal: Principal, case: Case) -> set[str]:
    """The caller's roles that count on this case: only in the unit holding it."""
    if principal.unit.id != holding_unit(case):
        return set()
    return {r for r in (Role.unit_head.value, Role.desk_officer.value) if r in principal.user.roles}


def ensure_may_act(principal: Principal, case: Case, t: Transition) -> None:
    """Holding the role somewhere else is not enough: a forbidden action in another unit is 403."""
    if not any(r.value in acting_roles(principal, case) for r in t.roles):
        raise Forbidden("Chỉ cán bộ của đơn vị có thẩm quyền được thực hiện thao tác này", code="not_your_unit")


def sees_identity(principal: Principal, case: Case) -> bool:
    """A denouncer's identity: only the desk officer who received the case and the head of the unit holding
    it (who decides on it)."""
    if principal.has(Role.desk_officer) and case.received_by_id == principal.id:
        return True
    return principal.has(Role.unit_head) and principal.unit.id == holding_unit(case)
