"""Open311 clients are limited per API key, not per address: each key carries its quota (per minute, per day) set
when it is issued, an app's server posting for many phones from one address is one client, and the counts are
shared by every API process (PostgreSQL; Redis when REDIS_URL is set)."""

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from api import clock
from api.db import make_engine, make_sessionmaker
from api.errors import DomainError
from api.models.public import DEFAULT_KEY_PER_DAY, DEFAULT_KEY_PER_MINUTE, ApiKey
from api.ratelimit import PublicLimits, shared_window_count
from api.services.citizen import keyquota
from tests.conftest import Api, Live
from tests.helpers import V1
from tests.test_citizen_privacy import REDIS, app_of, redis_or_skip
from tests.test_open311 import O311, _form

KEYS = f"{V1}/open311/api-keys"


async def _issue(api: Api | Live, **body: Any) -> dict[str, Any]:
    r = await api.http.post(KEYS, headers=await api.headers("admin"), json={"name": "Ứng dụng Lào Cai số", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_key_is_issued_with_its_quota_or_the_default(api: Api) -> None:
    made = await _issue(api, per_minute=5, per_day=50)
    assert (made["per_minute"], made["per_day"]) == (5, 50) and made["api_key"].startswith("o311_")
    row = await api.session.get(ApiKey, made["id"])
    assert row is not None and (row.per_minute, row.per_day) == (5, 50)
    default = await _issue(api)
    assert (default["per_minute"], default["per_day"]) == (DEFAULT_KEY_PER_MINUTE, DEFAULT_KEY_PER_DAY)
    audited = await api.session.scalar(
        sa.text("SELECT payload FROM audit_events WHERE entity = 'api_key' AND entity_id = :i AND action = 'create'"),
        {"i": str(made["id"])},
    )
    assert audited["per_minute"] == 5 and audited["per_day"] == 50 and made["api_key"] not in str(audited)
    for bad in ({"per_minute": 0}, {"per_day": -1}, {"per_minute": 10**7}, {"per_day": "many"}):
        r = await api.http.post(KEYS, headers=await api.headers("admin"), json={"name": "x", **bad})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad


async def test_an_app_server_posting_for_many_phones_is_one_client(api: Api) -> None:
    # One address may make 2 requests a minute without a key; the app's key may make 4.
    state = app_of(api).state
    saved = state.public_limits
    state.public_limits = PublicLimits(per_minute=2, burst=2, failures_per_hour=5)
    try:
        await _one_client(api)
    finally:
        state.public_limits = saved


async def _one_client(api: Api) -> None:
    key = (await _issue(api, per_minute=4, per_day=100))["api_key"]
    url = f"{O311}/requests.json"
    for phone in range(3):  # three phones through the same server (same address): past the address's limit
        r = await api.http.post(url, data=_form(key, device_id=f"phone-{phone}", service_code="feedback.other"))
        assert r.status_code == 201, (phone, r.text)
    listed = await api.http.get(f"{O311}/requests.json", params={"api_key": key})  # a read with the key counts on it
    assert listed.status_code == 200
    over = await api.http.post(url, data=_form(key, device_id="phone-9", service_code="feedback.other"))
    assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 60
    assert over.json()[0]["code"] == 429 and "api_key_quota_minute" in over.json()[0]["description"]
    assert "một phút" in over.json()[0]["description"]
    # Another app from the same address is another client, with its own quota.
    other = (await _issue(api, per_minute=4, per_day=100))["api_key"]
    posted = await api.http.post(url, data=_form(other, device_id="x-1", service_code="feedback.other"))
    assert posted.status_code == 201
    # Without a key, the address's own limit still holds.
    anonymous = [(await api.http.get(f"{O311}/services.json")).status_code for _ in range(3)]
    assert anonymous == [200, 200, 429]
    # A wrong key is counted against the address (keys cannot be guessed faster than that).
    wrong = await api.http.post(url, data=_form("o311_guess", service_code="feedback.other"))
    assert wrong.status_code == 429


async def test_the_day_quota_and_refusals_that_count_nothing(api: Api) -> None:
    made = await _issue(api, per_minute=10, per_day=2)
    key, key_id = made["api_key"], made["id"]
    codes = [(await api.http.get(f"{O311}/services.json", params={"api_key": key})).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    refused = await api.http.get(f"{O311}/services.xml", params={"api_key": key})
    assert refused.status_code == 429 and "api_key_quota_day" in refused.text and refused.text.startswith("<?xml")
    usage = await api.session.execute(
        sa.text("SELECT span, count FROM api_key_usage WHERE api_key_id = :k"), {"k": key_id}
    )
    counted = {str(span): int(n) for span, n in usage.all()}
    assert counted == {"day": 2, "minute": 2}  # the refused requests counted nothing


async def test_windows_roll_over_and_old_counts_go(api: Api) -> None:
    made = await _issue(api, per_minute=2, per_day=3)
    key = await api.session.get(ApiKey, made["id"])
    assert key is not None
    t = datetime(2026, 12, 6, 16, 59, 30, tzinfo=UTC)  # 23:59:30 in Hà Nội
    await keyquota.spend(api.session, key, None, t)
    await keyquota.spend(api.session, key, None, t + timedelta(seconds=10))
    with pytest.raises(DomainError) as refused:
        await keyquota.spend(api.session, key, None, t + timedelta(seconds=20))
    assert refused.value.code == "api_key_quota_minute" and refused.value.headers == {"Retry-After": "10"}
    # The next minute is a new day in Hà Nội too: both windows start again, and the past ones are deleted.
    await keyquota.spend(api.session, key, None, t + timedelta(seconds=40))
    rows = (
        await api.session.execute(
            sa.text("SELECT span, window_start, count FROM api_key_usage WHERE api_key_id = :k ORDER BY span"),
            {"k": key.id},
        )
    ).all()
    assert [(s, n) for s, _, n in rows] == [("day", 1), ("minute", 1)]
    assert rows[0][1] == datetime(2026, 12, 7, tzinfo=clock.VN)


async def test_counts_are_shared_by_every_process_through_postgresql(live: Live) -> None:
    made = await _issue(live, per_minute=5, per_day=1000)
    # Two "processes": two engines of their own on the same database, ten concurrent requests each.
    engines = [make_engine(live.url, pool_size=10) for _ in range(2)]
    try:
        makers = [make_sessionmaker(e) for e in engines]
        now = clock.now()

        async def one(i: int) -> bool:
            async with makers[i % 2]() as session:
                key = await session.get_one(ApiKey, made["id"])
                try:
                    await keyquota.spend(session, key, None, now)
                except DomainError:
                    return False
                return True

        allowed = await asyncio.gather(*(one(i) for i in range(20)))
        assert sum(allowed) == 5
    finally:
        for e in engines:
            await e.dispose()


async def test_counts_are_shared_by_every_process_through_redis() -> None:
    await redis_or_skip()
    processes = [PublicLimits(per_minute=30, burst=10, failures_per_hour=20, redis_url=REDIS) for _ in range(2)]
    key = ApiKey(id=secrets.randbelow(10**9) + 10**9, name="t", key_hash="x", created_by_id=1, per_minute=3, per_day=5)
    now = clock.now().replace(second=1)
    try:
        outcomes = []
        for i in range(5):
            shared = processes[i % 2]
            try:
                # The session is never reached while Redis answers (None: it would fail if it were used).
                await keyquota.spend(None, key, lambda n, w, s=shared: shared_window_count(s, n, w), now)  # type: ignore[arg-type]
                outcomes.append("ok")
            except DomainError as exc:
                outcomes.append(exc.code)
        assert outcomes == ["ok", "ok", "ok", "api_key_quota_minute", "api_key_quota_minute"]
        later = now + timedelta(minutes=1)
        with pytest.raises(DomainError) as day:  # the day's 5 were used (refused ones count in Redis)
            await keyquota.spend(None, key, lambda n, w: shared_window_count(processes[0], n, w), later)  # type: ignore[arg-type]
        assert day.value.code == "api_key_quota_day"
    finally:
        for p in processes:
            await p.close()
