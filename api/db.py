"""Database URL resolution, async engine and sessions, and raw statements for the hot path."""

import asyncio
import re
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from api import embedded
from api.settings import Settings

_resolved: dict[str, str] = {}


def normalize_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL, started on first use."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    if "embedded" not in _resolved:
        _resolved["embedded"] = embedded.start(settings.data_dir / "pgdata")
    return _resolved["embedded"]


def server_settings(statement_timeout_ms: int = 0, role: str | None = None) -> dict[str, str]:
    """Set at connection start, so they are the session's defaults (a RESET or DISCARD keeps them): the
    statement timeout, and the application role the service works as (migration 0011)."""
    settings = {"statement_timeout": str(statement_timeout_ms)} if statement_timeout_ms else {}
    if role:
        settings["role"] = role
    return settings


def make_engine(url: str, pool_size: int = 20, statement_timeout_ms: int = 0, role: str | None = None) -> AsyncEngine:
    # hide_parameters: SQL errors must never carry personal data into logs.
    # A fixed pool (no overflow): under sustained load, overflow connections would be opened and closed on every
    # request. No pre-ping (it costs two round trips per checkout): a connection found dead raises once and the
    # pool is invalidated, so the next request reconnects.
    # A statement timeout on every connection: no request can hold the database for minutes.
    settings = server_settings(statement_timeout_ms, role)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
        hide_parameters=True,
        connect_args={"server_settings": settings} if settings else {},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_engine(settings: Settings, role: str | None = None) -> AsyncEngine | None:
    """The engine of DATABASE_READ_URL (a streaming replica for the heavy reads: api/deps.py get_read_session), or
    None when it is unset (those reads then run on the primary)."""
    if not settings.database_read_url:
        return None
    return make_engine(
        normalize_url(settings.database_read_url), settings.db_pool_size, settings.statement_timeout_ms, role
    )


# How fresh a replica's figures are: the commit time of the last transaction it replayed, rounded down to the minute.
# (A server that is not in recovery — DATABASE_READ_URL naming a primary — is current: its clock, rounded too.) To
# the microsecond, the replay time is a clock of every commit on the primary — a denunciation written, a sign-in — so
# it is never told finer than the minute, and never to an anonymous caller (api/deps.py get_public_read_session).
_AS_OF = sa.text(
    "SELECT date_trunc('minute', CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() "
    "ELSE clock_timestamp() END)"
)


async def data_as_of(session: AsyncSession) -> datetime | None:
    """The minute the data a read session sees are current as of, rounded down (None: a replica that has replayed
    nothing yet)."""
    row = (await session.execute(_AS_OF)).one()
    moment: datetime | None = row[0]
    return moment


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under a session, for the few hot statements that skip the ORM. Outside a
    transaction a statement commits on its own (one statement, atomic); inside the session's transaction
    (when something earlier used the ORM) it is part of it and the session's commit covers it."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn: asyncpg.Connection = raw.driver_connection
    return conn


class Statement:
    """SQL written with :named parameters, run on asyncpg with positional ones ($1, $2, ...)."""

    def __init__(self, sql: str) -> None:
        self.names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.names:
                self.names.append(name)
            return f"${self.names.index(name) + 1}"

        self.sql = re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", number, sql)

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.names]


SESSION_KEY = "db_session"
HOT_KEY = "db_hot"
READ_KEY = "db_read"  # the request's session on DATABASE_READ_URL (api.deps.get_read_session)
AS_OF_KEY = "db_read_as_of"  # when its data were current: the response's X-Data-As-Of
AS_OF_HEADER = b"x-data-as-of"


async def _reset(conn: asyncpg.Connection) -> None:
    """What a hot connection needs before reuse: the hot statements set nothing, listen to nothing and take no
    lock, so asyncpg's full reset (a round trip per request) is replaced by rolling back a transaction that a
    failed statement may have left."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class HotPool:
    """A small asyncpg pool for the statements every request or every intake runs (the officer lookup, the
    intake INSERT): they skip the ORM and its connection machinery. Opened on first use."""

    def __init__(self, url: str, size: int, statement_timeout_ms: int = 0, role: str | None = None) -> None:
        head, _, query = normalize_url(url).replace("postgresql+asyncpg://", "postgresql://").partition("?")
        self._dsn = head
        self._kwargs: dict[str, Any] = {"host": query.split("host=", 1)[1]} if "host=" in query else {}
        self._size = size
        self._settings = server_settings(statement_timeout_ms, role)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        # First come, first served: asyncpg's queue lets a new request take a connection just released ahead
        # of one already waiting, which under load starves a few requests for seconds.
        self._turns = asyncio.Semaphore(size)

    async def acquire(self) -> asyncpg.Connection:
        await self._turns.acquire()
        try:
            return await self._acquire()
        except BaseException:
            self._turns.release()
            raise

    async def _acquire(self) -> asyncpg.Connection:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._size,
                        reset=_reset,
                        server_settings=self._settings,
                        **self._kwargs,
                    )
        conn: asyncpg.Connection = await self._pool.acquire()
        return conn

    async def release(self, conn: asyncpg.Connection) -> None:
        try:
            if self._pool is not None:
                await self._pool.release(conn)
        finally:
            self._turns.release()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class SessionScope:
    """ASGI middleware: closes the session a request opened (api.deps.get_session), and its read session
    (api.deps.get_read_session), and gives back its hot connection (api.deps.get_hot_connection), whatever happened.
    A GET answered from the read replica for an officer says how fresh its data are: `X-Data-As-Of` (ISO 8601,
    rounded down to the minute; "unknown" before the replica has replayed anything)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            send = _with_as_of(scope, send)
        try:
            await self.app(scope, receive, send)
        finally:
            state = scope.get("state") or {}
            session, hot = state.pop(SESSION_KEY, None), state.pop(HOT_KEY, [])
            if session is not None and session.in_transaction():  # one that never ran a statement holds nothing
                await session.close()
            read = state.pop(READ_KEY, None)
            if read is not None:
                await read.close()
            for pool, conn in hot:
                await pool.release(conn)


def _with_as_of(scope: dict[str, Any], send: Any) -> Any:
    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state = scope.get("state") or {}
            if AS_OF_KEY in state:
                moment = state[AS_OF_KEY]
                value = moment.isoformat() if moment is not None else "unknown"
                message["headers"] = [*message.get("headers", []), (AS_OF_HEADER, value.encode())]
        await send(message)

    return sending
