"""Who finds and who keeps what in reception: the units in a caller's view, the desk that keeps a unit's sittings
and register, the sittings a caller finds and the register entries they may read (an entry follows its case)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.reception import ReceptionEntry
from api.models.unit import Unit
from api.services.cases import access
from workflows.cases import Role

unit_scope = access.units_in_view


async def unit_in_scope(session: AsyncSession, principal: Officer, unit_id: int) -> Unit:
    unit: Unit | None = await session.scalar(sa.select(Unit).where(Unit.id == unit_id, unit_scope(principal)))
    if unit is None:
        raise DomainError(Code.no_such_unit, details={"field": "unit_id"})
    return unit


def ensure_writer(principal: Officer, unit_id: int) -> None:
    """Sittings and the register are kept by the unit's own reception desk and head."""
    if principal.unit_id != unit_id or not principal.has(Role.desk_officer, Role.unit_head):
        raise DomainError(Code.reception_forbidden)


def sittings_in_scope(principal: Officer, unit_column: Any) -> ColumnElement[bool]:
    """Sittings (the facts the public schedule shows): the caller's unit and the units below it."""
    if principal.has(Role.inspector):
        return sa.true()
    clause: ColumnElement[bool] = unit_column.in_(access.subtree(principal.unit_path))
    return clause


def entries_in_scope(principal: Officer, unit_column: Any) -> ColumnElement[bool]:
    """Register entries name citizens and what they brought, and follow their case's read rules: the
    inspectorate reads every unit's, a head their unit's and those below, a desk officer their own unit's, a
    handler only the entries of cases assigned to them, an administrator (who reads no case) none; and an entry
    whose case the caller may not read (an officer named as accused in it, a handler not assigned) is not found."""
    case_readable = sa.exists().where(Case.id == ReceptionEntry.case_id, access.readable(principal))
    follows_case = sa.or_(ReceptionEntry.case_id.is_(None), case_readable)
    if principal.has(Role.inspector):
        return follows_case
    clause: ColumnElement[bool]
    if principal.has(Role.unit_head):
        clause = sa.and_(unit_column.in_(access.subtree(principal.unit_path)), follows_case)
    elif principal.has(Role.desk_officer):
        clause = sa.and_(unit_column == principal.unit_id, follows_case)
    elif principal.has(Role.handler):
        clause = sa.and_(unit_column == principal.unit_id, ReceptionEntry.case_id.is_not(None), case_readable)
    else:
        clause = sa.false()
    return clause
