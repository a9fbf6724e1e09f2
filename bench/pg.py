"""The database of one benchmark run: a new database on BENCH_DATABASE_URL's server (e.g.
postgresql://postgres@127.0.0.1:5432/postgres) or, when unset, on the service's own embedded PostgreSQL
(api/embedded.py) in a temporary folder; migrated, seeded with the demo units and officers, and gone afterwards.
The benchmarks need nothing of the test suite (whose server is tests/pg.py)."""

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg

from api import embedded
from api.cli import migrate
from api.db import make_engine, make_sessionmaker, normalize_url
from api.security import Passwords
from api.seed import seed_demo
from api.settings import Settings
from bench.data import connector


async def _on_server(server_url: str, sql: str) -> None:
    conn = await connector(server_url)()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def seeded_database(settings: Settings) -> AsyncIterator[str]:
    """A fresh database, migrated and seeded (the officers' passwords hashed as `settings` says); its URL."""
    name = f"tiepdan_bench_{uuid.uuid4().hex[:10]}"
    given = os.environ.get("BENCH_DATABASE_URL")
    server, folder = (normalize_url(given), None) if given else ("", Path(tempfile.mkdtemp(prefix="tiepdan-bench-")))
    if folder is None:
        await _on_server(server, f'CREATE DATABASE "{name}"')
        head, _, query = server.partition("?")
        url = f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    else:
        url = await asyncio.to_thread(embedded.start, folder / "pgdata", name)
    try:
        await asyncio.to_thread(migrate, url)
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                await seed_demo(session, Passwords(settings))
        finally:
            await engine.dispose()
        yield url
    finally:
        if folder is None:
            await _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            embedded.stop()
            shutil.rmtree(folder, ignore_errors=True)


async def kept_database(
    name: str, settings: Settings, fill: Callable[[asyncpg.Connection, str], Awaitable[None]]
) -> str:
    """The database `name` on BENCH_DATABASE_URL's server, kept between runs: made, migrated, seeded (the officers'
    passwords hashed as `settings` says) and filled by `fill(connection, url)` the first time; afterwards only
    migrated to head (a new migration's indexes and triggers are built on the data). Its URL."""
    server_url = normalize_url(os.environ["BENCH_DATABASE_URL"])
    head, _, query = server_url.partition("?")
    url = f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    admin = await connector(server_url)()
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(migrate, url)
    conn = await connector(url)()
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cases)"):
            engine = make_engine(url)
            try:
                async with make_sessionmaker(engine)() as session:
                    await seed_demo(session, Passwords(settings))
            finally:
                await engine.dispose()
            await fill(conn, url)
    finally:
        await conn.close()
    return url
