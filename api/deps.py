"""Dependencies shared by the routers: settings, session, the signed-in officer, role checks, the case
the caller may read. Only this module turns HTTP (tokens, headers) into the plain types of api/auth: a token into
an `Officer`. (Each sign-in is also handed to the intake path's memory: api/services/cases/remembered.py.)"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api import db, lean, security
from api.auth import Officer
from api.db import driver
from api.errors import Code, DomainError, unauthenticated
from api.models.cases import Case
from api.models.user import Role
from api.services import calendar as calendar_service
from api.services.calendar import DeadlineEnv
from api.services.cases import remembered
from api.services.cases.writer import IntakeWriter
from api.settings import Settings
from api.types import Id64


class _Bearer(OAuth2PasswordBearer):
    """OAuth2's bearer token (in the OpenAPI document as FastAPI's), read by the rule the lean lane uses too."""

    async def __call__(self, request: HTTPConnection) -> str | None:
        return lean.bearer_token(request.headers.get("Authorization"))


# Named as FastAPI names its own class: the OpenAPI document (its security scheme) is unchanged.
oauth2_scheme = _Bearer(tokenUrl="/api/v1/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False)


async def get_settings(request: Request) -> Settings:  # async: a sync dependency would run in a thread
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncSession:
    """The request's session, made on first use and closed by `db.SessionScope` once the response is sent
    (a generator dependency would do the same at several times the cost on every request)."""
    state = request.scope.setdefault("state", {})
    session: AsyncSession | None = state.get(db.SESSION_KEY)
    if session is None:
        session = state[db.SESSION_KEY] = request.app.state.sessionmaker()
    return session


async def get_hot_connection(request: Request) -> asyncpg.Connection:
    """A connection from the hot pool (db.HotPool), held until `release_hot` or the end of the request
    (`db.SessionScope`)."""
    pool: db.HotPool = request.app.state.hot_pool
    conn = await pool.acquire()
    request.scope.setdefault("state", {}).setdefault(db.HOT_KEY, []).append((pool, conn))
    return conn


async def release_hot(request: Request, conn: asyncpg.Connection) -> None:
    """Give a hot connection back as soon as its statement is done (no-op for one the request does not hold)."""
    held = request.scope.get("state", {}).get(db.HOT_KEY, [])
    for i, (pool, c) in enumerate(held):
        if c is conn:
            del held[i]
            await pool.release(c)
            return


async def get_intake_writer(request: Request) -> IntakeWriter:
    """The process's intake writer (group commit on the hot pool: api/services/cases/writer.py)."""
    writer: IntakeWriter = request.app.state.intake_writer
    return writer


HotDep = Annotated[asyncpg.Connection, Depends(get_hot_connection)]
IntakeWriterDep = Annotated[IntakeWriter, Depends(get_intake_writer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

# The officer, their unit and the calendar's cache version in one statement (asyncpg directly: it runs on
# every request), with the fingerprint the intake path remembers them by.
_OFFICER = f"""
    SELECT u.id, u.username, u.roles, u.unit_id, un.path, un.remote_area,
           (SELECT version FROM cache_versions WHERE name = 'calendar'), u.token_version, {remembered.FINGERPRINT}
    FROM users u JOIN units un ON un.id = u.unit_id
    WHERE u.id = $1 AND u.is_active AND NOT u.is_system
"""  # noqa: S608 (a constant expression)


async def load_officer(session: AsyncSession, user_id: int) -> Officer | None:
    """The active officer with their unit, in one query; None if unknown or deactivated."""
    loaded = await _load(await driver(session), user_id)
    return loaded[0] if loaded else None


async def _load(
    conn: asyncpg.Connection, user_id: int, token_version: int | None = None
) -> tuple[Officer, int, str] | None:
    """The officer, the calendar's cache version and the officer row's fingerprint, read together: one round trip
    per request."""
    row = await conn.fetchrow(_OFFICER, user_id)
    if row is None or (token_version is not None and row[7] != token_version):
        return None  # unknown, deactivated, or a token revoked by a password change or sign-out
    officer = Officer(
        id=row[0], username=row[1], unit_id=row[3], unit_path=row[4], unit_remote_area=row[5], roles=frozenset(row[2])
    )
    return officer, int(row[6]), row[8]


async def officer_for_token(
    settings: Settings, conn: asyncpg.Connection, token: str, app: Any = None
) -> tuple[Officer, int] | None:
    """The officer a bearer token names, if it is valid and not revoked, with the calendar's cache version (one
    query); None otherwise. Used by the API (Authorization header) and the dashboard (its cookie). With the `app`,
    the sign-in is remembered for the lean intake path (api/services/cases/remembered.py)."""
    try:
        user_id, version = security.subject_of(security.decode_access_token(settings, token))
    except security.InvalidToken:  # a subject out of range too: 401, never the database's error
        return None
    loaded = await _load(conn, user_id, version)
    if loaded is None:
        return None
    if app is not None:
        remembered.remember(app.state.signed_in, version, remembered.SignedIn(*loaded))
    return loaded[0], loaded[1]


async def current_officer(
    request: Request, hot: HotDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Officer:
    if not token:
        raise unauthenticated()
    signed_in: Officer | None = getattr(request.state, "officer", None)
    if signed_in is not None:  # already signed in by another dependency of this request (its `hot` is given back)
        return signed_in
    # Deactivation takes effect at once: every request reloads the officer and their roles.
    loaded = await officer_for_token(request.app.state.settings, hot, token, request.app)
    # Given back at once: every request signs in, so holding it to the end would make the small hot pool the
    # limit on how many requests of any kind run at the same time.
    await release_hot(request, hot)
    if loaded is None:
        raise unauthenticated(Code.invalid_token)
    request.state.calendar_version = loaded[1]
    request.state.officer = loaded[0]
    return loaded[0]


CurrentOfficer = Annotated[Officer, Depends(current_officer)]


def require_roles(*roles: Role) -> Callable[[Officer], Coroutine[Any, Any, Officer]]:
    async def dependency(officer: CurrentOfficer) -> Officer:
        if not officer.has(*roles):
            raise DomainError(Code.forbidden, details={"required_roles": [r.value for r in roles]})
        return officer

    return dependency


AdminOfficer = Annotated[Officer, Depends(require_roles(Role.admin))]


async def readable_case(case_id: Id64, session: SessionDep, officer: CurrentOfficer) -> Case:
    """The case in the path if the caller may read it; 404 otherwise (whether or not it exists)."""
    from api.services.cases import queries

    return await queries.get_readable(session, officer, case_id)


ReadableCase = Annotated[Case, Depends(readable_case)]


async def deadline_env(request: Request, session: SessionDep, _: CurrentOfficer) -> DeadlineEnv:
    """The calendar and deadline rules, reusing this process's calendar while the overrides' version read with
    the officer is unchanged (a change made through any process bumps it in the database)."""
    return await calendar_service.env(session, request.app.state.settings, version=request.state.calendar_version)


DeadlineEnvDep = Annotated[DeadlineEnv, Depends(deadline_env)]


@dataclass(frozen=True, slots=True)
class OfficerContext:
    """What a case command needs, resolved as one dependency: the request's session, the signed-in officer,
    the settings and the deadline environment (fewer dependencies to solve on the hot routes)."""

    session: AsyncSession
    officer: Officer
    settings: Settings
    env: DeadlineEnv


async def officer_context(
    request: Request, session: SessionDep, hot: HotDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> OfficerContext:
    officer = await current_officer(request, hot, token)  # gives `hot` back
    settings: Settings = request.app.state.settings
    env = await calendar_service.env(session, settings, version=request.state.calendar_version)
    return OfficerContext(session=session, officer=officer, settings=settings, env=env)


Ctx = Annotated[OfficerContext, Depends(officer_context)]


async def expensive(request: Request, officer: CurrentOfficer) -> Officer:
    """The officer, if they still have room for an expensive request (api/ratelimit.py); 429 otherwise."""
    limiter = request.app.state.expensive_limiter
    limiter.check(f"officer:{officer.id}")
    return officer


ExpensiveOfficer = Annotated[Officer, Depends(expensive)]


async def _read_session(request: Request, session: SessionDep, *, tell_freshness: bool) -> AsyncSession:
    maker = getattr(request.app.state, "read_sessionmaker", None)
    if maker is None:
        return session
    state = request.scope.setdefault("state", {})
    read: AsyncSession | None = state.get(db.READ_KEY)
    if read is None:
        read = state[db.READ_KEY] = maker()
        if tell_freshness:
            state[db.AS_OF_KEY] = await db.data_as_of(read)  # read first: the answer is at least this fresh
    return read


async def get_read_session(request: Request, session: SessionDep) -> AsyncSession:
    """For the heavy reads of officers (statistics, forms, the dashboard's overview and exports): a session on
    DATABASE_READ_URL's streaming replica, made on first use and closed by `db.SessionScope`, which also tells the
    client how fresh its data are (X-Data-As-Of, to the minute); the request's own session when no replica is
    configured. Writes, sign-in and the reads that must see a write just made (an officer's case after an action,
    idempotent replays) stay on `get_session`."""
    return await _read_session(request, session, tell_freshness=True)


async def get_public_read_session(request: Request, session: SessionDep) -> AsyncSession:
    """The same replica session for the anonymous heavy reads (the Open311 listing), which never say how fresh they
    are: the replica's replay time moves with every commit on the primary (a denunciation written included), a clock
    no anonymous caller gets."""
    return await _read_session(request, session, tell_freshness=False)


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
PublicReadSessionDep = Annotated[AsyncSession, Depends(get_public_read_session)]
