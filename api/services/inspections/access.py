"""Who is acting on the inspectorate's work, and what each may read. Inspectors (role `inspector`) plan, conduct and
conclude; the chief inspector is the `unit_head` of a unit of level `inspectorate` (DESIGN.md: `15-TTT` in the
seed) and approves plans and signs conclusions; the head of an inspected unit reads only their own unit's
inspections, conclusions and recommendations and reports on them; officers of Sở Nội vụ (the setting
`inspectorate_report_recipient`) read the submitted reports. Outside what one may read, a row is not found."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.unit import Unit
from workflows.cases import Role
from workflows.inspections import Actor


async def is_chief(session: AsyncSession, officer: Officer) -> bool:
    if not officer.has(Role.unit_head):
        return False
    level = await session.scalar(sa.select(Unit.level).where(Unit.id == officer.unit_id))
    return level == "inspectorate"


async def actors(session: AsyncSession, officer: Officer, unit_id: int | None = None) -> frozenset[Actor]:
    """The parts the officer plays; `unit_id` is the inspected (or responsible) unit of the object at hand."""
    out = set()
    if officer.has(Role.inspector):
        out.add(Actor.inspector)
    if await is_chief(session, officer):
        out.add(Actor.chief)
    if unit_id is not None and officer.has(Role.unit_head) and officer.unit_id == unit_id:
        out.add(Actor.inspected_head)
    return frozenset(out)


async def require_inspectorate(session: AsyncSession, officer: Officer) -> frozenset[Actor]:
    """An inspector or the chief inspector; 403 otherwise."""
    found = await actors(session, officer)
    if not found & {Actor.inspector, Actor.chief}:
        raise DomainError(Code.inspection_forbidden)
    return found


async def require_inspector(session: AsyncSession, officer: Officer) -> None:
    if not officer.has(Role.inspector):
        raise DomainError(Code.inspection_forbidden)


async def require_chief(session: AsyncSession, officer: Officer) -> None:
    if not await is_chief(session, officer):
        raise DomainError(Code.chief_inspector_only)


async def unit_filter(session: AsyncSession, officer: Officer, column: ColumnElement[int]) -> ColumnElement[bool]:
    """The rows the officer may read by their unit: every unit for the inspectorate, their own for a unit head;
    403 for anyone else."""
    found = await actors(session, officer)
    if found & {Actor.inspector, Actor.chief}:
        return sa.true()
    if officer.has(Role.unit_head):
        return column == officer.unit_id
    raise DomainError(Code.inspection_forbidden)


async def is_report_reader(session: AsyncSession, officer: Officer, recipient_code: str) -> bool:
    """The inspectorate, or an officer of Sở Nội vụ (the report's recipient)."""
    if await actors(session, officer) & {Actor.inspector, Actor.chief}:
        return True
    code = await session.scalar(sa.select(Unit.code).where(Unit.id == officer.unit_id))
    return code == recipient_code


def no_conflict(officer: Officer, *, unit_id: int, author_id: int | None = None) -> None:
    """Separation of duties: no one decides on a report they wrote or one of their own unit's (its head), nor
    drafts or signs a conclusion about their own unit; 403 `conflict_of_interest`."""
    if officer.id == author_id or officer.unit_id == unit_id:
        raise DomainError(Code.conflict_of_interest, details={"unit_id": unit_id})
