"""Dependencies shared by the routers: settings, session, the signed-in officer, role checks."""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api import security
from api.errors import Forbidden, Unauthorized
from api.models.unit import Unit
from api.models.user import Role, User
from api.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """The signed-in officer with their unit, as loaded for this request."""

    user: User
    unit: Unit

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    def has(self, *roles: Role) -> bool:
        return any(r.value in self.user.roles for r in roles)


async def current_principal(session: SessionDep, settings: SettingsDep,
                            token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    if not token:
        raise Unauthorized()
    try:
        claims = security.decode_access_token(settings, token)
        user_id = int(claims["sub"])
    except (security.InvalidToken, ValueError, KeyError):
        raise Unauthorized(code="invalid_token") from None
    user = await session.get(User, user_id)
    # Deactivation takes effect at once: every request reloads the officer and their roles.
    if user is None or not user.is_active:
        raise Unauthorized(code="invalid_token")
    unit = await session.get(Unit, user.unit_id)
    assert unit is not None
    return Principal(user=user, unit=unit)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(details={"required_roles": [r.value for r in roles]})
        return principal

    return dependency


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.admin))]
