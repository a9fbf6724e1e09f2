"""Dependencies shared by the routers: settings, session, the signed-in officer, role checks, the case
the caller may read. Only this module turns HTTP (tokens, headers) into the plain types of api/auth."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api import security
from api.auth import Officer
from api.errors import Code, DomainError, Forbidden, Unauthorized
from api.models.cases import Case
from api.models.unit import Unit
from api.models.user import Role, User
from api.settings import Settings
from api.types import Id64

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

_OFFICER = (
    sa.select(User.id, User.username, User.roles, User.unit_id, Unit.path, Unit.remote_area)
    .join(Unit, Unit.id == User.unit_id)
    .where(User.is_active)
)


async def load_officer(session: AsyncSession, user_id: int) -> Officer | None:
    """The active officer with their unit, in one query; None if unknown or deactivated."""
    row = (await session.execute(_OFFICER.where(User.id == user_id))).first()
    if row is None:
        return None
    return Officer(
        id=row.id,
        username=row.username,
        unit_id=row.unit_id,
        unit_path=row.path,
        unit_remote_area=row.remote_area,
        roles=frozenset(row.roles),
    )


async def current_officer(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Officer:
    if not token:
        raise Unauthorized()
    try:
        claims = security.decode_access_token(settings, token)
        user_id = int(claims["sub"])
    except (security.InvalidToken, ValueError, KeyError):
        raise DomainError(Code.invalid_token, headers={"WWW-Authenticate": "Bearer"}) from None
    # Deactivation takes effect at once: every request reloads the officer and their roles.
    officer = await load_officer(session, user_id)
    if officer is None:
        raise DomainError(Code.invalid_token, headers={"WWW-Authenticate": "Bearer"})
    return officer


CurrentOfficer = Annotated[Officer, Depends(current_officer)]


def require_roles(*roles: Role) -> Callable[[Officer], Coroutine[Any, Any, Officer]]:
    async def dependency(officer: CurrentOfficer) -> Officer:
        if not officer.has(*roles):
            raise Forbidden(details={"required_roles": [r.value for r in roles]})
        return officer

    return dependency


AdminOfficer = Annotated[Officer, Depends(require_roles(Role.admin))]


async def readable_case(case_id: Id64, session: SessionDep, officer: CurrentOfficer) -> Case:
    """The case in the path if the caller may read it; 404 otherwise (whether or not it exists)."""
    from api.services.cases import queries

    return await queries.get_readable(session, officer, case_id)


ReadableCase = Annotated[Case, Depends(readable_case)]
