"""Two officers acting at once (exactly one wins) and the tamper-evident event chain."""

import asyncio

import pytest
import sqlalchemy as sa

from api.models.cases import CaseEvent
from tests.conftest import Api, Live
from tests.helpers import V1, act, case_body, intake


async def test_two_officers_acting_at_once_exactly_one_wins(live: Live) -> None:
    http = live.http
    desk, head = await live.headers("tinh.tiepdan"), await live.headers("tinh.chutich")
    for _ in range(5):
        case = (await http.post(f"{V1}/cases", headers=desk, json=case_body())).json()
        url = f"{V1}/cases/{case['id']}"
        results = await asyncio.gather(
            http.post(f"{url}/actions/accept", headers={**head, "If-Match": "1"}, json={"decision_number": "1"}),
            http.post(f"{url}/actions/store", headers={**desk, "If-Match": "1"}, json={"reason_code": "duplicate"}),
        )
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        final = (await http.get(url, headers=head)).json()
        assert final["status"] == winner["status"] and final["version"] == 2
        events = (await http.get(f"{url}/events", headers=head)).json()["items"]
        expected = "accept" if winner["status"] == "accepted" else "store"
        assert [e["action"] for e in events] == ["create", expected]


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
            await api.session.execute(sa.update(CaseEvent).where(CaseEvent.case_id == case["id"]).values(reason="sửa"))
    # … and if someone with superuser rights bypasses the trigger, the chain shows where.
    await api.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await api.session.execute(
        sa.update(CaseEvent)
        .where(CaseEvent.case_id == case["id"], CaseEvent.seq == 2)
        .values(payload={"decision_number": "999"})
    )
    await api.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    report = (await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=h)).json()
    assert report == {"valid": False, "events_checked": 3, "first_tampered_seq": 2}
