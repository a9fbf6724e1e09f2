"""Faults, for real: the API process killed with SIGKILL in the middle of a load of citizen submissions loses no
acknowledged submission and, when the apps retry with their Idempotency-Key, duplicates none; the process that
comes back serves at once."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine, make_sessionmaker
from tests.conftest import SETTINGS, Databases

pytestmark = pytest.mark.slow  # real API processes, kills and load: seconds each

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def api_process(url: str, port: int, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "JOBS_ENABLED": "false",
        "PUBLIC_PER_MINUTE": "100000",
        "PUBLIC_BURST": "100000",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        **extra,
    }
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def _body(n: int) -> dict[str, object]:
    return {
        "kind": "feedback",
        "field": "other",
        "content": f"Phản ánh số {n}: đèn đường ở thôn {n % 17} không sáng.",
        "location": {"commune_code": "04465"},
        "consent": False,
    }


async def test_sigkill_during_submissions_loses_and_duplicates_nothing(databases: Databases) -> None:
    name, url = await databases.seeded("tiepdan_crash")
    try:
        port = _port()
        total = 120
        acknowledged: dict[int, str] = {}
        mid_load = asyncio.Event()

        async def send(client: httpx.AsyncClient, n: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                r = await client.post(
                    "/api/v1/public/submissions",
                    json=_body(n),
                    headers={"Idempotency-Key": f"crash-{n}", "X-Device-Id": f"dev-{n % 7}"},
                )
                if r.status_code == 201:
                    acknowledged[n] = r.json()["tracking_code"]
                    if len(acknowledged) >= 15:
                        mid_load.set()

        with api_process(url, port) as proc:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                tasks = [asyncio.create_task(send(client, n)) for n in range(total)]
                await asyncio.wait_for(mid_load.wait(), timeout=60)  # in the middle of the load
                os.kill(proc.pid, signal.SIGKILL)
                await asyncio.gather(*tasks)
        before_restart = dict(acknowledged)
        assert 15 <= len(before_restart) < total  # the kill landed mid-load
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        host = dsn.split("host=", 1)[1] if "host=" in dsn else None
        conn = await asyncpg.connect(dsn.split("?")[0], **({"host": host} if host else {}))
        try:
            stored = {r["tracking_code"] for r in await conn.fetch("SELECT tracking_code FROM cases")}
            # Every submission that was answered 201 is there.
            assert set(before_restart.values()) <= stored
            # The apps retry what got no answer, with the same keys: each lands once, the acknowledged ones answer
            # with the case they already made.
            with api_process(url, port):
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                    await asyncio.gather(*(send(client, n) for n in range(total)))
            assert len(acknowledged) == total
            assert all(acknowledged[n] == code for n, code in before_restart.items())
            rows = await conn.fetch("SELECT content, count(*) AS n FROM cases WHERE channel = 'mobile' GROUP BY 1")
            assert len(rows) == total and all(r["n"] == 1 for r in rows)
        finally:
            await conn.close()
    finally:
        await databases.drop(name)


async def test_the_database_going_away_is_503_with_retry_after_and_the_service_recovers(databases: Databases) -> None:
    from api.app import create_app

    pg_server = databases.server
    name, url = await databases.seeded("tiepdan_outage")
    try:
        app = create_app(SETTINGS, database_url=url)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://outage") as http:
            r = await http.post("/api/v1/auth/token", data={"username": "thanhtra", "password": "LaoCai@2026demo"})
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert (await http.get("/api/v1/units", headers=h)).status_code == 200
            # The database goes away: every connection dropped, new ones refused (as during a restart).
            await pg_server._admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await pg_server._admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
            )
            for path in ("/api/v1/units", "/api/v1/cases", "/readyz"):
                down = await asyncio.wait_for(http.get(path, headers=h), timeout=10)  # fails fast, never hangs
                assert down.status_code == 503, (path, down.text)
                if path != "/readyz":
                    assert down.json()["error"]["code"] == "database_unavailable"
                    assert down.headers["Retry-After"] == "5"
            await pg_server._admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            # Back by itself: a few requests may still meet connections the pools have not yet found dead (each
            # answered 503, never hanging); then every request succeeds.
            statuses = []
            for _ in range(20):
                statuses.append((await http.get("/api/v1/units", headers=h)).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.1)
            assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
            assert [(await http.get("/api/v1/units", headers=h)).status_code for _ in range(5)] == [200] * 5
            assert (await http.get("/readyz")).status_code == 200
        await app.state.engine.dispose()
        await app.state.hot_pool.close()
    finally:
        await pg_server._admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await databases.drop(name)


async def _more_rounds_of_each(engine: AsyncEngine, case_id: int, rounds: int) -> None:
    """Wait until each of the two processes of the test below has completed `rounds` more job rounds: a round
    purges (after sweeping and delivering) a marker that only that process's window reaches — a sign-in counter an
    hour old for the first, a case's fingerprint two hours old for the second. A marker set while a round runs may
    go in that round, so `rounds` markers prove `rounds - 1` whole rounds of each."""
    async with engine.begin() as db:
        await db.execute(
            sa.text("UPDATE cases SET created_at = now() - interval '2 hours' WHERE id = :c"), {"c": case_id}
        )
    for n in range(rounds):
        async with engine.begin() as db:
            await db.execute(
                sa.text(
                    "INSERT INTO login_attempts (key, window_start, count) VALUES (:k, now() - interval '1 hour', 1)"
                ),
                {"k": f"round-marker-{n}"},
            )
            await db.execute(
                sa.text("UPDATE cases SET idempotency_fingerprint = :f WHERE id = :c"), {"f": f"m{n}", "c": case_id}
            )
        for _ in range(200):
            async with engine.connect() as db:
                left = await db.scalar(
                    sa.text(
                        "SELECT (SELECT count(*) FROM login_attempts WHERE key = :k)"
                        " + (SELECT count(*) FROM cases WHERE id = :c AND idempotency_fingerprint IS NOT NULL)"
                    ),
                    {"k": f"round-marker-{n}", "c": case_id},
                )
            if left == 0:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"a process completed no job round in 10 s (marker {n})")


async def test_two_api_processes_and_their_jobs_record_and_notify_each_breach_once(databases: Databases) -> None:
    from api.models.cases import CaseEvent
    from tests.helpers import case_body, days_ago
    from tests.test_deadline_engine import Receiver

    name, url = await databases.seeded("tiepdan_twojobs")
    receiver = Receiver(failures=0)
    try:
        engine = make_engine(url)
        # Two processes, each with its background jobs every quarter second, against one database. Their purge
        # windows differ so that a marker row shows a round of each: only the first's jobs purge a sign-in counter
        # an hour old, only the second's clear a fingerprint two hours old.
        jobs = {"JOBS_ENABLED": "true", "JOBS_INTERVAL_SECONDS": "0.25", "WEBHOOK_ALLOW_PRIVATE": "true"}
        first = {**jobs, "LOGIN_WINDOW_MINUTES": "15", "IDEMPOTENCY_HOURS": "1000"}
        second = {**jobs, "LOGIN_WINDOW_MINUTES": "1000", "IDEMPOTENCY_HOURS": "1"}
        ports = [_port(), _port()]
        with api_process(url, ports[0], **first), api_process(url, ports[1], **second):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=10) as http:
                r = await http.post("/api/v1/auth/token", data={"username": "admin", "password": "LaoCai@2026demo"})
                admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
                r = await http.post(
                    "/api/v1/webhooks",
                    headers=admin,
                    json={"name": "Giám sát", "url": receiver.url, "event_types": ["deadline.overdue"]},
                )
                assert r.status_code == 201, r.text
                r = await http.post(
                    "/api/v1/auth/token", data={"username": "xa.tiepdan", "password": "LaoCai@2026demo"}
                )
                desk = {"Authorization": f"Bearer {r.json()['access_token']}"}
                made = []
                for i in range(5):
                    r = await http.post(
                        "/api/v1/cases", headers=desk, json=case_body(received_at=days_ago(40), title=f"Quá hạn {i}")
                    )
                    assert r.status_code == 201, r.text
                    made.append(r.json()["id"])
            # Each case has two overdue timers (processing, acceptance): ten breaches to record and send.
            for _ in range(100):
                if len(receiver.requests) >= 10:
                    break
                await asyncio.sleep(0.1)
            await _more_rounds_of_each(engine, made[0], rounds=3)  # nothing more may come from either
        async with make_sessionmaker(engine)() as db:
            recorded = (
                await db.execute(
                    sa.select(CaseEvent.case_id, CaseEvent.payload["timer"].astext).where(
                        CaseEvent.action == "deadline_overdue", CaseEvent.case_id.in_(made)
                    )
                )
            ).all()
        await engine.dispose()
        assert len(recorded) == len(set(recorded)) == 10
        ids = [headers["X-Tiepdan-Event-Id"] for headers, _ in receiver.requests]
        assert len(ids) == len(set(ids)) == 10  # each notified exactly once
    finally:
        receiver.close()
        await databases.drop(name)
