"""Calendar overrides, the breach sweep (exactly once with two runners), escalation, the urgent lists,
notices, and webhook delivery to a real local receiver that fails at first and later recovers."""

import asyncio
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa

from api import clock
from api.db import make_engine, make_sessionmaker
from api.models.cases import CaseEvent
from api.models.webhooks import OutboxEvent, WebhookDelivery
from api.services import deadlines, webhooks
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, act, case_body, days_ago, intake, timer

TODAY = clock.today()


async def test_calendar_year_lists_tet_and_the_working_saturday(api: Api) -> None:
    body = (await api.http.get(f"{V1}/calendar/2026", headers=await api.headers("tinh.tiepdan"))).json()
    days_off = {d["date"] for d in body["days_off"]}
    assert {
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",
    } <= days_off
    assert [d["date"] for d in body["working_days"]] == ["2026-08-22"]
    assert (await api.http.get(f"{V1}/calendar/1800", headers=await api.headers("tinh.tiepdan"))).status_code == 422


async def test_an_override_recomputes_running_deadlines_and_says_why(api: Api) -> None:
    h = await api.headers("admin")
    case = await intake(api, kind="denunciation", received_at=days_ago(1))
    acceptance = timer(case, "acceptance")
    due = datetime.fromisoformat(acceptance["due_date"]).date()
    extra = due - timedelta(days=1)
    while extra.weekday() >= 5:
        extra -= timedelta(days=1)
    r = await api.http.post(
        f"{V1}/calendar/overrides",
        headers=h,
        json={"date": extra.isoformat(), "kind": "day_off", "reason": "Nghỉ bù bão lũ"},
    )
    assert r.status_code == 201 and r.json()["cases_recomputed"] >= 1
    moved = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("tinh.chutich"))).json()
    assert timer(moved, "acceptance")["due_date"] > acceptance["due_date"]
    events = await api.http.get(f"{V1}/cases/{case['id']}/events", headers=h | await api.headers("tinh.chutich"))
    last = [e for e in events.json()["items"] if e["action"] == "deadlines_recomputed"][-1]
    assert "Nghỉ bù bão lũ" in last["reason"]
    assert last["payload"]["changes"][0]["timer"] in {"acceptance", "processing"}
    days_off = {d["date"]: d for d in (await api.http.get(f"{V1}/calendar/{extra.year}", headers=h)).json()["days_off"]}
    assert days_off[extra.isoformat()]["source"] == "override"
    r = await api.http.delete(f"{V1}/calendar/overrides/{extra.isoformat()}", headers=h)
    assert r.status_code == 200 and r.json()["cases_recomputed"] >= 1
    back = (await api.http.get(f"{V1}/cases/{case['id']}", headers=await api.headers("tinh.chutich"))).json()
    assert timer(back, "acceptance")["due_date"] == acceptance["due_date"]
    bad = await api.http.post(
        f"{V1}/calendar/overrides", headers=h, json={"date": "2026-13-01", "kind": "day_off", "reason": "x"}
    )
    assert bad.status_code == 422
    r = await api.http.post(
        f"{V1}/calendar/overrides",
        headers=await api.headers("tinh.chutich"),
        json={"date": extra.isoformat(), "kind": "day_off", "reason": "x"},
    )
    assert r.status_code == 403


async def test_overdue_and_due_soon_lists_most_urgent_first(api: Api) -> None:
    h = await api.headers("tinh.chutich")
    older = await intake(api, title="Quá hạn lâu", received_at=days_ago(80))
    newer = await intake(api, title="Quá hạn gần", received_at=days_ago(30))
    items = (await api.http.get(f"{V1}/deadlines/overdue", headers=h)).json()["items"]
    ids = [i["case_id"] for i in items]
    assert ids.index(older["id"]) < ids.index(newer["id"])
    assert all(i["remaining_days"] < 0 for i in items)
    soon = (await api.http.get(f"{V1}/deadlines/due-soon", headers=h)).json()["items"]
    assert older["id"] not in [i["case_id"] for i in soon]
    commune = (await api.http.get(f"{V1}/units", headers=h, params={"q": "Khao Mang"})).json()["items"][0]
    scoped = (await api.http.get(f"{V1}/deadlines/overdue", headers=h, params={"unit_id": commune["id"]})).json()
    assert older["id"] not in [i["case_id"] for i in scoped["items"]]


async def test_notices_complete_notification_timers(api: Api) -> None:
    case = await intake(api, kind="denunciation")
    case = await act(api, "tinh.chutich", case, "accept", decision_number="1/QĐ")
    h = await api.headers("tinh.chutich")
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices",
        headers=h,
        json={"timer": "notify_acceptance", "sent_on": TODAY.isoformat(), "recipients": "2"},
    )
    assert r.status_code == 200 and timer(r.json(), "notify_acceptance")["status"] == "met"
    r = await api.http.post(
        f"{V1}/cases/{case['id']}/notices", headers=h, json={"timer": "notify_acceptance", "sent_on": TODAY.isoformat()}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_such_notice"


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers 503 to the first `failures` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                ok = len(receiver.requests) > receiver.failures
                self.send_response(200 if ok else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.close()


async def _subscribe(live: Live, url: str, types: list[str]) -> dict:
    r = await live.http.post(
        f"{V1}/webhooks",
        headers=await live.headers("admin"),
        json={"name": "Hệ thống giám sát", "url": url, "event_types": types},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_two_sweepers_record_and_notify_each_breach_once(
    live: Live, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "BATCH", 2)  # several batches, two in flight at once in each sweeper
    sub = await _subscribe(live, receiver.url, ["deadline.overdue", "deadline.escalated"])
    desk = await live.headers("xa.tiepdan")
    made = []
    for i in range(6):
        kind = "denunciation" if i % 2 else "complaint"
        r = await live.http.post(
            f"{V1}/cases", headers=desk, json=case_body(kind=kind, received_at=days_ago(40), title=f"Quá hạn {i}")
        )
        if kind == "denunciation":  # accepted, then left unresolved past its period (LTC art. 30, 38)
            r = await live.http.post(
                f"{V1}/cases/{r.json()['id']}/actions/accept",
                headers={**await live.headers("xa.chutich"), "If-Match": str(r.json()["version"])},
                json={"decision_number": f"{i}/QĐ-TLTC", "effective_date": days_ago(38)},
            )
            assert r.status_code == 200, r.text
        made.append(r.json())
    engines = [make_engine(live.url), make_engine(live.url)]
    makers = [make_sessionmaker(e) for e in engines]
    try:
        results = await asyncio.gather(*(deadlines.sweep(m, SETTINGS, TODAY) for m in makers))
        again = await deadlines.sweep(makers[0], SETTINGS, TODAY)
        async with makers[0]() as db:
            breaches = (
                await db.execute(
                    sa.select(CaseEvent.case_id, CaseEvent.payload).where(
                        CaseEvent.action == "deadline_overdue", CaseEvent.case_id.in_([c["id"] for c in made])
                    )
                )
            ).all()
            outbox = (
                await db.scalars(
                    sa.select(OutboxEvent).where(
                        OutboxEvent.event_type == "deadline.overdue", OutboxEvent.case_id.in_([c["id"] for c in made])
                    )
                )
            ).all()
        keys = [(cid, p["timer"]) for cid, p in breaches]
        # Each complaint: processing and acceptance are overdue; each denunciation: its resolution and its acceptance
        # notice. Each is recorded exactly once.
        assert len(keys) == len(set(keys)) == 12
        assert len(outbox) == 12
        assert sum(r.overdue for r in results) == 12 and again.overdue == 0
        # Denunciations unresolved past their period are escalated to the province (the commune's supervising
        # unit), once (LTC art. 38).
        esc = [c for c in made if c["kind"] == "denunciation"]
        head = await live.headers("tinh.chutich")
        for c in esc:
            body = (await live.http.get(f"{V1}/cases/{c['id']}/events", headers=head)).json()["items"]
            assert [e["action"] for e in body].count("escalated") == 1
        overdue = (await live.http.get(f"{V1}/deadlines/overdue", headers=head)).json()["items"]
        escalated = {i["case_id"]: i["escalated_to_unit_id"] for i in overdue}
        province = (await live.http.get(f"{V1}/auth/me", headers=head)).json()["unit_id"]
        assert all(escalated[c["id"]] == province for c in esc)
        # Chains stay valid after the sweep appended to them.
        for c in made:
            report = (await live.http.get(f"{V1}/cases/{c['id']}/events/verify", headers=head)).json()
            assert report["valid"] is True
        # Delivery: two deliverers at once, a receiver that fails twice, then recovers.
        now = datetime.now(UTC)
        async with httpx.AsyncClient(timeout=5) as client:
            for _ in range(6):
                await asyncio.gather(*(webhooks.deliver_due(m, SETTINGS, client, now) for m in makers))
                now += timedelta(hours=7)  # past any backoff
        ids = [h["X-Tiepdan-Event-Id"] for h, _ in receiver.requests]
        delivered_ids = {h["X-Tiepdan-Event-Id"] for h, _ in receiver.requests[receiver.failures :]}
        assert len(delivered_ids) == 12 + len(esc)  # every overdue and escalation event arrived
        assert len(ids) == len(delivered_ids) + receiver.failures  # nothing sent twice once it succeeded
        headers, body = receiver.requests[-1]
        t, v1 = (part.split("=", 1)[1] for part in headers["X-Tiepdan-Signature"].split(","))
        expected = hmac.new(sub["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(v1, expected)
        assert json.loads(body)["id"] == headers["X-Tiepdan-Event-Id"]
        log = (
            await live.http.get(
                f"{V1}/webhooks/{sub['id']}/deliveries", headers=await live.headers("admin"), params={"limit": 100}
            )
        ).json()["items"]
        assert {d["status"] for d in log} == {"delivered"}
        assert sorted(d["attempts"] for d in log)[-1] >= 2  # the first ones were retried
    finally:
        for e in engines:
            await e.dispose()


async def test_a_failing_receiver_is_retried_with_backoff_then_given_up(live: Live) -> None:
    dead = Receiver(failures=10_000)
    try:
        sub = await _subscribe(live, dead.url, ["deadline.due_soon"])
        maker = make_sessionmaker(live.app.state.engine)
        async with maker() as db:
            from api.services import outbox

            await outbox.enqueue(db, "deadline.due_soon", None, {"probe": True})
            await db.commit()
        now = datetime.now(UTC)
        async with httpx.AsyncClient(timeout=5) as client:
            await webhooks.deliver_due(maker, SETTINGS, client, now)
            # Not yet due again: nothing is sent before the backoff has passed.
            assert await webhooks.deliver_due(maker, SETTINGS, client, now + timedelta(seconds=1)) == 0
            sent = len(dead.requests)
            for _ in range(SETTINGS.webhook_max_attempts + 2):
                now += timedelta(hours=7)
                await webhooks.deliver_due(maker, SETTINGS, client, now)
        async with maker() as db:
            delivery = await db.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub["id"]))
        assert sent == 1
        assert delivery is not None and delivery.status == "failed"
        assert delivery.attempts == SETTINGS.webhook_max_attempts and delivery.last_status_code == 503
        # The admin's view says it failed, not how: status codes and network errors would map open ports.
        log = (
            await live.http.get(f"{V1}/webhooks/{sub['id']}/deliveries", headers=await live.headers("admin"))
        ).json()["items"]
        assert [(d["status"], d["last_outcome"]) for d in log] == [("failed", "failed")]
        # No field other than the timestamps may carry the receiver's status code.
        untimed = {k: v for k, v in log[0].items() if not k.endswith("_at")}
        assert "503" not in str(untimed) and "last_status_code" not in log[0]
    finally:
        dead.close()


def test_backoff_grows_exponentially() -> None:
    assert [webhooks.backoff(SETTINGS, n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff(SETTINGS, 30) == timedelta(hours=6)


async def test_case_changes_reach_the_outbox_without_identities(api: Api) -> None:
    case = await intake(
        api,
        kind="denunciation",
        parties=[{"role": "denouncer", "full_name": "Lò Thị Bình", "id_number": "015190004321"}],
    )
    await act(api, "tinh.chutich", case, "accept", decision_number="1/QĐ")
    rows = (
        await api.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.case_id == case["id"]).order_by(OutboxEvent.id)
        )
    ).all()
    # Accepting changes what the citizen sees: their apps get the tracking code and the public status only.
    assert [r.event_type for r in rows] == ["case.created", "case.action", "case.public_status"]
    assert rows[1].payload["to_status"] == "accepted"
    assert set(rows[2].payload) == {"tracking_code", "status", "public_status"}
    assert "Lò Thị Bình" not in json.dumps([r.payload for r in rows], ensure_ascii=False)


async def test_webhook_subscription_validation_and_secret(api: Api) -> None:
    h = await api.headers("admin")
    base = {"name": "Cổng giám sát", "url": "https://giamsat.laocai.gov.vn/hook", "event_types": ["deadline.overdue"]}
    made = await api.http.post(f"{V1}/webhooks", headers=h, json={**base, "secret": "s" * 32})
    assert made.status_code == 201 and made.json()["secret"] == "s" * 32
    assert "secret" not in (await api.http.get(f"{V1}/webhooks", headers=h)).json()["items"][0]
    for bad in ({"url": "ftp://x/y"}, {"event_types": ["deadline.forgotten"]}, {"secret": "short"}):
        r = await api.http.post(f"{V1}/webhooks", headers=h, json={**base, **bad})
        assert r.status_code == 422, bad
    assert (
        await api.http.post(f"{V1}/webhooks", headers=await api.headers("tinh.chutich"), json=base)
    ).status_code == 403
    off = await api.http.patch(f"{V1}/webhooks/{made.json()['id']}", headers=h, json={"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False


async def test_webhooks_cannot_be_aimed_at_the_service_own_network(database_url: str) -> None:
    from api.app import create_app

    strict = create_app(SETTINGS.model_copy(update={"webhook_allow_private": False}), database_url=database_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as http:
        r = await http.post("/api/v1/auth/token", data={"username": "admin", "password": "LaoCai@2026demo"})
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for url in (
            "http://127.0.0.1:5432/",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "http://169.254.169.254/",
            "http://[::1]/",
            "http://192.168.1.1/",
        ):
            r = await http.post(f"{V1}/webhooks", headers=h, json={"name": "x", "url": url, "event_types": ["*"]})
            assert r.status_code == 422 and r.json()["error"]["code"] == "webhook_url_not_public", url
    await strict.state.engine.dispose()
    from api.services.webhooks import public_address

    assert await public_address("https://93.184.216.34/hook")  # a public address (no lookup needed)


async def test_a_failed_batch_stops_the_sweep_whole_and_frees_the_lock(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails rolls back alone, the other batch in flight is stopped before the sweep lock is let go,
    and the next sweep (not skipped) records every breach exactly once."""
    desk = await live.headers("xa.tiepdan")
    made = [
        (
            await live.http.post(f"{V1}/cases", headers=desk, json=case_body(received_at=days_ago(40), title=f"Lô {i}"))
        ).json()
        for i in range(4)
    ]
    monkeypatch.setattr(deadlines, "BATCH", 1)
    real = deadlines._process
    calls = {"n": 0}

    async def flaky(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a batch fails")
        await asyncio.sleep(0.05)
        await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deadlines, "_process", flaky)
    engine = make_engine(live.url)
    maker = make_sessionmaker(engine)
    try:
        with pytest.raises(RuntimeError, match="a batch fails"):
            await deadlines.sweep(maker, SETTINGS, TODAY)
        monkeypatch.setattr(deadlines, "_process", real)
        again = await deadlines.sweep(maker, SETTINGS, TODAY)
        assert not again.skipped
        async with maker() as db:
            keys = (
                await db.execute(
                    sa.select(CaseEvent.case_id, CaseEvent.payload).where(
                        CaseEvent.action == "deadline_overdue", CaseEvent.case_id.in_([c["id"] for c in made])
                    )
                )
            ).all()
        recorded = [(cid, p["timer"]) for cid, p in keys]
        assert len(recorded) == len(set(recorded)) == 2 * len(made)  # processing and acceptance, once each
    finally:
        await engine.dispose()


async def test_the_sweep_finds_cases_by_their_alerts_and_rewrites_no_index_of_cases(live: Live) -> None:
    """The alert date the sweep looks cases up by is in a narrow table (case_alerts), kept equal to the case's
    through intake, the sweep and an action; and no index of cases covers a column the sweep changes, so
    PostgreSQL can write its updates in place (migration 0018) instead of into all of the indexes of cases."""
    desk = await live.headers("xa.tiepdan")
    late = (await live.http.post(f"{V1}/cases", headers=desk, json=case_body(received_at=days_ago(40)))).json()
    fresh = (await live.http.post(f"{V1}/cases", headers=desk, json=case_body(received_at=days_ago(1)))).json()
    engine = make_engine(live.url)
    maker = make_sessionmaker(engine)
    pair = sa.text(
        "SELECT c.next_alert_date, a.next_alert_date AS copy FROM cases c "
        "LEFT JOIN case_alerts a ON a.case_id = c.id WHERE c.id = :id"
    )
    try:
        async with maker() as db:
            before = {c["id"]: (await db.execute(pair, {"id": c["id"]})).one() for c in (late, fresh)}
        assert all(row.next_alert_date == row.copy is not None for row in before.values())
        assert before[late["id"]].copy <= TODAY < before[fresh["id"]].copy
        result = await deadlines.sweep(maker, SETTINGS, TODAY)
        assert result.overdue >= 2  # the late case's processing and acceptance periods
        await act(live, "xa.chutich", fresh, "accept", decision_number="5/TB-UBND")  # an action moves them too
        async with maker() as db:
            after = {c["id"]: (await db.execute(pair, {"id": c["id"]})).one() for c in (late, fresh)}
            indexes = (await db.scalars(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'cases'"))).all()
        assert all(row.next_alert_date == row.copy for row in after.values())
        assert after[late["id"]] != before[late["id"]] and after[fresh["id"]] != before[fresh["id"]]
        async with maker() as db:  # a case with nothing left to watch leaves the table (rolled back)
            await db.execute(sa.text("UPDATE cases SET next_alert_date = NULL WHERE id = :id"), {"id": fresh["id"]})
            gone = (await db.execute(pair, {"id": fresh["id"]})).one()
            await db.rollback()
        assert gone.next_alert_date is None and gone.copy is None
        swept = {"timers", "next_alert_date", "event_count", "event_head", "escalated_to_unit_id"}
        assert indexes and not [d for d in indexes if swept & set(re.findall(r"\w+", d))]
    finally:
        await engine.dispose()
