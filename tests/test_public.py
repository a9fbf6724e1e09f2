"""The citizen and mobile channel: submissions (routing, identity and consent, idempotency under retry storms),
status by tracking code and access key, rating once after settlement, rate limits and guessing limits, and the
public-status webhook event."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.models.cases import Case
from api.models.unit import Unit
from api.models.webhooks import OutboxEvent
from api.ratelimit import Limiter, PublicLimits
from tests.conftest import Api, Live
from tests.helpers import TODAY, V1, VALID_ID, act

PUBLIC = f"{V1}/public/submissions"


def body(**overrides: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "kind": "feedback",
        "field": "other",
        "content": "Đường vào bản Sín Chải bị sạt lở sau mưa lớn, xe máy không đi được.",
        "location": {"commune_code": "04465"},
        "consent": False,
    }
    b.update(overrides)
    return b


def complaint(**overrides: Any) -> dict[str, Any]:
    b = body(
        kind="complaint",
        field="land",
        content="Khiếu nại quyết định thu hồi đất nương của gia đình tôi.",
        contact={"full_name": "Giàng A Dìn", "id_number": VALID_ID, "phone": "0912000222"},
        consent=True,
    )
    b.update(overrides)
    return b


async def submit(api: Api, data: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.http.post(PUBLIC, json=data, headers=headers)


async def test_a_submission_lands_at_its_commune_and_the_citizen_follows_it(api: Api) -> None:
    r = await submit(api, complaint(), **{"X-Device-Id": "phone-1"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["unit_code"] == "04465" and made["status"] == "received" and made["access_key"]
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None and case.channel == "mobile" and case.location == {"commune_code": "04465"}
    # The commune's desk sees it as any letter, with its processing timer running.
    listed = await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.tiepdan"))
    assert listed.status_code == 200 and any(t["name"] == "processing" for t in listed.json()["timers"])
    seen = await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers={"X-Access-Key": made["access_key"]})
    assert seen.status_code == 200, seen.text
    status = seen.json()
    assert status["open"] is True and status["timeline"][0]["event"] == "Đơn đã được tiếp nhận"
    assert status["due_date"] == made["due_date"]
    assert "Giàng" not in seen.text and "parties" not in status and seen.headers["Cache-Control"] == "no-store"


async def test_a_citizen_never_reads_another_citizens_case(api: Api) -> None:
    mine = (await submit(api, body())).json()
    theirs = (await submit(api, complaint())).json()
    for code, key in (
        (theirs["tracking_code"], mine["access_key"]),
        (theirs["tracking_code"], None),
        (theirs["tracking_code"], "x" * 24),
        ("LC26-NOTACODE00", mine["access_key"]),
    ):
        headers = {"X-Access-Key": key} if key else {}
        r = await api.http.get(f"{PUBLIC}/{code}", headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "submission_not_found"


async def test_routing_by_address_accent_insensitively_or_to_the_province(api: Api) -> None:
    r = await submit(api, body(location={"address": "Thôn 3, xa KHAO  mang, tinh Lao Cai"}))
    assert r.json()["unit_code"] == "04465"
    r = await submit(api, body(location={"lat": 21.6, "long": 103.9}))
    assert r.json()["unit_code"] == "15"  # no boundary data: the province's reception office routes it
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == r.json()["tracking_code"]))
    assert case is not None and case.location is not None and case.location["lat"] == 21.6


async def test_bad_submissions(api: Api) -> None:
    for bad in (
        body(location={}),
        body(location=None),
        body(content="x" * 10_001),
        body(location={"commune_code": "99999"}),
        complaint(contact={"full_name": "A"}),  # no ID number for a complaint
        complaint(consent=False),
        body(kind="denunciation"),  # anonymous denunciation: not through this channel
        body(contact={"full_name": "A", "id_number": "12345"}, consent=True),
        body(location={"lat": 91, "long": 0}),
        body(extra="x"),
    ):
        r = await submit(api, bad)
        assert r.status_code == 422, (bad, r.text)
    assert (await submit(api, body(location={"commune_code": "99999"}))).json()["error"]["code"] == "unknown_commune"


async def test_consent_is_a_json_boolean_and_refusals_name_the_field_in_vietnamese(api: Api) -> None:
    contact = {"full_name": "Lò Thị Hoa", "phone": "0912000555"}
    for value in ("true", "yes", "on", 1, "1", "false", None):
        for send in ({}, {"content-type": "application/json; charset=utf-8"}):  # the lean path, and FastAPI's
            r = await submit(api, body(contact=contact, consent=value), **send)
            assert r.status_code == 422, (value, r.text)
            problem = r.json()["error"]["details"][0]
            assert problem["field"] == "consent", (value, problem)
    missing = (await submit(api, body(contact=contact, consent=False))).json()["error"]
    assert missing["details"][0]["field"] == "consent" and "đồng ý" in missing["details"][0]["message"]
    assert "consent" in missing["message"] and "personal data" not in missing["message"]
    no_id = (await submit(api, complaint(contact={"full_name": "A"}))).json()["error"]
    assert no_id["details"][0]["field"] == "contact" and "số định danh" in no_id["details"][0]["message"]
    assert (await submit(api, body(contact=contact, consent=True))).status_code == 201
    assert (await submit(api, body(consent=False))).status_code == 201  # nothing personal: no consent needed


async def test_html_is_kept_as_text(api: Api) -> None:
    text = "<script>alert('x')</script><b>Đường</b> hỏng"
    made = (await submit(api, body(content=text))).json()
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None and case.content == text
    r = await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.tiepdan"))
    assert r.headers["content-type"].startswith("application/json") and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.json()["content"] == text


async def test_idempotency_key_replays_and_refuses_another_body(api: Api) -> None:
    key = {"Idempotency-Key": "retry-0001", "X-Device-Id": "phone-9"}
    first = await submit(api, complaint(), **key)
    again = await submit(api, complaint(), **key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await submit(api, complaint(content="Nội dung khác hẳn"), **key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    # The same key from another device is another submission.
    elsewhere = await submit(api, complaint(), **{"Idempotency-Key": "retry-0001", "X-Device-Id": "phone-10"})
    assert elsewhere.json()["tracking_code"] != first.json()["tracking_code"]


async def test_rating_once_after_settlement_feeds_satisfaction(api: Api) -> None:
    made = (await submit(api, body())).json()
    key = {"X-Access-Key": made["access_key"]}
    url = f"{PUBLIC}/{made['tracking_code']}/rating"
    r = await api.http.post(url, headers=key, json={"score": 5})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_settled_yet"
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="1/TL")
    view = await act(api, "xa.chutich", view, "resolve", outcome="addressed", decision_number="2/TB")
    # Citizens' apps hear of it: the tracking code and the public status only.
    events = (
        await api.session.scalars(
            sa.select(OutboxEvent.payload).where(
                OutboxEvent.case_id == case.id, OutboxEvent.event_type == "case.public_status"
            )
        )
    ).all()
    assert events[-1] == {"tracking_code": made["tracking_code"], "status": "closed",
                          "public_status": "Đã có kết quả giải quyết"}  # fmt: skip
    assert all(set(e) == {"tracking_code", "status", "public_status"} for e in events)
    for bad in ({"score": 0}, {"score": 6}, {"score": 3, "comment": "x" * 1001}):
        assert (await api.http.post(url, headers=key, json=bad)).status_code == 422
    r = await api.http.post(url, headers=key, json={"score": 4, "comment": "Đã sửa đường"})
    assert r.status_code == 204
    again = await api.http.post(url, headers=key, json={"score": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    status = (await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers=key)).json()
    assert status["rating"] == 4 and status["outcome"] == "Đã xem xét, xử lý" and status["open"] is False
    span = {"from": (TODAY - timedelta(days=30)).isoformat(), "to": TODAY.isoformat()}
    s = await api.http.get(f"{V1}/stats/summary", headers=await api.headers("thanhtra"), params=span)
    assert s.json()["satisfaction"]["ratings"] >= 1


async def test_rate_limits_trip_and_reset(api: Api) -> None:
    limiter = Limiter(per_minute=60, burst=2)
    assert [limiter.wait("a", now=0.0), limiter.wait("a", now=0.0)] == [0.0, 0.0]
    assert limiter.wait("a", now=0.0) > 0  # tripped
    assert limiter.wait("a", now=1.5) == 0.0  # one token back after a second
    app = api.http._transport.app  # type: ignore[attr-defined]
    saved = app.state.public_limits
    app.state.public_limits = PublicLimits(per_minute=2, burst=2, failures_per_hour=3)
    try:
        codes = [(await submit(api, body(), **{"X-Device-Id": "tight"})).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        r = await submit(api, body(), **{"X-Device-Id": "tight"})
        assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "rate_limited"
    finally:
        app.state.public_limits = saved


async def test_guessing_codes_and_keys_is_limited(api: Api) -> None:
    made = (await submit(api, body())).json()
    app = api.http._transport.app  # type: ignore[attr-defined]
    saved = app.state.public_limits
    app.state.public_limits = PublicLimits(per_minute=1000, burst=1000, failures_per_hour=3)
    try:
        for i in range(3):
            r = await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers={"X-Access-Key": f"guess{i}"})
            assert r.status_code == 404
        r = await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers={"X-Access-Key": "guess-more"})
        assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
        # Even the right key waits now: the address has used up its guesses.
        r = await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers={"X-Access-Key": made["access_key"]})
        assert r.status_code == 429
    finally:
        app.state.public_limits = saved


async def test_redis_shares_the_counts_between_processes() -> None:
    try:
        import redis.asyncio as aioredis

        probe = aioredis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=0.5)
        await probe.ping()
        await probe.aclose()
    except Exception:  # noqa: BLE001 - no Redis on this machine: the in-memory limits are tested above
        pytest.skip("no Redis at 127.0.0.1:6379")
    one = PublicLimits(per_minute=3, burst=3, failures_per_hour=2, redis_url="redis://127.0.0.1:6379/0")
    two = PublicLimits(per_minute=3, burst=3, failures_per_hour=2, redis_url="redis://127.0.0.1:6379/0")
    key = f"ip:test-{id(one)}"
    try:
        await one.hit(key)
        await two.hit(key)
        await one.hit(key)
        with pytest.raises(Exception) as refused:
            await two.hit(key)  # the fourth of the minute, whichever process counts it
        assert getattr(refused.value, "code", "") == "rate_limited"
    finally:
        await one.close()
        await two.close()


async def test_a_retry_storm_makes_one_case(live: Live) -> None:
    data = complaint(content="Khiếu nại gửi lại nhiều lần khi mạng chập chờn.")
    headers = {"Idempotency-Key": "storm-1", "X-Device-Id": "storm-phone"}
    live.app.state.public_limits = PublicLimits(per_minute=1000, burst=1000, failures_per_hour=100)
    replies = await asyncio.gather(*(live.http.post(PUBLIC, json=data, headers=headers) for _ in range(20)))
    assert {r.status_code for r in replies} == {201}, [r.text for r in replies if r.status_code != 201]
    codes = {r.json()["tracking_code"] for r in replies}
    assert len(codes) == 1
    from api.db import make_sessionmaker

    async with make_sessionmaker(live.app.state.engine)() as db:
        n = await db.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content == data["content"]))
    assert n == 1


async def test_the_schedule_is_public(api: Api) -> None:
    r = await api.http.get(f"{V1}/reception-sessions/schedule")
    assert r.status_code == 200
    unit = await api.session.scalar(sa.select(Unit.id).where(Unit.code == "04465"))
    assert unit is not None


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 8


async def test_attachments_are_checked_by_content_and_kept_safely(api: Api) -> None:
    import hashlib

    made = (await submit(api, complaint())).json()
    key = {"X-Access-Key": made["access_key"]}
    url = f"{PUBLIC}/{made['tracking_code']}/attachments"
    r = await api.http.post(url, headers=key, files={"file": ("../../etc/passwd<script>.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["content_type"] == "image/png" and att["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert att["filename"] == "passwd_script_.png" and "/" not in att["filename"]
    # A renamed executable, whatever it claims to be, is refused.
    for payload in (b"MZ\x90\x00" + b"\x00" * 60, b"\x7fELF" + b"\x00" * 60, b"<html><script>x</script>"):
        r = await api.http.post(url, headers=key, files={"file": ("anh.jpg", payload, "image/jpeg")})
        assert r.status_code == 415 and r.json()["error"]["code"] == "attachment_type_refused"
    wrong = await api.http.post(url, headers={"X-Access-Key": "nope"}, files={"file": ("a.png", PNG, "image/png")})
    assert wrong.status_code == 404
    # The commune's desk lists and downloads it, byte for byte.
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    h = await api.headers("xa.tiepdan")
    listed = (await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)).json()
    assert [a["id"] for a in listed] == [att["id"]]
    got = await api.http.get(f"{V1}/cases/{case.id}/attachments/{att['id']}", headers=h)
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert (
        got.headers["content-disposition"].startswith("attachment;")
        and got.headers["x-content-type-options"] == "nosniff"
    )
    # Officers of another unit do not reach it.
    other = await api.http.get(
        f"{V1}/cases/{case.id}/attachments/{att['id']}", headers=await api.headers("tinh.xacminh")
    )
    assert other.status_code == 404
    up = await api.http.post(f"{V1}/cases/{case.id}/attachments", headers=h, files={"file": ("bien ban.pdf", PDF)})
    assert up.status_code == 201 and up.json()["filename"] == "bien ban.pdf"


async def test_an_upload_over_the_limit_is_refused(api: Api) -> None:
    made = (await submit(api, body())).json()
    app = api.http._transport.app  # type: ignore[attr-defined]
    limit = app.state.settings.attachment_max_bytes
    big = PNG + b"\x00" * (limit + 10 - len(PNG))
    r = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": ("big.png", big, "image/png")},
    )
    assert r.status_code == 413


async def test_a_denunciations_files_go_only_to_those_who_may_see_the_denouncer(api: Api) -> None:
    made = (
        await submit(
            api,
            complaint(kind="denunciation", field="corruption", content="Tố cáo cán bộ xã nhận tiền, kèm ảnh."),
        )
    ).json()
    key = {"X-Access-Key": made["access_key"]}
    r = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments", headers=key, files={"file": ("a.png", PNG)}
    )
    assert r.status_code == 201
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    head = await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=await api.headers("xa.chutich"))
    assert head.status_code == 200 and len(head.json()) == 1 and head.json()[0]["filename"] == "a.png"
    # The inspector reads the case but may not see the denouncer: no name, and (this PNG does not open, so no
    # clean copy could be made) no file (tests/test_citizen_privacy.py: the stripped copies).
    h = await api.headers("thanhtra")
    inspector = await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)
    assert inspector.status_code == 200 and inspector.json()[0]["form"] == "none"
    assert inspector.json()[0]["filename"] != "a.png" and inspector.json()[0]["sha256"] is None
    got = await api.http.get(f"{V1}/cases/{case.id}/attachments/{r.json()['id']}", headers=h)
    assert got.status_code == 403 and got.json()["error"]["code"] == "attachment_original_only"


async def test_the_same_letter_twice_is_suggested_confirmed_or_dismissed(api: Api) -> None:
    first = (
        await submit(api, body(content="Đường vào bản Sín Chải bị sạt lở sau mưa lớn, đề nghị khắc phục gấp."))
    ).json()
    second = (
        await submit(api, body(content="duong vao  ban Sin Chai   bi sat lo sau mua lon, de nghi khac phuc gap"))
    ).json()
    third = (await submit(api, body(content="Đường  vào bản Sín Chải bị sạt lở sau mưa lớn, đề nghị khắc phục"))).json()
    ids = {}
    for made in (first, second, third):
        ids[made["tracking_code"]] = await api.session.scalar(
            sa.select(Case.id).where(Case.tracking_code == made["tracking_code"])
        )
    a, b, c = ids[first["tracking_code"]], ids[second["tracking_code"]], ids[third["tracking_code"]]
    h = await api.headers("xa.tiepdan")
    suggested = {d["id"] for d in (await api.http.get(f"{V1}/cases/{b}/duplicates", headers=h)).json()}
    assert a in suggested and c in suggested
    # Not the same matter: never suggested again, either way round.
    r = await api.http.post(f"{V1}/cases/{b}/duplicates/{c}/dismiss", headers=h)
    assert r.status_code == 204
    assert c not in {d["id"] for d in (await api.http.get(f"{V1}/cases/{b}/duplicates", headers=h)).json()}
    assert b not in {d["id"] for d in (await api.http.get(f"{V1}/cases/{c}/duplicates", headers=h)).json()}
    # The same matter: stored as a duplicate, keeping the link.
    version = (await api.http.get(f"{V1}/cases/{b}", headers=h)).json()["version"]
    r = await api.http.post(f"{V1}/cases/{b}/duplicates/{a}/confirm", headers={**h, "If-Match": str(version)})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stored"
    row = await api.session.get(Case, b)
    assert row is not None and row.duplicate_of_case_id == a and row.reason_code == "duplicate"
    bad = await api.http.post(
        f"{V1}/cases/{c}/actions/store",
        headers={**h, "If-Match": "1"},
        json={"reason_code": "duplicate", "duplicate_of_case_id": 9_000_000_000},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "duplicate_target_not_found"
