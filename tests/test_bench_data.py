"""The benchmark data generator (bench/data.py): the data every figure in bench/RESULTS.md is measured on must be
data the service itself would accept as its own — chains that verify, sealed identities that open under the
service's keys, milestones consistent with each status — and the same seed must give the same data whatever the
number of connections that load it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from api import clock
from api.app import create_app
from bench.data import connector, fill_cases, fill_reception
from tests.conftest import SETTINGS, Databases
from workflows.confidentiality import MASK

CASES = 3000
FINGERPRINT = """
SELECT md5(string_agg(concat_ws('|', id, kind, field, channel, title, content, received_at, competent_unit_id, status,
       timers, next_due_date, processed_on, processed_as, settled_on, outcome, resolution_late, remedies,
       enforced_on, repeat_of_case_id, event_count, event_head), ',' ORDER BY id)) FROM cases
WHERE tracking_code LIKE 'B%'
"""


EVENTS = """
SELECT md5(string_agg(hash, ',' ORDER BY case_id, seq)) FROM case_events
WHERE case_id IN (SELECT id FROM cases WHERE tracking_code LIKE 'B%')
"""


@dataclass
class Generated:
    url: str
    fingerprints: tuple[str, str]  # taken before any test reads it (a read of a sealed identity adds an event)


async def _generated(databases: Databases, *, parallel: bool) -> Generated:
    _, url = await databases.seeded("tiepdan_gen")
    connect = connector(url)
    conn = await connect()
    try:
        await fill_cases(
            conn,
            CASES,
            communes=5,
            today=clock.today(),
            progress=False,
            settings=SETTINGS,
            connect=connect if parallel else None,
            chunk=500,  # several chunks, shared between the connections
        )
        await fill_reception(conn, 500, today=clock.today(), progress=False)
        fingerprints = (await conn.fetchval(FINGERPRINT), await conn.fetchval(EVENTS))
    finally:
        await conn.close()
    return Generated(url, fingerprints)


@pytest.fixture(scope="module")
async def generated(databases: Databases) -> AsyncIterator[Generated]:
    generated = await _generated(databases, parallel=True)
    yield generated
    await databases.drop(_name(generated.url))


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await connector(url)()
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_every_status_with_consistent_milestones(generated: Generated) -> None:
    rows = await _fetch(
        generated.url,
        "SELECT status, count(*) AS n, "
        "count(*) FILTER (WHERE processed_on < received_at OR settled_on < processed_on "
        "  OR enforced_on < settled_on "
        "  OR greatest(received_at, processed_on, settled_on, enforced_on) > CURRENT_DATE + 1"
        ") AS bad_dates, "
        "count(*) FILTER (WHERE jsonb_array_length(timers) = 0) AS untimed, "
        "count(*) FILTER (WHERE status_before_suspension IS NOT NULL) AS suspended_from, "
        "count(*) FILTER (WHERE outcome IS NOT NULL) AS decided, "
        "count(*) FILTER (WHERE event_count < 1 OR event_head IS NULL) AS unanchored "
        "FROM cases GROUP BY status",
    )
    by = {r["status"]: r for r in rows}
    assert set(by) == {
        "received", "accepted", "in_progress", "suspended", "resolved", "closed", "terminated", "guided",
        "transferred", "stored", "rejected",
    }  # fmt: skip
    assert sum(r["n"] for r in rows) == CASES
    assert all(r["bad_dates"] == 0 and r["unanchored"] == 0 for r in rows)
    for status in ("received", "accepted", "in_progress", "suspended"):  # open: their statutory timers run (or pause)
        assert by[status]["untimed"] == 0
    assert by["suspended"]["suspended_from"] == by["suspended"]["n"]
    assert by["closed"]["decided"] == by["closed"]["n"] and by["stored"]["decided"] == 0
    counts = (
        await _fetch(
            generated.url,
            "SELECT (SELECT count(*) FROM case_facts) AS facts, (SELECT count(*) FROM case_parties) AS parties, "
            "(SELECT count(*) FROM case_events) AS events, (SELECT sum(event_count) FROM cases) AS anchored, "
            "(SELECT count(*) FROM reception_entries) AS entries",
        )
    )[0]
    assert counts["facts"] == CASES and counts["parties"] >= CASES and counts["entries"] == 500
    assert counts["events"] == counts["anchored"]


async def test_the_service_verifies_the_chains_and_opens_the_identities(generated: Generated) -> None:
    sample = await _fetch(
        generated.url,
        "SELECT DISTINCT ON (status) id, status FROM cases ORDER BY status, id",
    )
    denunciation = (
        await _fetch(
            generated.url,
            "SELECT c.id FROM cases c JOIN units u ON u.id = c.competent_unit_id "
            "WHERE c.kind = 'denunciation' AND c.status IN ('accepted', 'in_progress') AND u.code = '04465' "
            "ORDER BY c.id LIMIT 1",
        )
    )[0]["id"]
    app = create_app(SETTINGS, database_url=generated.url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gen") as http,
    ):

        async def headers(username: str) -> dict[str, str]:
            r = await http.post("/api/v1/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        inspector = await headers("thanhtra")
        for row in sample:
            r = await http.get(f"/api/v1/cases/{row['id']}/events/verify", headers=inspector)
            assert r.status_code == 200 and r.json()["valid"], (row["status"], r.text)
            assert r.json()["events_checked"] >= 1
        # The head of the commune holding the denunciation sees the denouncer (the sealed identity opened under
        # the service's keys); the inspector sees the mask.
        head = await http.get(f"/api/v1/cases/{denunciation}", headers=await headers("xa.chutich"))
        assert head.status_code == 200, head.text
        denouncer = next(p for p in head.json()["parties"] if p["role"] == "denouncer")
        assert denouncer["full_name"] not in ("", MASK) and denouncer["id_number"]
        masked = await http.get(f"/api/v1/cases/{denunciation}", headers=inspector)
        assert next(p for p in masked.json()["parties"] if p["role"] == "denouncer")["full_name"] == MASK
        # Accent-insensitive search finds the generated Vietnamese text.
        found = await http.get("/api/v1/cases", params={"q": "dat dai", "limit": 5}, headers=inspector)
        assert found.status_code == 200 and found.json()["items"], found.text
    await app.state.engine.dispose()


async def test_the_same_seed_gives_the_same_data_on_one_or_several_connections(
    generated: Generated, databases: Databases
) -> None:
    again = await _generated(databases, parallel=False)
    await databases.drop(_name(again.url))
    assert again.fingerprints == generated.fingerprints
    assert None not in again.fingerprints
