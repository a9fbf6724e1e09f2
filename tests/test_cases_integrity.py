"""Two officers acting at once (exactly one wins) and the tamper-evident event chain."""

import asyncio

import pytest
import sqlalchemy as sa

from api.models.cases import CaseEvent
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, case_body, intake


async def test_two_officers_acting_at_once_exactly_one_wins(live: Live) -> None:
    http = live.http
    desk, head = await live.headers("tinh.tiepdan"), await live.headers("tinh.chutich")
    for _ in range(5):
        case = (await http.post(f"{V1}/cases", headers=desk, json=case_body())).json()
        url = f"{V1}/cases/{case['id']}"
        results = await asyncio.gather(
            http.post(
                f"{url}/actions/accept",
                headers={**head, "If-Match": "1"},
                json={"decision_number": "1", "effective_date": case["received_at"]},  # LKN art. 27
            ),
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
    await api.session.execute(sa.text("SET LOCAL ROLE NONE"))  # the test's login is a superuser
    await api.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await api.session.execute(
        sa.update(CaseEvent)
        .where(CaseEvent.case_id == case["id"], CaseEvent.seq == 2)
        .values(payload={"decision_number": "999"})
    )
    await api.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    await api.session.execute(sa.text(f"SET LOCAL ROLE {SETTINGS.db_app_role}"))
    report = (await api.http.get(f"{V1}/cases/{case['id']}/events/verify", headers=h)).json()
    assert report == {
        "valid": False,
        "events_checked": 3,
        "first_tampered_seq": 2,
        "problems": ["chain or anchor does not hold"],
    }


async def _superuser(api: Api, sql: str, **params: object) -> None:
    """What a database superuser can do behind the service's back: bypass the append-only trigger."""
    await api.session.execute(sa.text("SET LOCAL ROLE NONE"))  # the test's login is a superuser
    await api.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await api.session.execute(sa.text(sql), params)
    await api.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
    await api.session.execute(sa.text(f"SET LOCAL ROLE {SETTINGS.db_app_role}"))


async def _verify(api: Api, case_id: int, *, problems: bool = False) -> dict[str, object]:
    """The case's verification report (without the list of problems unless asked for)."""
    h = await api.headers("tinh.chutich")
    r = await api.http.get(f"{V1}/cases/{case_id}/events/verify", headers=h)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    if not problems:
        body.pop("problems", None)
    return body


async def _three_events(api: Api) -> dict[str, object]:
    case = await intake(api)
    case = await act(api, "tinh.chutich", case, "accept", decision_number="1")
    return await act(api, "tinh.chutich", case, "assign", handler_ids=[(await api.user("tinh.xacminh")).id])


async def test_deleting_the_last_events_is_seen_against_the_case_anchor(api: Api) -> None:
    case = await _three_events(api)
    anchor = await api.session.execute(sa.text("SELECT event_count FROM cases WHERE id = :id"), {"id": case["id"]})
    assert anchor.scalar() == 3  # kept by the trigger in the transaction of each event
    await _superuser(api, "DELETE FROM case_events WHERE case_id = :id AND seq = 3", id=case["id"])
    assert await _verify(api, int(case["id"])) == {"valid": False, "events_checked": 2, "first_tampered_seq": 3}
    await _superuser(api, "DELETE FROM case_events WHERE case_id = :id", id=case["id"])
    assert await _verify(api, int(case["id"])) == {"valid": False, "events_checked": 0, "first_tampered_seq": 1}


async def test_a_chain_recomputed_with_the_public_algorithm_does_not_verify(api: Api) -> None:
    """Without the chain key (not in the database) an edited chain cannot be re-hashed into a valid one."""
    import hashlib
    import json

    case = await _three_events(api)
    rows = (
        (await api.session.execute(sa.select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.seq)))
        .scalars()
        .all()
    )
    prev = "0" * 64
    for event in rows:
        body = {
            "case_id": event.case_id,
            "seq": event.seq,
            "at": event.at.isoformat(),
            "actor_id": event.actor_id,
            "action": event.action,
            "from": event.from_status,
            "to": event.to_status,
            "effective_date": event.effective_date.isoformat() if event.effective_date else None,
            "reason": "sửa lại" if event.seq == 2 else event.reason,
            "payload": event.payload,
        }
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256((prev + canonical).encode()).hexdigest()
        await _superuser(
            api,
            "UPDATE case_events SET reason = :reason, prev_hash = :prev, hash = :hash WHERE id = :id",
            reason=body["reason"],
            prev=prev,
            hash=digest,
            id=event.id,
        )
        prev = digest
    await _superuser(api, "UPDATE cases SET event_head = :h WHERE id = :id", h=prev, id=case["id"])
    api.session.expunge_all()
    assert await _verify(api, int(case["id"])) == {"valid": False, "events_checked": 3, "first_tampered_seq": 1}


async def test_full_verify_with_a_signed_checkpoint_finds_a_case_deleted_whole(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api.services import checkpoints

    kept, removed = await _three_events(api), await _three_events(api)
    path = tmp_path / "heads.txt"
    made = await checkpoints.make(api.session, path)
    assert made.cases >= 2 and made.events >= 6
    header, heads = checkpoints.read_checkpoint(path)
    assert heads[int(kept["id"])][0] == 3 and header["signature"] == made.signature
    report = await checkpoints.verify_all(api.session, heads)
    assert report.valid, report.problems
    # A superuser removes one case with everything about it, anchors and all.
    for table in ("case_events", "case_assignments", "case_parties", "outbox_events"):
        await _superuser(api, f"DELETE FROM {table} WHERE case_id = :id", id=removed["id"])  # noqa: S608
    await _superuser(api, "DELETE FROM cases WHERE id = :id", id=removed["id"])
    api.session.expunge_all()
    report = await checkpoints.verify_all(api.session, heads)
    assert [(p.case_id, p.why) for p in report.problems][:1] == [
        (int(removed["id"]), "in the checkpoint but no longer in the database")
    ]
    # and the database's own checkpoint recorded more cases and events than remain
    assert [p.checkpoint for p in report.problems[1:]] == [made.seq] and "deleted" in report.problems[1].why
    # An altered checkpoint file (the removed case taken out of it) no longer carries a valid signature.
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in text if not line.startswith(f"{removed['id']}:")))
    with pytest.raises(ValueError, match="not signed"):
        checkpoints.read_checkpoint(path)


async def test_checkpoints_are_listed_for_the_inspectorate_and_made_by_admins(api: Api) -> None:
    await _three_events(api)
    admin, inspector = await api.headers("admin"), await api.headers("thanhtra")
    r = await api.http.post(f"{V1}/integrity/checkpoints", headers=inspector)
    assert r.status_code == 403
    r = await api.http.post(f"{V1}/integrity/checkpoints", headers=admin)
    assert r.status_code == 201, r.text
    listed = (await api.http.get(f"{V1}/integrity/checkpoints", headers=inspector)).json()
    assert listed["items"][0]["id"] == r.json()["id"] and listed["items"][0]["cases"] >= 1


@pytest.mark.parametrize(
    "attack",
    [
        "SET session_replication_role = replica",
        "ALTER TABLE case_events DISABLE TRIGGER USER",
        "TRUNCATE case_events CASCADE",
        "DELETE FROM case_events",
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM chain_checkpoints",
        "DROP TRIGGER case_events_anchor ON case_events",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
async def test_the_service_role_cannot_rewrite_the_record(api: Api, attack: str) -> None:
    """The service connects as an application role that owns nothing: even an injected statement could not
    switch off the append-only triggers, truncate, or edit the records."""
    await _three_events(api)
    assert await api.session.scalar(sa.text("SELECT current_user")) == SETTINGS.db_app_role
    with pytest.raises(sa.exc.DBAPIError, match="permission denied|must be owner|append-only"):
        async with api.session.begin_nested():
            await api.session.execute(sa.text(attack))


async def test_the_app_works_as_the_application_role(live: Live) -> None:
    """Through the real pools (no test override): every connection is in the application role."""
    pools = live.app.state
    async with pools.engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT current_user")) == SETTINGS.db_app_role
    hot = await pools.hot_pool.acquire()
    try:
        assert await hot.fetchval("SELECT current_user") == SETTINGS.db_app_role
        assert await hot.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
    finally:
        await pools.hot_pool.release(hot)
