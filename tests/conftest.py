"""One PostgreSQL per run and one template database, migrated and seeded once (`template`); the tests' database and
every database a module needs of its own are copies of it (`databases`). Each test runs in a transaction rolled back
after it."""

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


async def _seed(url: str) -> None:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        await seed_demo(session, Passwords(SETTINGS))
    await engine.dispose()


@pytest.fixture(scope="session")
def template(pg_server: PgServer) -> Iterator[str]:
    """The run's one migrated and seeded database (its name), never connected to once made: every other database
    of the run that wants the schema and the demo units and officers is a copy of it (`Databases`), so the run
    migrates and seeds once. The migration tests alone make empty databases (they migrate from old revisions)."""
    name = pg_server.create_database("tiepdan_template")
    url = pg_server.url(name)
    migrate(url)
    asyncio.run(_seed(url))
    pg_server.template = name
    yield name
    pg_server.template = None
    pg_server.drop_database(name)


@dataclass
class Databases:
    """Copies of the template: a database of its own for a module that needs one (a live app, a process, keys)."""

    server: PgServer
    template: str

    def copy(self, prefix: str) -> tuple[str, str]:
        """A new migrated and seeded database: (name, url)."""
        name = self.server.clone_database(self.template, prefix)
        return name, self.server.url(name)

    async def seeded(self, prefix: str) -> tuple[str, str]:
        return await asyncio.to_thread(self.copy, prefix)

    async def drop(self, name: str) -> None:
        await asyncio.to_thread(self.server.drop_database, name)


@pytest.fixture(scope="session")
def databases(pg_server: PgServer, template: str) -> Databases:
    return Databases(pg_server, template)


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> Iterator[str]:
    """The database the per-test transactions (`session`, `api`) run in."""
    name, url = databases.copy("tiepdan_test")
    yield url
    databases.server.drop_database(name)


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
    """For a module written before the `databases` fixture (take that instead): a copy of the run's template once it
    is made, else a database migrated and seeded here."""
    if pg_server.template is not None:
        name = await asyncio.to_thread(pg_server.clone_database, pg_server.template, prefix)
        return name, pg_server.url(name)
    name = await asyncio.to_thread(pg_server.create_database, prefix)
    await asyncio.to_thread(migrate, pg_server.url(name))
    await _seed(pg_server.url(name))
    return name, pg_server.url(name)


@pytest.fixture(scope="module")
async def live(databases: Databases) -> AsyncIterator[Live]:
    name, url = await databases.seeded("tiepdan_live")
    app = create_app(SETTINGS, database_url=url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://live") as http:
        yield Live(app=app, url=url, http=http)
    await app.state.intake_writer.close()
    await app.state.hot_pool.close()
    await app.state.engine.dispose()
    await databases.drop(name)
