"""The operator's administrators, made on the server and at once (no pending): the first one when none exists
(BOOTSTRAP_ADMIN_*), a named one (BOOTSTRAP_APPROVER_*, `python -m api create-admin`)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.models.unit import Unit
from api.models.user import Role, User, UserIn
from api.security import Passwords
from api.services.users.accounts import create


async def _root_unit(session: AsyncSession) -> int:
    unit = await session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None:
        unit = Unit(code="ROOT", name="Hệ thống", level="province", path="/", remote_area=False, is_active=True)
        session.add(unit)
        await session.flush()
        unit.path = f"/{unit.id}/"
    await session.flush()
    assert unit.id is not None
    return unit.id


async def _make_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> None:
    """The operator's act on the server: an administrator at once (no pending)."""
    unit_id = await _root_unit(session)
    await create(
        session,
        passwords,
        None,
        UserIn(username=username, password=password, full_name="Quản trị viên", unit_id=unit_id, roles=[Role.admin]),
    )


async def ensure_bootstrap_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> bool:
    """Create the first admin when no active admin exists. Returns True when one was made."""
    admins = await session.scalar(sa.select(sa.func.count()).select_from(User).where(User.roles.any(Role.admin.value)))
    if admins:
        return False
    # Serialise concurrent starts: several processes may boot at once.
    await locks.hold(session, locks.Lock.bootstrap_admin)
    admins = await session.scalar(sa.select(sa.func.count()).select_from(User).where(User.roles.any(Role.admin.value)))
    if admins:
        await session.rollback()
        return False
    await _make_admin(session, passwords, username, password)
    return True


async def ensure_named_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> bool:
    """Create this administrator unless an account of that name exists (BOOTSTRAP_APPROVER_*, `create-admin`:
    the second administrator two-person grants need). Returns True when one was made."""

    async def exists() -> bool:
        found = await session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower()))
        return found is not None

    if await exists():
        return False
    await locks.hold(session, locks.Lock.bootstrap_admin)  # concurrent starts make it once
    if await exists():
        await session.rollback()
        return False
    await _make_admin(session, passwords, username, password)
    return True


ensure_bootstrap_approver = ensure_named_admin
