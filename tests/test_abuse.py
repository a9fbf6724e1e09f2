"""Expensive requests are limited per officer, and a flood of worst-case searches from one token does not stop
other officers, /readyz or the background jobs."""

import asyncio

import sqlalchemy as sa
from fastapi import FastAPI

from api.ratelimit import Limiter
from tests.conftest import Api, Live
from tests.helpers import V1, intake


def test_the_bucket_refills_at_its_rate() -> None:
    limiter = Limiter(per_minute=60, burst=2)
    assert limiter.wait("a", now=0.0) == 0 and limiter.wait("a", now=0.0) == 0
    assert limiter.wait("a", now=0.0) == 1.0  # the third at once waits a second
    assert limiter.wait("b", now=0.0) == 0  # callers do not share a bucket
    assert limiter.wait("a", now=1.0) == 0


async def test_search_and_duplicates_beyond_the_officers_rate_get_429_with_retry_after(api: Api, app: FastAPI) -> None:
    case = await intake(api)
    saved = app.state.expensive_limiter
    app.state.expensive_limiter = Limiter(per_minute=6, burst=3)
    try:
        h, other = await api.headers("thanhtra"), await api.headers("tinh.chutich")
        codes = [(await api.http.get(f"{V1}/cases", headers=h, params={"q": "dat dai"})).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = await api.http.get(f"{V1}/cases/{case['id']}/duplicates", headers=h)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 10
        # A plain list is not an expensive request; another officer has a bucket of their own.
        assert (await api.http.get(f"{V1}/cases", headers=h)).status_code == 200
        assert (await api.http.get(f"{V1}/cases", headers=other, params={"q": "dat dai"})).status_code == 200
    finally:
        app.state.expensive_limiter = saved


async def test_a_flood_of_worst_case_searches_leaves_others_and_readyz_answering(live: Live) -> None:
    """20 concurrent searches from one token (one-letter-pair terms that match everything, the newest-first
    window): they are answered or refused quickly, while another officer's read and /readyz answer."""
    flood_h, other_h = await live.headers("thanhtra"), await live.headers("tinh.chutich")
    # A table large enough for a careless query to show: 30,000 letters sharing common words.
    async with live.app.state.engine.begin() as conn:
        await conn.execute(
            sa.text("""
            INSERT INTO cases (tracking_code, access_key_hash, kind, field, channel, title, content, received_at,
                               receiving_unit_id, competent_unit_id, received_by_id, status, event_count)
            SELECT 'FLOOD' || g, repeat('0', 64), 'petition', 'land', 'post', 'Kiến nghị đất đai số ' || g,
                   'Kiến nghị về việc cấp giấy chứng nhận quyền sử dụng đất an toàn, thửa số ' || g,
                   DATE '2026-01-01' + (g % 300), u.unit_id, u.unit_id, u.id, 'received', 1
            FROM generate_series(1, 30000) g, (SELECT id, unit_id FROM users WHERE username = 'tinh.tiepdan') u
            """)
        )
    case = (
        await live.http.post(
            f"{V1}/cases",
            headers=await live.headers("tinh.tiepdan"),
            json={
                "kind": "complaint",
                "field": "land",
                "channel": "in_person",
                "title": "Khiếu nại đất đai",
                "content": "Khiếu nại về quyết định thu hồi đất",
                "received_at": "2026-11-20",
                "parties": [{"role": "complainant", "full_name": "Người Khiếu Nại"}],
            },
        )
    ).json()
    flood = [live.http.get(f"{V1}/cases", headers=flood_h, params={"q": "an", "limit": 200}) for _ in range(20)]
    others = [live.http.get(f"{V1}/cases/{case['id']}", headers=other_h), live.http.get("/readyz")]
    results = await asyncio.gather(*flood, *others)
    assert {r.status_code for r in results[:20]} <= {200, 429}
    assert [r.status_code for r in results[20:]] == [200, 200]
