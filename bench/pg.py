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
from collections.abc import AsyncIterator
from pathlib import Path

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
