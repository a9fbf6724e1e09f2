"""An officer's account by id, or 404 `no_such_user`: the one way the package loads an account."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.unit import Unit
from api.models.user import User


async def get(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User:
    """`for_update`: locked for the change about to be made (and read afresh, not from the session's identity map)."""
    user = await session.get(User, user_id, with_for_update=True if for_update else None)
    if user is None:
        raise DomainError(Code.no_such_user)
    return user


async def with_unit(session: AsyncSession, user_id: int) -> tuple[User, Unit]:
    user = await get(session, user_id)
    unit = await session.get(Unit, user.unit_id)
    assert unit is not None
    return user, unit
