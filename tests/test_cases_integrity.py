"""Two officers acting at once (exactly one wins) and the tamper-evident event chain."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api.app import create_app
from api.cli import migrate
from api.db import make_engine, make_sessionmaker
from api.models.case import CaseEvent
from api.security import Passwords
from api.seed import seed_demo
from tests.conftest import SETTINGS, Api
from tests.helpers import V1, act, case_body, intake
from tests.pg import PgServer


@pytest.fixture(scope="module")
async def committed_app(pg_server: PgServer) -> AsyncIterator[FastAPI]:
    """An app on its own database whose requests really commit (no wrapping test transaction)."""
    name = await asyncio.to_thread(pg_server.create_database, "tiepdan_live")
    url = pg_server.url(name)
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        await seed_demo(session, Passwords(SETTINGS))
    await engine.dispose()
    app = create_app(SETTINGS, database_url=url)
    yield app
    await app.state.engine.dispose()
    await asyncio.to_thread(pg_server.drop_database, name)


async def _token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post(f"{V1}/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_two_officers_acting_at_once_exactly_one_wins(committed_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=committed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        desk, head = await _token(http, "tinh.tiepdan"), await _token(http, "tinh.chutich")
        for _ in range(5):
            case = (await http.post(f"{V1}/cases", headers=desk, json=case_body())).json()
            url = f"{V1}/cases/{case['id']}/actions"
            results = await asyncio.gather(
                http.post(f"{url}/accept", headers={**head, "If-Match": "1"}, json={"decision_number": "1"}),
                http.post(f"{url}/store", headers={**desk, "If-Match": "1"}, json={"reason_code": "duplicate"}),
            )
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 412], [r.text for r in results]
            final = (await http.get(f"{V1}/cases/{case['id']}", headers=head)).json()
            winner = next(r for r in results if r.status_code == 200).json()
            assert final["status"] == winner["status"] and final["version"] == 2
            events = (await http.get(f"{url[:-8]}/events", headers=head)).json()["items"]
            assert [e["action"] for e in events] == ["create", winner["status"] == "accepted" and "accept" or "store"]


async def test_events_are_hash_chained_and_tampering_is_found(api: Api) -> None:
    case = await intake(api)
    case = await act(api, "tinh.chutich", case, "accept", decision_number="1")
    case = await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])
    h = await api.headers("tinh.chutich")
    report = (await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=h)).json()
    assert report == {"valid": True, "events_checked": 3, "first_tampered_seq": None}
    # The database refuses to change an event …
    with pytest.raises(sa.exc.DBAPIError):
        async with api.session.begin_nested():
            await api.session.execute(sa.update(CaseEvent).where(CaseEvent.case_id == case["id"])
                                      .values(reason="sửa"))
    # … and if someone with superuser rights bypasses the trigger, the chain shows where.
    await api.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await api.session.execute(sa.update(CaseEvent).where(CaseEvent.case_id == case["id"], CaseEvent.seq == 2)
                              .values(payload={"decision_number": "999"}))
    await api.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    report = (await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=h)).json()
    assert report == {"valid": False, "events_checked": 3, "first_tampered_seq": 2}
