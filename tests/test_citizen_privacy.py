"""Issue 21, the citizen channel: a denouncer's device and network do not name them. No client address is kept
(database, Redis), limits count by a keyed daily hash and tell callers apart behind a trusted proxy, failed
look-ups are counted in one step, Redis down falls back to the process's own limits; attachments are sealed at
rest and offered to those who may not see the denouncer only as a copy stripped of metadata; anonymous uploads
have quotas; Open311 shows no exact position of a complaint."""

import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from PIL import Image

from api import clock
from api.models.cases import Case, CaseEvent
from api.ratelimit import PublicLimits, TrustedProxies, forwarded_client
from api.vault import vault_for
from tests.conftest import SETTINGS, Api, Live
from tests.helpers import V1, VALID_ID, act, refuse_identity_reads, stored_files

PUBLIC = f"{V1}/public/submissions"
O311 = "/open311/v2"
ADDRESS = "203.0.113.77"  # the denouncer's distinctive address (TEST-NET-3)
REDIS = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parent.parent


async def redis_or_skip() -> None:
    try:
        import redis.asyncio as aioredis

        probe = aioredis.from_url(REDIS, socket_connect_timeout=0.5)
        await probe.ping()
        await probe.aclose()
    except Exception:  # noqa: BLE001 - no Redis on this machine
        pytest.skip("no Redis at 127.0.0.1:6379")


def feedback(**overrides: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "kind": "feedback",
        "field": "other",
        "content": "Đèn đường ở ngã ba bản Cát Cát bị hỏng nhiều ngày.",
        "location": {"commune_code": "04465"},
        "consent": False,
    }
    b.update(overrides)
    return b


def denunciation(**overrides: Any) -> dict[str, Any]:
    b = feedback(
        kind="denunciation",
        field="corruption",
        content="Tố cáo cán bộ địa chính xã nhận tiền để cấp sổ đỏ, kèm ảnh chụp.",
        contact={"full_name": "Hoàng Thị Mỷ", "id_number": VALID_ID, "phone": "0987654321"},
        consent=True,
    )
    b.update(overrides)
    return b


def gps_jpeg() -> bytes:
    """A photo as a phone takes it: EXIF with the camera, its software, the author and a GPS position."""
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMakerXYZ"  # Make
    exif[0x0110] = "ModelQ77"  # Model
    exif[0x0131] = "CameraSoftware9"  # Software
    exif[0x013B] = "Hoang Thi My"  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (22.0, 20.0, 11.0)
    gps[3], gps[4] = "E", (103.0, 50.0, 33.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"PhoneMakerXYZ" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def app_of(api: Api) -> FastAPI:
    app: FastAPI = api.http._transport.app  # type: ignore[attr-defined]
    return app


@pytest.fixture
async def from_address(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from ADDRESS (the peer address of the connection, as without a proxy)."""
    transport = httpx.ASGITransport(app=app_of(api), raise_app_exceptions=False, client=(ADDRESS, 51515))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def limits(api: Api) -> Any:
    """Put a limiter of the test's own on the app (and the previous one back after)."""
    app = app_of(api)
    saved = app.state.public_limits

    def install(made: PublicLimits) -> PublicLimits:
        app.state.public_limits = made
        return made

    yield install
    app.state.public_limits = saved


@pytest.fixture
def settings_with(api: Api) -> Any:
    app = app_of(api)
    saved = app.state.settings

    def install(**values: Any) -> None:
        app.state.settings = SETTINGS.model_copy(update=values)

    yield install
    app.state.settings = saved


async def tables_holding(api: Api, needle: str) -> list[str]:
    """Every table whose rows, as text (every column: text, jsonb, arrays, ...), contain `needle`."""
    names = (
        await api.session.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        )
    ).all()
    found = []
    for name in names:
        hit = await api.session.scalar(
            sa.text(f'SELECT 1 FROM "{name}" AS r WHERE r::text LIKE :p LIMIT 1'),  # noqa: S608 - pg_tables names
            {"p": f"%{needle}%"},
        )
        if hit:
            found.append(name)
    return found


async def _settle(api: Api, tracking_code: str) -> None:
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == tracking_code))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="1/TL")
    await act(api, "xa.chutich", view, "resolve", outcome="addressed", decision_number="2/TB")


# ---- 1. no client address is kept ----


async def test_no_table_and_no_redis_key_holds_the_callers_address(
    api: Api, from_address: httpx.AsyncClient, limits: Any
) -> None:
    """A submission, a status read, a wrong guess, a rating and an upload from ADDRESS (with an Idempotency-Key):
    no row of any table, and no Redis key, holds the address; the stored Idempotency-Key is not an unkeyed hash
    of the address and the key (which a list of addresses would reverse)."""
    with_redis = True
    try:
        await redis_or_skip()
    except pytest.skip.Exception:
        with_redis = False
    limits(PublicLimits(1000, 1000, 1000, REDIS if with_redis else None))
    made = await from_address.post(PUBLIC, json=feedback(), headers={"Idempotency-Key": "idem-address-1"})
    assert made.status_code == 201, made.text
    code, key = made.json()["tracking_code"], made.json()["access_key"]
    assert (await from_address.get(f"{PUBLIC}/{code}", headers={"X-Access-Key": key})).status_code == 200
    assert (await from_address.get(f"{PUBLIC}/{code}", headers={"X-Access-Key": "wrong-key"})).status_code == 404
    up = await from_address.post(
        f"{PUBLIC}/{code}/attachments", headers={"X-Access-Key": key}, files={"file": ("anh.jpg", gps_jpeg())}
    )
    assert up.status_code == 201, up.text
    await _settle(api, code)
    rated = await from_address.post(f"{PUBLIC}/{code}/rating", headers={"X-Access-Key": key}, json={"score": 5})
    assert rated.status_code == 204, rated.text
    assert await tables_holding(api, ADDRESS) == []
    stored = await api.session.scalar(sa.select(Case.idempotency_key).where(Case.tracking_code == code))
    assert stored is not None
    unkeyed = hashlib.sha256(f"ip:{ADDRESS}\x00idem-address-1".encode()).hexdigest()
    assert stored != unkeyed
    assert await tables_holding(api, unkeyed) == []
    if with_redis:
        import redis.asyncio as aioredis

        r = aioredis.from_url(REDIS)
        try:
            names = [k.decode() async for k in r.scan_iter("*")]
        finally:
            await r.aclose()
        assert names and not [n for n in names if ADDRESS in n]
        await app_of(api).state.public_limits.close()


async def test_the_address_hash_is_keyed_and_changes_every_day(api: Api) -> None:
    from datetime import date

    tagger = app_of(api).state.tagger
    today, tomorrow = tagger.tag("ip", ADDRESS, date(2026, 12, 6)), tagger.tag("ip", ADDRESS, date(2026, 12, 7))
    assert today != tomorrow and ADDRESS not in today
    assert today != hashlib.sha256(f"2026-12-06\x00ip\x00{ADDRESS}".encode()).hexdigest()[:32]
    assert tagger.tag("ip", "203.0.113.78", date(2026, 12, 6)) != today
    # An IPv6 caller is counted by its /64: a new address from its own network is the same caller.
    day = date(2026, 12, 6)
    assert tagger.tag("ip", "2001:db8:1:2::1", day) == tagger.tag("ip", "2001:db8:1:2:ffff::9", day)
    assert tagger.tag("ip", "2001:db8:1:3::1", day) != tagger.tag("ip", "2001:db8:1:2::1", day)
    assert tagger.tag("ip", f"::ffff:{ADDRESS}", day) == today


# ---- 5. behind a proxy; one-step look-up limit; Redis down ----


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = TrustedProxies("10.0.0.1, 192.168.0.0/16")
    assert forwarded_client("10.0.0.1", "198.51.100.9", trusted) == "198.51.100.9"
    # The client's own forgery on the left is never reached: the proxy appended the real peer.
    assert forwarded_client("10.0.0.1", "1.2.3.4, 198.51.100.9", trusted) == "198.51.100.9"
    assert forwarded_client("10.0.0.1", "198.51.100.9, 192.168.4.4", trusted) == "198.51.100.9"
    # An untrusted peer's header is ignored.
    assert forwarded_client("198.51.100.20", "1.2.3.4", trusted) == "198.51.100.20"
    assert forwarded_client("::ffff:10.0.0.1", "198.51.100.9", trusted) == "198.51.100.9"
    assert forwarded_client("10.0.0.1", None, trusted) == "10.0.0.1"
    assert "anything" in TrustedProxies("*") and "10.0.0.2" not in trusted


async def test_behind_a_trusted_proxy_the_limits_tell_callers_apart(api: Api, limits: Any) -> None:
    """The proxy (127.0.0.1, trusted by default) sends every citizen's request: one citizen using up their limit
    does not stop another; the same citizen with another device is still counted by address; a peer that is not
    a trusted proxy cannot pick an address by sending X-Forwarded-For."""
    limits(PublicLimits(per_minute=2, burst=2, failures_per_hour=100))

    async def send(address: str, device: str | None = None, http: httpx.AsyncClient | None = None) -> int:
        headers = {"X-Forwarded-For": address, **({"X-Device-Id": device} if device else {})}
        return (await (http or api.http).post(PUBLIC, json=feedback(), headers=headers)).status_code

    assert [await send("198.51.100.1"), await send("198.51.100.1"), await send("198.51.100.1")] == [201, 201, 429]
    assert await send("198.51.100.2") == 201  # another citizen behind the same proxy
    assert await send("198.51.100.1", device="new-phone") == 429  # a new device id does not reset the address
    transport = httpx.ASGITransport(app=app_of(api), raise_app_exceptions=False, client=("198.51.100.50", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as direct:
        assert [await send(f"192.0.2.{i}", http=direct) for i in range(3)] == [201, 201, 429]


async def _guess_storm(live: Live, redis_url: str | None) -> list[int]:
    """12 keys at once from one address (each request on its own connection), the right one among them: with 3
    failures allowed, at most 3 look-ups may be tried at all. Before, every request passed the check before any
    failure was counted, so all 12 were tried and the right key among them answered 200."""
    made = (await live.http.post(PUBLIC, json=feedback())).json()
    saved = live.app.state.public_limits
    live.app.state.public_limits = PublicLimits(1000, 1000, failures_per_hour=3, redis_url=redis_url)
    address = f"198.51.100.{100 + (1 if redis_url else 0)}"
    url = f"{PUBLIC}/{made['tracking_code']}"
    keys = [f"guess-{i}" for i in range(11)]
    keys.insert(6, made["access_key"])
    try:
        replies = await asyncio.gather(
            *(live.http.get(url, headers={"X-Access-Key": k, "X-Forwarded-For": address}) for k in keys)
        )
    finally:
        await live.app.state.public_limits.close()
        live.app.state.public_limits = saved
    return [r.status_code for r in replies]


async def test_concurrent_guesses_cannot_pass_the_limit_in_memory(live: Live) -> None:
    codes = await _guess_storm(live, None)
    assert codes.count(200) + codes.count(404) <= 3 and set(codes) <= {200, 404, 429}, codes


async def test_concurrent_guesses_cannot_pass_the_limit_in_redis(live: Live) -> None:
    await redis_or_skip()
    import redis.asyncio as aioredis

    r = aioredis.from_url(REDIS)
    try:
        async for k in r.scan_iter("tiepdan:rl:fail:*"):
            await r.delete(k)
    finally:
        await r.aclose()
    codes = await _guess_storm(live, REDIS)
    assert codes.count(200) + codes.count(404) <= 3 and set(codes) <= {200, 404, 429}, codes


async def test_a_right_key_does_not_use_up_the_guesses(api: Api, limits: Any) -> None:
    made = (await api.http.post(PUBLIC, json=feedback())).json()
    limits(PublicLimits(per_minute=1000, burst=1000, failures_per_hour=2))
    url, right = f"{PUBLIC}/{made['tracking_code']}", {"X-Access-Key": made["access_key"]}
    assert [(await api.http.get(url, headers=right)).status_code for _ in range(5)] == [200] * 5


async def test_with_redis_down_the_public_routes_count_in_the_process(api: Api, limits: Any) -> None:
    """REDIS_URL points at a closed port: submissions and look-ups are answered (never 500/503), and the
    process's own limits still hold."""
    limits(PublicLimits(per_minute=2, burst=2, failures_per_hour=2, redis_url="redis://127.0.0.1:1/0"))
    headers = {"X-Forwarded-For": "198.51.100.200"}
    first = await api.http.post(PUBLIC, json=feedback(), headers=headers)
    assert first.status_code == 201, first.text
    made = first.json()
    seen = await api.http.get(
        f"{PUBLIC}/{made['tracking_code']}", headers={**headers, "X-Access-Key": made["access_key"]}
    )
    assert seen.status_code == 200
    third = await api.http.post(PUBLIC, json=feedback(), headers=headers)
    assert third.status_code == 429 and third.json()["error"]["code"] == "rate_limited"
    services = await api.http.get(f"{O311}/services.json", headers={"X-Forwarded-For": "198.51.100.201"})
    assert services.status_code == 200
    await app_of(api).state.public_limits.close()


# ---- 2. attachments: sealed at rest, stripped copies ----


async def _denunciation_with_photo(api: Api, name: str, data: bytes) -> tuple[Case, dict[str, Any]]:
    made = (await api.http.post(PUBLIC, json=denunciation())).json()
    up = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"]},
        files={"file": (name, data, "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="9/QĐ-TLTC")
    await act(api, "xa.chutich", view, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    return case, up.json()


async def test_a_photo_is_sealed_at_rest_and_its_copy_carries_no_gps_or_device(api: Api) -> None:
    photo = gps_jpeg()
    name = "hoang-thi-my-bang-chung-nhan-tien.jpg"
    before = {hashlib.sha256(b).hexdigest() for b in await stored_files(api.session)}
    case, uploaded = await _denunciation_with_photo(api, name, photo)
    # The store: neither the name, nor the photo's bytes, nor its GPS or camera.
    new = [b for b in await stored_files(api.session) if hashlib.sha256(b).hexdigest() not in before]
    assert len(new) == 2  # the sealed original and the sealed copy
    for blob in new:
        assert name.encode() not in blob and b"hoang-thi-my" not in blob
        assert photo[:200] not in blob and photo[-200:] not in blob and b"\xff\xd8\xff" not in blob
        assert b"PhoneMakerXYZ" not in blob and b"GPS" not in blob and b"Exif" not in blob
    # The row: the name and the original's SHA-256 sealed.
    assert await tables_holding(api, "hoang-thi-my") == []
    assert await tables_holding(api, hashlib.sha256(photo).hexdigest()) == []

    # The unit head (who may see the denouncer): the original, its name and its SHA-256.
    head = await api.headers("xa.chutich")
    listed = (await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=head)).json()
    assert listed[0]["filename"] == name and listed[0]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert listed[0]["form"] == "original"
    got = await api.http.get(f"{V1}/cases/{case.id}/attachments/{uploaded['id']}", headers=head)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["x-content-sha256"] == hashlib.sha256(photo).hexdigest()

    # The assigned verifier and the inspector (who may not): a copy without GPS, device, author or software.
    for who in ("xa.xacminh", "thanhtra"):
        h = await api.headers(who)
        listed = (await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)).json()
        assert listed[0]["form"] == "copy" and "hoang" not in listed[0]["filename"]
        assert listed[0]["sha256"] != hashlib.sha256(photo).hexdigest()
        copy = await api.http.get(f"{V1}/cases/{case.id}/attachments/{uploaded['id']}", headers=h)
        assert copy.status_code == 200, (who, copy.text)
        assert copy.headers["x-attachment-form"] == "copy" and "hoang" not in copy.headers["content-disposition"]
        assert copy.headers["x-content-sha256"] == hashlib.sha256(copy.content).hexdigest()
        img = Image.open(io.BytesIO(copy.content))
        assert img.format == "JPEG" and img.size == (64, 48)
        assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info
        for marker in (b"PhoneMakerXYZ", b"ModelQ77", b"CameraSoftware9", b"Hoang Thi My", b"Exif"):
            assert marker not in copy.content


def pdf_with_author() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(
        out, "PDF", author="HoangThiMy", title="Bang chung", creator="ScannerAppX", producer="ScannerAppX"
    )
    return out.getvalue()


async def test_a_pdf_copy_has_no_document_metadata_and_audio_gets_no_copy(api: Api) -> None:
    import pypdfium2 as pdfium

    original = pdf_with_author()
    assert pdfium.PdfDocument(original).get_metadata_dict()["Author"] == "HoangThiMy"
    made = (await api.http.post(PUBLIC, json=denunciation())).json()
    url, key = f"{PUBLIC}/{made['tracking_code']}/attachments", {"X-Access-Key": made["access_key"]}
    pdf = (await api.http.post(url, headers=key, files={"file": ("to-cao.pdf", original)})).json()
    audio = (await api.http.post(url, headers=key, files={"file": ("ghi-am.mp3", b"ID3" + b"\x00" * 200)})).json()
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    h = await api.headers("thanhtra")
    listed = {a["id"]: a for a in (await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)).json()}
    assert listed[pdf["id"]]["form"] == "copy" and listed[audio["id"]]["form"] == "none"
    copy = await api.http.get(f"{V1}/cases/{case.id}/attachments/{pdf['id']}", headers=h)
    assert copy.status_code == 200
    meta = pdfium.PdfDocument(copy.content).get_metadata_dict()
    assert not meta.get("Author") and not meta.get("Title") and "ScannerAppX" not in json.dumps(meta)
    assert b"ScannerAppX" not in copy.content and b"H\x00o\x00a\x00n\x00g" not in copy.content
    refused = await api.http.get(f"{V1}/cases/{case.id}/attachments/{audio['id']}", headers=h)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "attachment_original_only"
    head = await api.http.get(
        f"{V1}/cases/{case.id}/attachments/{audio['id']}", headers=await api.headers("xa.chutich")
    )
    assert head.status_code == 200 and head.content == b"ID3" + b"\x00" * 200


# ---- 3. quotas ----


async def _upload(api: Api, made: dict[str, Any], size: int, **headers: str) -> httpx.Response:
    data = b"ID3" + b"\x00" * (size - 3)
    return await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/attachments",
        headers={"X-Access-Key": made["access_key"], **headers},
        files={"file": ("a.mp3", data)},
    )


async def test_upload_quota_per_case(api: Api, settings_with: Any) -> None:
    settings_with(upload_bytes_per_case=2500)
    made = (await api.http.post(PUBLIC, json=feedback())).json()
    assert (await _upload(api, made, 1000)).status_code == 201
    assert (await _upload(api, made, 1000)).status_code == 201
    r = await _upload(api, made, 1000)
    assert r.status_code == 413 and r.json()["error"]["code"] == "upload_quota_case"
    assert "dung lượng" in r.json()["error"]["message"]


async def test_upload_quota_per_device_a_day(api: Api, settings_with: Any) -> None:
    settings_with(upload_bytes_per_device_day=2500)
    phone = {"X-Device-Id": "quota-phone", "X-Forwarded-For": "198.51.100.31"}
    one, two = [(await api.http.post(PUBLIC, json=feedback())).json() for _ in range(2)]
    assert (await _upload(api, one, 1500, **phone)).status_code == 201
    r = await _upload(api, two, 1500, **phone)
    assert r.status_code == 429 and r.json()["error"]["code"] == "upload_quota_device"
    # The same device counts whatever address it comes from; another device is not stopped.
    moved = {"X-Device-Id": "quota-phone", "X-Forwarded-For": "198.51.100.32"}
    assert (await _upload(api, two, 1500, **moved)).status_code == 429
    assert (await _upload(api, two, 1500, **{"X-Device-Id": "other-phone"})).status_code == 201


async def test_upload_quota_per_address_a_day(api: Api, settings_with: Any) -> None:
    settings_with(upload_bytes_per_address_day=2500)
    one, two = [(await api.http.post(PUBLIC, json=feedback())).json() for _ in range(2)]
    assert (
        await _upload(api, one, 1500, **{"X-Forwarded-For": "198.51.100.41", "X-Device-Id": "a"})
    ).status_code == 201
    r = await _upload(api, two, 1500, **{"X-Forwarded-For": "198.51.100.41", "X-Device-Id": "b"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "upload_quota_address"
    assert int(r.headers["Retry-After"]) >= 1
    assert (await _upload(api, two, 1500, **{"X-Forwarded-For": "198.51.100.42"})).status_code == 201


async def test_upload_quota_of_all_anonymous_uploads_a_day(api: Api, settings_with: Any) -> None:
    used = await api.session.scalar(
        sa.text("SELECT coalesce(sum(bytes), 0) FROM upload_quotas WHERE bucket = 'all' AND day = :d"),
        {"d": clock.today()},
    )
    settings_with(upload_bytes_total_day=int(used or 0) + 2500)
    one, two = [(await api.http.post(PUBLIC, json=feedback())).json() for _ in range(2)]
    assert (await _upload(api, one, 1500, **{"X-Forwarded-For": "198.51.100.51"})).status_code == 201
    r = await _upload(api, two, 1500, **{"X-Forwarded-For": "198.51.100.52"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "upload_quota_total"
    # Officers' own uploads are not anonymous uploads: no quota.
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == two["tracking_code"]))
    assert case is not None
    pdf = pdf_with_author()
    up = await api.http.post(
        f"{V1}/cases/{case.id}/attachments", headers=await api.headers("xa.tiepdan"), files={"file": ("bb.pdf", pdf)}
    )
    assert up.status_code == 201, up.text


# ---- 4. Open311 ----


async def test_open311_shows_no_exact_position_of_a_complaint_and_a_coarse_one_of_feedback(api: Api) -> None:
    key = (
        await api.http.post(f"{V1}/open311/api-keys", headers=await api.headers("admin"), json={"name": "app"})
    ).json()["api_key"]
    base = {
        "api_key": key,
        "lat": "22.336417",
        "long": "104.144689",
        "address_id": "04465",
        "description": "Nội dung",
        "first_name": "Giàng A",
        "last_name": "Dìn",
        "attribute[id_number]": VALID_ID,
        "attribute[consent]": "true",
    }
    complaint = (await api.http.post(f"{O311}/requests.json", data={**base, "service_code": "complaint.land"})).json()
    fb = (await api.http.post(f"{O311}/requests.json", data={**base, "service_code": "feedback.other"})).json()
    one = (await api.http.get(f"{O311}/requests/{complaint[0]['service_request_id']}.json")).json()[0]
    assert one["lat"] is None and one["long"] is None and one["address_id"] == "04465"
    other = (await api.http.get(f"{O311}/requests/{fb[0]['service_request_id']}.json")).json()[0]
    assert other["lat"] == 22.34 and other["long"] == 104.14
    listed = await api.http.get(f"{O311}/requests.json")
    assert "22.3364" not in listed.text and "104.1446" not in listed.text and "Giàng" not in listed.text
    xml = await api.http.get(f"{O311}/requests.xml")
    assert "22.3364" not in xml.text and "104.1446" not in xml.text


# ---- migration 0022 on a store that already has files ----


def test_revision_0022_seals_existing_attachments_and_downgrade_opens_them(
    pg_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cryptography.fernet import Fernet

    from alembic import command
    from tests.test_migrations import _config, _sql, _unit_and_desk_officer

    monkeypatch.setenv("IDENTITY_KEYS", SETTINGS.identity_keys or "")
    monkeypatch.setenv("ATTACHMENTS_DIR", str(tmp_path))
    name = pg_server.create_database("tiepdan_attach")
    url = pg_server.url(name)
    photo = gps_jpeg()
    key = "ab/" + "ab" * 20
    (tmp_path / "ab").mkdir()
    (tmp_path / key).write_bytes(photo)

    def sql(statement: str) -> list[Any]:
        return _sql(url, statement)

    try:
        config = _config(url)
        command.upgrade(config, "0021")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO cases (tracking_code, access_key_hash, kind, field, channel, title, content, "
            "received_at, receiving_unit_id, competent_unit_id, received_by_id, status) VALUES "
            "('T1', 'h', 'complaint', 'land', 'online', 't', 'c', '2026-11-02', 1, 1, 1, 'received')"
        )
        digest = hashlib.sha256(photo).hexdigest()
        columns = "case_id, filename, content_type, size, sha256, storage_key, uploaded_by"
        values = f"1, 'ten-nguoi-gui.jpg', 'image/jpeg', {len(photo)}, '{digest}', '{key}', 'citizen'"
        insert = f"INSERT INTO attachments ({columns}) VALUES ({values})"  # noqa: S608 - the test's own values
        sql(insert)
        command.upgrade(config, "0022")
        fernet = Fernet((SETTINGS.identity_keys or "").encode())
        row = sql("SELECT * FROM attachments")[0]
        assert "filename" not in row._fields and "sha256" not in row._fields
        assert json.loads(fernet.decrypt(row.sealed.encode())) == {
            "filename": "ten-nguoi-gui.jpg",
            "sha256": hashlib.sha256(photo).hexdigest(),
        }
        stored = (tmp_path / key).read_bytes()
        assert b"PhoneMakerXYZ" not in stored and fernet.decrypt(stored) == photo
        command.downgrade(config, "0021")
        row = sql("SELECT filename, sha256 FROM attachments")[0]
        assert row.filename == "ten-nguoi-gui.jpg" and (tmp_path / key).read_bytes() == photo
    finally:
        pg_server.drop_database(name)


async def test_serve_gives_uvicorn_the_trusted_proxies(live: Live) -> None:
    """`python -m api serve` runs uvicorn with FORWARDED_ALLOW_IPS (uvicorn.run replaced by a recorder)."""
    import os
    import subprocess
    import sys

    script = (
        "import json, uvicorn\n"
        "uvicorn.run = lambda *a, **k: print('UVICORN ' + json.dumps(k, default=str))\n"
        "from api.cli import main\n"
        "main(['serve', '--no-seed'])\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": live.url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "FORWARDED_ALLOW_IPS": "10.1.2.3,192.168.0.0/16",
        "LOG_LEVEL": "WARNING",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("UVICORN ")), None)
    assert line is not None, done.stderr[-2000:]
    passed = json.loads(line.removeprefix("UVICORN "))
    assert passed["forwarded_allow_ips"] == "10.1.2.3,192.168.0.0/16" and passed["proxy_headers"] is True


# ---- 5. the outside audit (issue 21): originals' reads audited, comments and positions sealed, replays bound ----


async def _identity_reads(api: Api, case_id: int) -> list[dict[str, Any]]:
    rows = await api.session.scalars(
        sa.select(CaseEvent.payload)
        .where(CaseEvent.case_id == case_id, CaseEvent.action == "identity_viewed")
        .order_by(CaseEvent.seq)
    )
    return [dict(p) for p in rows.all()]


async def test_opening_an_attachments_original_is_an_identity_read_committed_with_it(api: Api) -> None:
    """F1: the head listing a denunciation's attachments (the originals' names and SHA-256) and downloading an
    original (its bytes) reads protected data: each is an `identity_viewed` event of the case's chain, written in
    the same commit as the read; if the event cannot be written, neither the name nor the bytes are returned.
    Those who get the stripped copy read nothing protected: no event."""
    photo = gps_jpeg()
    name = "Giang-Seo-Phu-CCCD-015187006262.jpg"
    case, uploaded = await _denunciation_with_photo(api, name, photo)
    assert case.id is not None
    head = await api.headers("xa.chutich")
    before = await _identity_reads(api, case.id)

    listed = await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=head)
    assert listed.status_code == 200 and listed.json()[0]["filename"] == name
    after_list = await _identity_reads(api, case.id)
    assert after_list[len(before) :] == [{"attachment_ids": [uploaded["id"]]}]

    got = await api.http.get(f"{V1}/cases/{case.id}/attachments/{uploaded['id']}", headers=head)
    assert got.status_code == 200 and got.content == photo and got.headers["x-attachment-form"] == "original"
    after_download = await _identity_reads(api, case.id)
    assert after_download[len(after_list) :] == [{"attachment_file_ids": [uploaded["id"]]}]

    # The assigned verifier and the inspector get the copy: nothing protected is read, nothing recorded.
    for who in ("xa.xacminh", "thanhtra"):
        h = await api.headers(who)
        assert (await api.http.get(f"{V1}/cases/{case.id}/attachments", headers=h)).json()[0]["form"] == "copy"
        copy = await api.http.get(f"{V1}/cases/{case.id}/attachments/{uploaded['id']}", headers=h)
        assert copy.status_code == 200 and copy.headers["x-attachment-form"] == "copy"
    assert await _identity_reads(api, case.id) == after_download
    verify = (await api.http.get(f"{V1}/cases/{case.id}/events/verify", headers=head)).json()
    assert verify["valid"] is True, verify

    # The event cannot be written: neither the original's name, its SHA-256, nor its bytes leave the service.
    for url in (f"{V1}/cases/{case.id}/attachments", f"{V1}/cases/{case.id}/attachments/{uploaded['id']}"):
        await refuse_identity_reads(api)
        r = await api.http.get(url, headers=head)
        assert r.status_code >= 500, r.text
        assert "Giang-Seo-Phu" not in r.text and hashlib.sha256(photo).hexdigest() not in r.text
        assert photo[:200] not in r.content and "giang" not in r.headers.get("content-disposition", "").lower()
        await api.session.rollback()  # the failed request's savepoint, trigger and all
        api.session.expunge_all()
        assert await _identity_reads(api, case.id) == after_download


async def _settled_denunciation(api: Api, **overrides: Any) -> tuple[Case, dict[str, Any]]:
    made = (await api.http.post(PUBLIC, json=denunciation(**overrides))).json()
    case = await api.session.scalar(sa.select(Case).where(Case.tracking_code == made["tracking_code"]))
    assert case is not None
    view = (await api.http.get(f"{V1}/cases/{case.id}", headers=await api.headers("xa.chutich"))).json()
    view = await act(api, "xa.chutich", view, "accept", decision_number="3/QĐ-TLTC")
    view = await act(api, "xa.chutich", view, "assign", handler_ids=[(await api.user("xa.xacminh")).id])
    await act(api, "xa.chutich", view, "resolve", outcome="false", decision_number="4/KL", reason="Không đúng")
    return case, made


async def test_a_rating_comment_is_sealed_at_rest(api: Api) -> None:
    """F6: a denouncer's comment on the rating (which may name them) is never in clear in any table; it opens
    under the identity keys. Every comment is sealed (a feedback's too)."""
    case, made = await _settled_denunciation(api)
    comment = "Tôi là Hầu Thị Dua, CCCD 015199001212, không đồng ý với kết luận"
    rated = await api.http.post(
        f"{PUBLIC}/{made['tracking_code']}/rating",
        headers={"X-Access-Key": made["access_key"]},
        json={"score": 1, "comment": comment},
    )
    assert rated.status_code == 204, rated.text
    for needle in ("Hầu Thị Dua", "015199001212", "không đồng ý với kết luận"):
        assert await tables_holding(api, needle) == [], needle
    stored = await api.session.scalar(sa.text("SELECT comment FROM case_ratings WHERE case_id = :c"), {"c": case.id})
    assert vault_for(SETTINGS).open(stored) == {"comment": comment}
    # The citizen still sees their score.
    seen = await api.http.get(f"{PUBLIC}/{made['tracking_code']}", headers={"X-Access-Key": made["access_key"]})
    assert seen.json()["rating"] == 1

    fb = (await api.http.post(PUBLIC, json=feedback())).json()
    await _settle(api, fb["tracking_code"])
    r = await api.http.post(
        f"{PUBLIC}/{fb['tracking_code']}/rating",
        headers={"X-Access-Key": fb["access_key"]},
        json={"score": 4, "comment": "Đèn đã sáng, cảm ơn Mùa A Chứ"},
    )
    assert r.status_code == 204, r.text
    assert await tables_holding(api, "Mùa A Chứ") == []


async def test_the_exact_position_of_a_citizens_letter_is_sealed(api: Api) -> None:
    """F7: the phone's exact position sent with a denunciation is sealed with the case's data, nothing of it in
    clear (not even a coarse one); a complaint, petition or feedback keeps only a coarse one (0.01°) in clear,
    its exact one sealed. Through Open311 too."""
    exact = {"commune_code": "04465", "lat": 22.4856123, "long": 103.9707123}
    den = (await api.http.post(PUBLIC, json=denunciation(location=exact))).json()
    complaint = denunciation(kind="complaint", field="land", location=exact, content="Khiếu nại thu hồi đất.")
    com = (await api.http.post(PUBLIC, json=complaint)).json()
    vault = vault_for(SETTINGS)
    for needle in ("22.4856", "103.9707", "22.486", "103.971"):
        assert await tables_holding(api, needle) == [], needle
    loc = await api.session.scalar(sa.select(Case.location).where(Case.tracking_code == den["tracking_code"]))
    assert loc is not None and set(loc) == {"commune_code", "sealed"} and loc["commune_code"] == "04465"
    assert vault.open(loc["sealed"]) == {"lat": 22.4856123, "long": 103.9707123}
    loc = await api.session.scalar(sa.select(Case.location).where(Case.tracking_code == com["tracking_code"]))
    assert loc is not None and (loc["lat"], loc["long"]) == (22.49, 103.97)
    assert vault.open(loc["sealed"]) == {"lat": 22.4856123, "long": 103.9707123}

    key = (
        await api.http.post(f"{V1}/open311/api-keys", headers=await api.headers("admin"), json={"name": "app"})
    ).json()["api_key"]
    form = {
        "api_key": key,
        "service_code": "denunciation.corruption",
        "lat": "22.3364171",
        "long": "104.1446891",
        "address_id": "04465",
        "description": "Tố cáo",
        "first_name": "Giàng A",
        "last_name": "Dìn",
        "attribute[id_number]": VALID_ID,
        "attribute[consent]": "true",
    }
    made = await api.http.post(f"{O311}/requests.json", data=form)
    assert made.status_code == 201, made.text
    for needle in ("22.3364", "104.1446", "22.34", "104.14"):
        assert await tables_holding(api, needle) == [], needle


def test_revision_0026_seals_comments_and_positions_written_in_clear_and_downgrade_opens_them(
    pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F6/F7 for rows written before the fix (the application role may not update a rating): revision 0026 seals
    them with the application's keys; a downgrade opens them again."""
    from alembic import command
    from tests.test_migrations import _config, _sql, _unit_and_desk_officer

    monkeypatch.setenv("IDENTITY_KEYS", SETTINGS.identity_keys or "")
    name = pg_server.create_database("tiepdan_citizen_seal")
    url = pg_server.url(name)

    def sql(statement: str) -> list[Any]:
        return _sql(url, statement)

    exact = {"commune_code": "04465", "lat": 22.4856123, "long": 103.9707123}
    try:
        config = _config(url)
        command.upgrade(config, "0025")
        _unit_and_desk_officer(sql)
        sql(
            "INSERT INTO cases (tracking_code, access_key_hash, kind, field, channel, title, content, received_at, "
            "receiving_unit_id, competent_unit_id, received_by_id, status, location) VALUES "
            "('T1', 'h1', 'denunciation', 'other', 'online', 't', 'c', '2026-11-02', 1, 1, 1, 'resolved', "
            """'{"commune_code": "04465", "lat": 22.4856123, "long": 103.9707123}'), """
            "('T2', 'h2', 'feedback', 'other', 'online', 't', 'c', '2026-11-02', 1, 1, 1, 'resolved', "
            """'{"commune_code": "04465", "lat": 22.4856123, "long": 103.9707123}')"""
        )
        sql(
            "INSERT INTO case_ratings (case_id, score, comment, rated_on) "
            "SELECT id, 1, 'Tôi là Hầu Thị Dua', '2026-11-20' FROM cases WHERE tracking_code = 'T1'"
        )
        command.upgrade(config, "0026")
        vault = vault_for(SETTINGS)
        (comment,) = sql("SELECT comment FROM case_ratings")[0]
        assert "Dua" not in comment and vault.open(comment) == {"comment": "Tôi là Hầu Thị Dua"}
        locations = dict(sql("SELECT kind, location FROM cases"))  # type: ignore[arg-type]
        den, fb = locations["denunciation"], locations["feedback"]
        assert set(den) == {"commune_code", "sealed"} and vault.open(den["sealed"]) == {
            "lat": 22.4856123,
            "long": 103.9707123,
        }
        assert (fb["lat"], fb["long"]) == (22.49, 103.97) and vault.open(fb["sealed"])["lat"] == 22.4856123
        assert "22.4856" not in str(sql("SELECT c::text FROM cases c"))
        command.downgrade(config, "0025")
        assert sql("SELECT comment FROM case_ratings")[0][0] == "Tôi là Hầu Thị Dua"
        assert [r[0] for r in sql("SELECT location FROM cases")] == [exact, exact]
    finally:
        pg_server.drop_database(name)


async def test_a_public_replay_with_another_contact_gets_no_access_key(api: Api) -> None:
    """F4: the same Idempotency-Key and device with the same letter but another person's contact does not hand
    back the first submitter's tracking code and access key (422 idempotency_key_reused); the same contact
    (typed with other spacing or case) still replays. The binding is a keyed MAC, erased with the fingerprint."""
    headers = {"Idempotency-Key": "abc12345", "X-Device-Id": "dev-victim-0001"}
    body = denunciation(contact={"full_name": "Người Thật", "id_number": "015190004321", "phone": "0911000111"})
    first = await api.http.post(PUBLIC, json=body, headers=headers)
    assert first.status_code == 201, first.text
    made = first.json()
    attacker = {**body, "contact": {"full_name": "Kẻ Tấn Công", "id_number": "015190009999"}}
    r = await api.http.post(PUBLIC, json=attacker, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused", r.text
    assert made["tracking_code"] not in r.text and made["access_key"] not in r.text
    # The real sender's retry, the name typed with other spacing and case: the first answer again.
    retried = {**body, "contact": {**body["contact"], "full_name": "  người   THẬT "}}
    again = await api.http.post(PUBLIC, json=retried, headers=headers)
    assert again.status_code == 201, again.text
    assert (again.json()["tracking_code"], again.json()["access_key"]) == (made["tracking_code"], made["access_key"])
    # An anonymous letter retried anonymously still replays.
    anon_headers = {"Idempotency-Key": "anon-key-0001", "X-Device-Id": "dev-anon-0001"}
    one = await api.http.post(PUBLIC, json=feedback(), headers=anon_headers)
    two = await api.http.post(PUBLIC, json=feedback(), headers=anon_headers)
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
    # The stored binding names nobody without the key: no plain hash of the contact is in the database.
    stored = await api.session.scalar(
        sa.select(Case.idempotency_fingerprint).where(Case.tracking_code == made["tracking_code"])
    )
    assert stored is not None
    for plain in ("Người Thật", "người thật", "015190004321", "0911000111"):
        assert hashlib.sha256(plain.encode()).hexdigest()[:32] not in stored
