"""Issue 21, keys: at start the service checks that its keys open the data already there (check values written
on the first start) and refuses to start, naming the key, when they do not; a rotation of IDENTITY_KEYS (the new
key first, the old one still listed) starts; the command line's verify-events refuses likewise."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from api.app import ConfigurationError, create_app
from api.db import make_engine
from api.services.cases import trail
from api.settings import Settings
from tests.conftest import SETTINGS, Databases
from tests.helpers import case_body

OTHER_SECRET = "Zx9-Other_Secret_Key_4u7Rt2Wq8Lp3Nm6Vb"
OTHER_IDENTITY = Fernet.generate_key().decode()
OTHER_CHAIN = "An0ther-Chain-Key_7Hj2Kl9Mn4Bv6Cx1Zq8"


@pytest.fixture(scope="module")
async def database(databases: Databases) -> AsyncIterator[str]:
    name, url = await databases.seeded("tiepdan_keys")
    yield url
    await databases.drop(name)


async def _start(settings: Settings, url: str) -> None:
    """Start the app (its lifespan) and stop it again."""
    try:
        app = create_app(settings, database_url=url)
        async with app.router.lifespan_context(app):
            pass
    finally:
        trail.configure(SETTINGS.chain_secret())  # create_app set this process's chain key to the one tried


async def _checks(url: str) -> dict[str, str]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT kind, value FROM key_checks"))).all()
    await engine.dispose()
    return {kind: value for kind, value in rows}


async def test_the_first_start_writes_check_values_and_a_start_with_other_keys_is_refused_naming_the_key(
    database: str,
) -> None:
    await _start(SETTINGS, database)
    checks = await _checks(database)
    assert set(checks) == {"secret_key", "identity_keys", "identity_fingerprint", "chain_key"}
    for value in checks.values():  # no key can be read from them
        assert SETTINGS.secret_key not in value and (SETTINGS.identity_keys or "") not in value
    await _start(SETTINGS, database)  # the same keys start again
    cases = [
        ({"identity_keys": OTHER_IDENTITY}, "IDENTITY_KEYS"),
        ({"secret_key": OTHER_SECRET}, "SECRET_KEY"),
        ({"chain_key": OTHER_CHAIN}, "CHAIN_KEY"),
    ]
    for change, key in cases:
        with pytest.raises(ConfigurationError, match=key) as refused:
            await _start(SETTINGS.model_copy(update=change), database)
        message = str(refused.value)
        assert "refusing to start" in message
        for value in change.values():
            assert value not in message  # named, never shown
    # Another SECRET_KEY with CHAIN_KEY unset also changes the chain key derived from it: both are named.
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY.*CHAIN_KEY \(unset: derived from SECRET_KEY\)"):
        await _start(SETTINGS.model_copy(update={"secret_key": OTHER_SECRET}), database)
    assert await _checks(database) == checks  # a refused start changes nothing


async def test_a_rotation_of_identity_keys_with_the_old_key_still_listed_starts(database: str) -> None:
    await _start(SETTINGS, database)
    rotated = SETTINGS.model_copy(update={"identity_keys": f"{OTHER_IDENTITY},{SETTINGS.identity_keys}"})
    await _start(rotated, database)
    # The old key dropped: the data sealed under it no longer opens, and the ID fingerprints (derived from the
    # last key listed) changed: refused, naming IDENTITY_KEYS.
    with pytest.raises(ConfigurationError, match="IDENTITY_KEYS"):
        await _start(SETTINGS.model_copy(update={"identity_keys": OTHER_IDENTITY}), database)


async def test_a_first_start_on_data_written_under_other_keys_is_refused(databases: Databases) -> None:
    """A database with cases but no check values yet (written before they existed): its sealed identities and
    chains are tried, so that a first start with other keys does not record them as the right ones."""
    name, url = await databases.seeded("tiepdan_keys_old")
    try:
        app = create_app(SETTINGS, database_url=url)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://keys") as http,
        ):
            r = await http.post("/api/v1/auth/token", data={"username": "tinh.tiepdan", "password": "LaoCai@2026demo"})
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            denouncer = {"role": "denouncer", "full_name": "Lý Văn Páo", "id_number": "015090009999"}
            r = await http.post(
                "/api/v1/cases", headers=h, json=case_body(kind="denunciation", field="corruption", parties=[denouncer])
            )
            assert r.status_code == 201, r.text
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM key_checks"))  # as before migration 0023's values
        await engine.dispose()
        with pytest.raises(ConfigurationError, match="IDENTITY_KEYS") as refused:
            await _start(SETTINGS.model_copy(update={"identity_keys": OTHER_IDENTITY}), url)
        assert "CHAIN_KEY" not in str(refused.value)
        with pytest.raises(ConfigurationError, match="CHAIN_KEY"):
            await _start(SETTINGS.model_copy(update={"chain_key": OTHER_CHAIN}), url)
        assert await _checks(url) == {}
        await _start(SETTINGS, url)
        assert len(await _checks(url)) == 4
    finally:
        await databases.drop(name)


async def test_a_development_start_logs_where_its_keys_are_kept(
    database: str, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    from pathlib import Path

    keys_dir = Path(str(tmp_path)) / "dev-keys"
    dev = SETTINGS.model_copy(update={"secret_key": None, "identity_keys": None, "keys_dir": keys_dir})
    with (
        caplog.at_level(logging.WARNING, logger="api.services.keychecks"),
        pytest.raises(ConfigurationError),  # this database was written with the test keys
    ):
        await _start(dev, database)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(keys_dir) in logged
    for key in (dev.jwt_secret(), dev.identity_key_list()[0]):
        assert key not in logged
