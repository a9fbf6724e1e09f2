"""Sign-in, tokens and the error body."""

import asyncio
import base64
import json
import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from jose import jwt

from api import security
from tests.conftest import SETTINGS, Api, Live

DEMO_PASSWORD = "LaoCai@2026demo"


async def sign_in(api: Api, username: str, password: str):
    return await api.http.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_sign_in_returns_a_working_jwt(api: Api) -> None:
    r = await sign_in(api, "tinh.tiepdan", DEMO_PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == SETTINGS.access_token_minutes * 60
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["iss"] == SETTINGS.jwt_issuer and claims["aud"] == SETTINGS.jwt_audience
    me = await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "tinh.tiepdan"
    assert me.json()["roles"] == ["desk_officer"]
    assert me.json()["unit"]["code"] == "15"


async def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    wrong = await sign_in(api, "tinh.tiepdan", "not-the-password")
    unknown = await sign_in(api, "nobody.here", "not-the-password")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_credentials"
    assert wrong.json() == unknown.json()


async def test_missing_form_fields_are_named(api: Api) -> None:
    r = await api.http.post("/api/v1/auth/token", data={"username": "x"})
    assert r.status_code == 422
    assert any(d["field"] == "password" for d in r.json()["error"]["details"])


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


async def _me(api: Api, token: str):
    return await api.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_bad_tokens_are_401(api: Api) -> None:
    user = await api.user("tinh.tiepdan")
    good, _ = security.create_access_token(SETTINGS, str(user.id))
    head, payload, sig = good.split(".")
    claims = jwt.get_unverified_claims(good)
    tampered = f"{head}.{_b64({**claims, 'sub': '1'})}.{sig}"
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    other_key = jwt.encode(claims, "some-other-secret-key-that-is-long", algorithm="HS256")
    expired, _ = security.create_access_token(SETTINGS, str(user.id), now=None, minutes=-1)
    wrong_aud = jwt.encode({**claims, "aud": "another-service"}, SETTINGS.jwt_secret(), algorithm="HS256")
    wrong_iss = jwt.encode({**claims, "iss": "someone-else"}, SETTINGS.jwt_secret(), algorithm="HS256")
    # Algorithm pinning: the right secret under another HMAC, and a token signed with an RSA key whose header
    # asks the verifier to use it (the RS/HS confusion family) are both refused.
    other_alg = jwt.encode(claims, SETTINGS.jwt_secret(), algorithm="HS512")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    rs256 = jwt.encode(claims, pem, algorithm="RS256", headers={"jwk": {"kty": "RSA"}})
    # …and an HS256 token keyed with that public key, as if the verifier would take the key from the token.
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    mac = base64.urlsafe_b64encode(hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest())
    confused = f"{signing_input}.{mac.decode().rstrip('=')}"
    bad = (tampered, alg_none, other_key, expired, wrong_aud, wrong_iss, other_alg, rs256, confused, "not.a.jwt", "")
    for token in bad:
        r = await _me(api, token)
        assert r.status_code == 401, token
        assert r.json()["error"]["code"] in {"invalid_token", "not_authenticated"}
        assert "WWW-Authenticate" in r.headers
    assert (await _me(api, good)).status_code == 200


async def test_no_token_is_401(api: Api) -> None:
    r = await api.http.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "details"}


async def test_deactivated_officer_token_stops_working(api: Api) -> None:
    headers = await api.headers("xa.xacminh")
    assert (await api.http.get("/api/v1/auth/me", headers=headers)).status_code == 200
    user = await api.user("xa.xacminh")
    r = await api.http.post(f"/api/v1/users/{user.id}/deactivate", headers=await api.headers("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await api.http.get("/api/v1/auth/me", headers=headers)).status_code == 401
    assert (await sign_in(api, "xa.xacminh", DEMO_PASSWORD)).status_code == 401


async def test_expiry_is_enforced_by_time(api: Api) -> None:
    user = await api.user("thanhtra")
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(hours=2)
    token, _ = security.create_access_token(SETTINGS, str(user.id), now=old)
    assert (await _me(api, token)).status_code == 401
    assert int(time.time()) > jwt.get_unverified_claims(token)["exp"]


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client calling from another address (the app's test overrides still apply)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://test")


async def test_guessing_one_account_is_throttled_without_locking_its_owner_out(api: Api, app: FastAPI) -> None:
    async with _from(app, "10.66.0.1") as attacker, _from(app, "10.20.0.2") as owner:
        form = {"username": "tinh.chutich", "password": "guess-again"}
        for _ in range(SETTINGS.login_max_failures):
            assert (await attacker.post("/api/v1/auth/token", data=form)).status_code == 401
        r = await attacker.post("/api/v1/auth/token", data={**form, "password": DEMO_PASSWORD})
        assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"
        assert 0 < int(r.headers["Retry-After"]) <= SETTINGS.login_window_minutes * 60
        # The officer, from an address that has not been failing, signs in.
        r = await owner.post("/api/v1/auth/token", data={**form, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text


async def test_password_spraying_across_usernames_is_limited_per_address(api: Api, app: FastAPI) -> None:
    async with _from(app, "10.66.0.3") as sprayer:
        for n in range(SETTINGS.login_max_per_address):
            r = await sprayer.post("/api/v1/auth/token", data={"username": f"nobody{n}", "password": "Password1"})
            assert r.status_code == 401
        r = await sprayer.post("/api/v1/auth/token", data={"username": "tinh.tiepdan", "password": DEMO_PASSWORD})
        assert r.status_code == 429


async def test_unknown_usernames_do_not_grow_the_audit_log(api: Api, app: FastAPI) -> None:
    count = sa.text("SELECT count(*) FROM audit_events")
    before = await api.session.scalar(count)
    async with _from(app, "10.66.0.4") as caller:
        for n in range(20):
            await caller.post("/api/v1/auth/token", data={"username": f"ghost-{n}", "password": "x" * 8})
        await caller.post("/api/v1/auth/token", data={"username": "thanhtra", "password": "wrong-one"})
    assert await api.session.scalar(count) == before + 1  # only the known account's failure, with its address
    row = (await api.session.execute(sa.text("SELECT payload FROM audit_events ORDER BY id DESC LIMIT 1"))).scalar_one()
    assert row == {"client": "10.66.0.4"}


async def test_forty_parallel_wrong_passwords_cannot_exceed_the_limit(live: Live) -> None:
    async with _from(live.app, "10.66.0.5") as attacker, _from(live.app, "10.20.0.6") as owner:
        form = {"username": "xa.tiepdan", "password": "wrong-password"}
        results = await asyncio.gather(*(attacker.post("/api/v1/auth/token", data=form) for _ in range(40)))
        codes = sorted(r.status_code for r in results)
        assert codes.count(401) == SETTINGS.login_max_failures and codes.count(429) == 40 - SETTINGS.login_max_failures
        assert (await owner.post("/api/v1/auth/token", data={**form, "password": DEMO_PASSWORD})).status_code == 200


async def test_a_token_already_seen_still_expires_on_time(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verified tokens are remembered by the process; their expiry is still checked on every request (time moved
    by the service's clock, api/clock.py, not waited for)."""
    from datetime import timedelta

    from api import clock

    user = await api.user("thanhtra")
    token, lifetime = security.create_access_token(SETTINGS, str(user.id))
    issued = clock.now()
    assert (await _me(api, token)).status_code == 200  # verified and remembered
    monkeypatch.setattr(clock, "now", lambda: issued + timedelta(seconds=lifetime - 5))
    assert (await _me(api, token)).status_code == 200  # still valid just before its expiry
    monkeypatch.setattr(clock, "now", lambda: issued + timedelta(seconds=lifetime + 1))
    assert (await _me(api, token)).status_code == 401


async def test_sign_out_and_a_password_change_revoke_earlier_tokens(api: Api) -> None:
    first = (await sign_in(api, "xa.xacminh", DEMO_PASSWORD)).json()["access_token"]
    second = (await sign_in(api, "xa.xacminh", DEMO_PASSWORD)).json()["access_token"]
    assert (await _me(api, first)).status_code == 200
    r = await api.http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 204
    assert (await _me(api, first)).status_code == 401 and (await _me(api, second)).status_code == 401
    fresh = (await sign_in(api, "xa.xacminh", DEMO_PASSWORD)).json()["access_token"]
    assert (await _me(api, fresh)).status_code == 200
    user = await api.user("xa.xacminh")
    admin = await api.headers("admin")
    r = await api.http.patch(f"/api/v1/users/{user.id}", headers=admin, json={"password": "Mat-khau-moi-2026"})
    assert r.status_code == 200
    r = await api.http.post(f"/api/v1/users/{user.id}/approve", headers=await api.headers("admin2"))
    assert r.status_code == 200  # another's password set by an admin takes effect when a second admin approves
    assert (await _me(api, fresh)).status_code == 401  # the old password's session is over


async def test_tokens_with_a_forged_lifetime_a_future_iat_or_no_audience_are_refused(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    user = await api.user("thanhtra")
    long_lived, _ = security.create_access_token(SETTINGS, str(user.id), minutes=SETTINGS.access_token_minutes * 24)
    future, _ = security.create_access_token(SETTINGS, str(user.id), now=datetime.now(UTC) + timedelta(hours=1))
    now = int(time.time())
    no_aud = jwt.encode(
        {"sub": str(user.id), "iss": SETTINGS.jwt_issuer, "iat": now, "exp": now + 600, "tv": 0},
        SETTINGS.jwt_secret(),
        algorithm="HS256",
    )
    for token in (long_lived, future, no_aud):
        assert (await _me(api, token)).status_code == 401


async def test_a_successful_sign_in_is_audited_with_the_client_address(api: Api) -> None:
    import sqlalchemy as sa

    from api.models.audit import AuditEvent

    assert (await sign_in(api, "thanhtra", DEMO_PASSWORD)).status_code == 200
    event = await api.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id.desc()).limit(1)
    )
    assert event is not None and event.entity_id == "thanhtra" and "client" in event.payload


def test_ecdsa_is_never_imported_at_runtime() -> None:
    """python-jose pulls in `ecdsa` (CVE-2024-23342, timing side channel) as a dependency; the service only
    uses HS256 through the `cryptography` backend, so the module must never be loaded by the service."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import api.main\n"
        "from api import security\n"
        "from tests.conftest import SETTINGS\n"
        "token, _ = security.create_access_token(SETTINGS, '1')\n"
        "security.decode_access_token(SETTINGS, token)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ecdsa'))\n"
    )
    env = {"DATABASE_URL": "postgresql+asyncpg://unused@127.0.0.1:1/none", "PATH": ""}
    out = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
