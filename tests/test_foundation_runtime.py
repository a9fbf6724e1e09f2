"""Structured request logs and the embedded PostgreSQL's lifecycle."""

import asyncio
import json
import logging
import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest

from api import embedded, logs
from tests.conftest import Api


async def test_request_logs_are_json_lines_with_request_id_and_no_query(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO")
        h = await api.headers("tinh.tiepdan")
        unit_id = (await api.user("tinh.tiepdan")).unit_id
        await api.http.get("/api/v1/units", headers={**h, "X-Request-ID": "req-42"}, params={"q": "Nguyễn Văn An"})
        await api.http.get(f"/api/v1/units/{unit_id}", headers=h)
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        root.handlers, root.level = saved
    access = [line for line in lines if line.get("logger") == "api.access"]
    assert access, lines
    entry = access[-2]
    assert entry["request_id"] == "req-42" and entry["status"] == 200 and entry["method"] == "GET"
    assert entry["path"] == "/api/v1/units" and "duration_ms" in entry
    assert access[-1]["path"] == "/api/v1/units/{unit_id}"
    assert "Nguyễn" not in json.dumps(lines, ensure_ascii=False)


def test_embedded_server_keeps_data_across_restarts_and_stops() -> None:
    folder = Path(tempfile.mkdtemp(prefix="tiepdan-embedded-"))

    async def run(sql: str, url: str) -> object:
        raw = url.replace("postgresql+asyncpg://", "postgresql://")
        dsn, _, query = raw.partition("?")
        conn = await asyncpg.connect(dsn, host=query.split("host=", 1)[1])
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    url = embedded.start(folder / "pgdata", "persist_check")
    asyncio.run(run("CREATE TABLE kept AS SELECT 'còn đây'::text AS v", url))
    embedded.stop()
    assert not (folder / "pgdata" / "postmaster.pid").exists()  # stopped cleanly
    url = embedded.start(folder / "pgdata", "persist_check")
    try:
        assert asyncio.run(run("SELECT v FROM kept", url)) == "còn đây"
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)
