"""One PostgreSQL per run, migrated and seeded once; each test runs in a transaction rolled back after it."""

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from api import clock, security
from api.app import create_app
from api.cli import migrate
from api.db import driver, make_engine, make_sessionmaker
from api.deps import get_hot_connection, get_intake_writer, get_session
from api.models.user import User
from api.security import Passwords
from api.seed import seed_demo
from api.services.cases.writer import IntakeWriter, OneConnection
from api.settings import Settings
from tests.pg import PgServer

clock.fixed_today = clock.today()  # one legal date for the whole run, even across midnight in Hà Nội

SETTINGS = Settings(
    database_url="postgresql+asyncpg://unused/unused",
    jobs_enabled=False,
    webhook_allow_private=True,  # the webhook tests deliver to a receiver on this machine
    identity_keys="ZmFrZS10ZXN0LWtleS0zMi1ieXRlcy1sb25nLW9rISE=",
    secret_key="t3st-k3y-Qw8rT5yU1iO9pA2sD6fG4hJ7kL0zX",
    argon2_time_cost=1,
    argon2_memory_cost=1024,
    max_body_bytes=200_000,
    expensive_burst=10_000,  # the suite searches a lot; tests/test_abuse.py sets a tight limiter of its own
    public_per_minute=100_000,  # likewise the citizen channel (tests/test_public.py sets tight limits itself)
    public_burst=100_000,
    lookup_failures_per_hour=100_000,
    attachments_dir=tempfile.mkdtemp(prefix="tiepdan-attachments-"),
)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def database_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    url = pg_server.url(name)
    migrate(url)

    async def seed() -> None:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as session:
            await seed_demo(session, Passwords(SETTINGS))
        await engine.dispose()

    asyncio.run(seed())
    yield url
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    # As the service connects: in the application role, which owns no table (migration 0011).
    eng = create_async_engine(database_url, connect_args={"server_settings": {"role": SETTINGS.db_app_role}})
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        # Start the transaction now, so statements run on the raw driver connection (the hot paths) are in it.
        await conn.execute(sa.text("SELECT 1"))
        db = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield db
        finally:
            await db.close()
            await outer.rollback()


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    return create_app(SETTINGS, database_url=database_url)


@dataclass
class Api:
    """An httpx client on the app plus sign-in helpers."""

    http: httpx.AsyncClient
    session: AsyncSession

    async def user(self, username: str) -> User:
        user = await self.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None, username
        return user

    async def headers(self, username: str) -> dict[str, str]:
        user = await self.user(username)
        token, _ = security.create_access_token(SETTINGS, str(user.id), version=user.token_version)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(app: FastAPI, session: AsyncSession) -> AsyncIterator[Api]:
    async def _session() -> AsyncSession:
        return session

    async def _hot() -> asyncpg.Connection:
        return await driver(session)  # the test's connection, inside its rolled-back transaction

    writer = IntakeWriter(OneConnection(await driver(session)))  # intake's group commit, in that transaction too

    async def _writer() -> IntakeWriter:
        return writer

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_hot_connection] = _hot
    app.dependency_overrides[get_intake_writer] = _writer
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http=http, session=session)
    app.dependency_overrides.clear()


@dataclass
class Live:
    """An app on a database of its own whose requests really commit (no wrapping transaction):
    for concurrency, background jobs and webhooks."""

    app: FastAPI
    url: str
    http: httpx.AsyncClient

    async def headers(self, username: str) -> dict[str, str]:
        r = await self.http.post("/api/v1/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def seeded_database(pg_server: PgServer, prefix: str) -> tuple[str, str]:
    """A new database of the run's server, migrated and seeded with the demo units and officers: (name, url)."""
    name = await asyncio.to_thread(pg_server.create_database, prefix)
    url = pg_server.url(name)
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as db:
        await seed_demo(db, Passwords(SETTINGS))
    await engine.dispose()
    return name, url


@pytest.fixture(scope="module")
async def live(pg_server: PgServer) -> AsyncIterator[Live]:
    name, url = await seeded_database(pg_server, "tiepdan_live")
    app = create_app(SETTINGS, database_url=url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://live") as http:
        yield Live(app=app, url=url, http=http)
    await app.state.intake_writer.close()
    await app.state.hot_pool.close()
    await app.state.engine.dispose()
    await asyncio.to_thread(pg_server.drop_database, name)
