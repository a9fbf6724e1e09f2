"""The statistics' cache (api/services/stats/cache.py, migration 0030): a form of a period whose cut-off has passed
is served from the cache while the data it counts are unchanged — by this API process or by another one on the same
database — and computed afresh after any change to a source it counts: a case (its counted columns), an urging
notice, an officer's unit, a unit, the register, the sittings, a rating (the summary), the calendar. Each source
is changed here in a committed transaction of its own, as the service or an operator would."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api.app import create_app
from api.db import make_engine, make_sessionmaker
from api.services.stats import cache, oversight
from api.services.stats.counts import QUERIES
from bench.data import connector
from tests.conftest import SETTINGS, seeded_database
from tests.helpers import V1, case_body
from tests.pg import PgServer

MAY = "2026-05"  # a month long over: its forms are kept
FORMS = ("tcd", "xld", "gqkn", "gqtc", "kqth")


def _tables(sql: str) -> set[str]:
    return set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", sql, flags=re.IGNORECASE)) - {"unnest"}


def test_every_table_a_form_or_the_summary_reads_is_a_source_of_its_key() -> None:
    """The proof's first half: an answer's key holds the version of every table its SQL reads."""
    reads = {code: set().union(*(_tables(sql) for sql in sqls)) for code, sqls in QUERIES.items()}
    reads["summary"] = set().union(*(_tables(sql) for sql in oversight.SUMMARY_SQL))
    for answer, tables in reads.items():
        counted = {cache.TABLES[s] for s in cache.SOURCES[answer]}
        assert tables, answer
        assert tables <= counted, (answer, tables - counted)
        assert "units" in counted  # the scope and the rows' names
    assert reads["xld"] >= {"case_facts", "case_events", "users"} and reads["tcd"] >= {"reception_entries"}


@dataclass
class Two:
    """Two API processes on one database (each its own pools and cache layer), and an owner connection."""

    first: httpx.AsyncClient
    second: httpx.AsyncClient
    apps: tuple[FastAPI, FastAPI]
    db: asyncpg.Connection
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def two(pg_server: PgServer) -> AsyncIterator[Two]:
    name, url = await seeded_database(pg_server, "tiepdan_stats_cache")
    apps = (create_app(SETTINGS, database_url=url), create_app(SETTINGS, database_url=url))
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://stats") for a in apps]
    r = await clients[0].post(f"{V1}/auth/token", data={"username": "thanhtra", "password": "LaoCai@2026demo"})
    assert r.status_code == 200, r.text
    db = await connector(url)()
    yield Two(clients[0], clients[1], apps, db, url, {"Authorization": f"Bearer {r.json()['access_token']}"})
    await db.close()
    for client, app in zip(clients, apps, strict=True):
        await client.aclose()
        await app.state.intake_writer.close()
        await app.state.hot_pool.close()
        await app.state.engine.dispose()
    await asyncio.to_thread(pg_server.drop_database, name)


async def _get(http: httpx.AsyncClient, two: Two, form: str, **params: Any) -> dict[str, Any]:
    r = await http.get(f"{V1}/stats/forms/{form}", headers=two.headers, params={"period": MAY, **params})
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


async def _summary(http: httpx.AsyncClient, two: Two) -> dict[str, Any]:
    r = await http.get(f"{V1}/stats/summary", headers=two.headers, params={"period": MAY})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _made(two: Two) -> dict[str, str]:
    """When each form of May was made, as the first process answers it now."""
    return {f: (await _get(two.first, two, f))["generated_at"] for f in FORMS}


async def test_a_kept_form_is_served_by_every_process_until_what_it_counts_changes(two: Two) -> None:
    first = await _get(two.first, two, "xld")
    assert first["generated_at"].endswith("+07:00")  # Lào Cai's time
    again = await _get(two.first, two, "xld")
    assert again == first  # the same answer: kept, not made again
    other = await _get(two.second, two, "xld")
    assert other == first  # another process finds it in PostgreSQL
    rows = await two.db.fetchval("SELECT count(*) FROM stats_cache WHERE key LIKE 'form:xld:2026-05:%'")
    assert rows == 1
    # Every format is written from the kept document: the same time of making in the PDF's text and the CSV.
    csv = await two.second.get(f"{V1}/stats/forms/xld", headers=two.headers, params={"period": MAY, "format": "csv"})
    assert csv.status_code == 200 and "lập lúc" in csv.text


async def test_each_source_of_change_makes_its_forms_anew_and_only_those(two: Two) -> None:
    before = await _made(two)
    assert before == await _made(two)

    async def changed(*forms: str) -> dict[str, str]:
        nonlocal before
        now = await _made(two)
        moved = {f for f in FORMS if now[f] != before[f]}
        assert moved == set(forms), (moved, forms)
        before = now
        return now

    # A case, through the service: a letter received in May, at the province's desk.
    desk = await two.first.post(f"{V1}/auth/token", data={"username": "tinh.tiepdan", "password": "LaoCai@2026demo"})
    token = {"Authorization": f"Bearer {desk.json()['access_token']}"}
    xld = await _get(two.first, two, "xld")
    r = await two.first.post(f"{V1}/cases", headers=token, json=case_body(received_at="2026-05-20"))
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    await changed("xld", "gqkn", "gqtc", "kqth")
    total = next(row for row in (await _get(two.first, two, "xld"))["rows"] if row["type"] == "total")
    old_total = next(row for row in xld["rows"] if row["type"] == "total")
    assert total["values"]["received"] == old_total["values"]["received"] + 1  # the new letter counted at once

    # An urging notice (02/XLD counts them for the urging officer's unit), through the service: the May letter is
    # overdue by now.
    competent = r.json()["competent_unit_id"]
    urged = await two.first.post(
        f"{V1}/stats/urge", headers=two.headers, json={"unit_id": competent, "case_ids": [case_id]}
    )
    assert urged.status_code == 200, urged.text
    await changed("xld")
    # An officer moved to another unit (an urge counts for its author's unit).
    await two.db.execute("UPDATE users SET unit_id = unit_id WHERE username = 'thanhtra'")
    await changed("xld")
    # A unit renamed: every form names it.
    await two.db.execute("UPDATE units SET name = 'Thanh tra tỉnh Lào Cai (đổi tên)' WHERE code = '15-TTT'")
    await changed(*FORMS)
    assert any(
        row["unit_name"] == "Thanh tra tỉnh Lào Cai (đổi tên)" for row in (await _get(two.first, two, "tcd"))["rows"]
    )
    # The register and the sittings (01/TCD).
    unit, admin = await two.db.fetchrow(
        "SELECT u.id, a.id FROM units u, users a WHERE u.code = '15-TTT' AND a.username = 'admin'"
    )
    session_id = await two.db.fetchval(
        "INSERT INTO reception_sessions (unit_id, kind, mode, in_person, status, starts_at, ends_at, day, location, "
        "created_by_id) VALUES ($1, 'periodic', 'direct', true, 'held', '2026-05-12 08:00+07', '2026-05-12 10:00+07', "
        "'2026-05-12', 'Hội trường', $2) RETURNING id",
        unit,
        admin,
    )
    await changed("tcd")
    await two.db.execute(
        "INSERT INTO reception_entries (session_id, unit_id, year, serial, received_on, kind, content, people_count, "
        "is_group, handling, visit, created_by_id) VALUES ($1, $2, 2026, 9001, '2026-05-12', 'complaint', 'x', 3, "
        "false, 'explained', 'first', $3)",
        session_id,
        unit,
        admin,
    )
    await changed("tcd")
    tcd_row = next(r for r in (await _get(two.first, two, "tcd"))["rows"] if r["unit_id"] == unit)
    assert tcd_row["values"]["head_sessions"] == 1 and tcd_row["values"]["head_people"] == 3
    # The calendar: every form.
    await two.db.execute("INSERT INTO calendar_overrides (day, kind, reason) VALUES ('2026-05-15', 'day_off', 'Bão')")
    await changed(*FORMS)
    # A case's counted column changed by hand (an operator's correction): the forms that count cases.
    await two.db.execute("UPDATE cases SET received_at = '2026-05-21' WHERE id = $1", case_id)
    await changed("xld", "gqkn", "gqtc", "kqth")
    # A change to what no form counts (a case's title) keeps them all.
    await two.db.execute("UPDATE cases SET title = title || '.' WHERE id = $1", case_id)
    await changed()

    # The summary: a citizen's rating changes it, the register does not.
    summary = await _summary(two.first, two)
    assert summary == await _summary(two.second, two)
    await two.db.execute("INSERT INTO case_ratings (case_id, score, rated_on) VALUES ($1, 5, '2026-05-25')", case_id)
    rated = await _summary(two.second, two)
    assert rated["satisfaction"]["ratings"] == summary["satisfaction"]["ratings"] + 1


async def test_a_running_period_is_not_kept(two: Two) -> None:
    running = date.today().strftime("%Y-%m")
    first = await _get(two.first, two, "gqkn", period=running)
    second = await _get(two.first, two, "gqkn", period=running)
    assert first["generated_at"] != second["generated_at"]
    assert not await two.db.fetchval("SELECT count(*) FROM stats_cache WHERE key LIKE $1", f"form:gqkn:{running}:%")


async def test_nothing_is_kept_from_a_transaction_that_wrote_or_while_the_data_moved(two: Two) -> None:
    """The proof's second half: only committed data, and only when no change committed while computing."""
    engine = make_engine(two.url)
    try:
        async with make_sessionmaker(engine)() as session:
            await session.execute(sa.text("UPDATE units SET name = name WHERE code = '15'"))  # uncommitted write

            async def compute() -> bytes:
                return b"figures"

            assert await cache.answer(session, "test:dirty", ("units",), compute) == b"figures"
            await session.rollback()
        async with make_sessionmaker(engine)() as session:

            async def moving() -> bytes:  # a change to the source commits while the figures are computed
                await two.db.execute("UPDATE units SET name = name WHERE code = '15'")
                return b"figures"

            assert await cache.answer(session, "test:moving", ("units",), moving) == b"figures"
            assert await cache.answer(session, "test:still", ("units",), compute) == b"figures"
    finally:
        await engine.dispose()
    kept = {r["key"] for r in await two.db.fetch("SELECT key FROM stats_cache WHERE key LIKE 'test:%'")}
    assert kept == {"test:still"}


async def test_a_version_is_raised_once_per_transaction_in_the_writers_slot(two: Two) -> None:
    before = await two.db.fetchval("SELECT sum(version) FROM stats_data_versions WHERE source = 'units'")
    async with two.db.transaction():
        for _ in range(5):
            await two.db.execute("UPDATE units SET name = name WHERE code = '15'")
    after = await two.db.fetchval("SELECT sum(version) FROM stats_data_versions WHERE source = 'units'")
    assert after == before + 1
    # A change rolled back leaves the version as it was.
    tx = two.db.transaction()
    await tx.start()
    await two.db.execute("UPDATE units SET name = name WHERE code = '15'")
    await tx.rollback()
    assert await two.db.fetchval("SELECT sum(version) FROM stats_data_versions WHERE source = 'units'") == after


async def test_the_dashboards_reception_compliance_is_kept_until_a_sitting_changes(two: Two) -> None:
    from api.auth import Officer
    from api.services import reception
    from workflows import periods

    row = await two.db.fetchrow(
        "SELECT u.id, u.unit_id, n.path, u.roles FROM users u JOIN units n ON n.id = u.unit_id "
        "WHERE u.username = 'thanhtra'"
    )
    who = Officer(row["id"], "thanhtra", row["unit_id"], row["path"], False, frozenset(row["roles"]))
    period, today = periods.parse("2026"), date(2026, 12, 6)
    engine = make_engine(two.url)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as s:
            kept = await oversight.compliance(s, who, period, unit_id=None, today=today)
        async with maker() as s:
            direct, _ = await reception.compliance(s, who, period, unit_id=None, today=today, limit=10_000, cursor=None)

        def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    **r,
                    "months": [dict(vars(m)) if not hasattr(m, "model_dump") else m.model_dump() for m in r["months"]],
                }
                for r in rows
            ]

        assert plain(kept) == plain(direct) and kept  # the same rows as counted directly
        assert await two.db.fetchval("SELECT count(*) FROM stats_cache WHERE key LIKE 'compliance:2026:%'") == 1
        async with maker() as s:
            assert plain(await oversight.compliance(s, who, period, unit_id=None, today=today)) == plain(kept)
        commune, admin = await two.db.fetchrow(
            "SELECT u.id, a.id FROM units u, users a WHERE u.code = '04465' AND a.username = 'admin'"
        )
        await two.db.execute(
            "INSERT INTO reception_sessions (unit_id, kind, mode, in_person, status, starts_at, ends_at, day, "
            "location, created_by_id) VALUES ($1, 'periodic', 'direct', true, 'held', '2026-11-10 08:00+07', "
            "'2026-11-10 10:00+07', '2026-11-10', 'Hội trường', $2)",
            commune,
            admin,
        )
        async with maker() as s:
            after = await oversight.compliance(s, who, period, unit_id=None, today=today)
        before_days = next(r["in_person_days"] for r in kept if r["unit_id"] == commune)
        assert next(r["in_person_days"] for r in after if r["unit_id"] == commune) == before_days + 1
    finally:
        await engine.dispose()
