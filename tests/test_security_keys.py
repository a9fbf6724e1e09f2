"""Keys are separated from data and a production start refuses weak ones (DESIGN.md operations contract:
setting SECRET_KEY and IDENTITY_KEYS is what makes a production start)."""

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from api.app import ConfigurationError, create_app
from api.settings import Settings

GOOD_SECRET = "Jq8w-Zr4t_Yp2u9Lm3Nb7Vc1Xk5Hg6Fd0Sa"
GOOD_IDENTITY = Fernet.generate_key().decode()
URL = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # never connected to: the start is refused first


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(database_url=URL, data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"secret_key": "change-me-to-a-long-random-string", "identity_keys": GOOD_IDENTITY}, "SECRET_KEY"),
        ({"secret_key": "short", "identity_keys": GOOD_IDENTITY}, "SECRET_KEY"),
        ({"secret_key": "a" * 40, "identity_keys": GOOD_IDENTITY}, "SECRET_KEY"),
        ({"secret_key": GOOD_SECRET}, "IDENTITY_KEYS is not set"),
        ({"identity_keys": GOOD_IDENTITY}, "SECRET_KEY is not set"),
        ({"secret_key": GOOD_SECRET, "identity_keys": "not-a-fernet-key"}, "IDENTITY_KEYS key 1"),
        ({"secret_key": GOOD_SECRET, "identity_keys": f"{GOOD_IDENTITY},{'A' * 43}="}, "IDENTITY_KEYS key 2"),
        ({"secret_key": GOOD_SECRET, "identity_keys": GOOD_IDENTITY, "chain_key": "changeme"}, "CHAIN_KEY"),
    ],
)
def test_a_production_start_with_a_missing_short_or_placeholder_key_is_refused(
    tmp_path: Path, values: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem) as refused:
        create_app(_settings(tmp_path, **values))
    for value in values.values():  # the refusal names the problem, never the key
        assert str(value) not in str(refused.value) or len(str(value)) < 8


def test_good_keys_start_and_a_development_start_generates_keys_outside_the_data_folder(tmp_path: Path) -> None:
    create_app(_settings(tmp_path, secret_key=GOOD_SECRET, identity_keys=GOOD_IDENTITY))
    dev = _settings(tmp_path)
    assert not dev.production and dev.key_problems() == []
    create_app(dev)
    secret, identity = dev.jwt_secret(), dev.identity_key_list()[0]
    assert (tmp_path / "keys" / "secret_key").read_text() == secret
    Fernet(identity.encode())  # a usable key
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*key*"))
    # The chain key is not the token key, and differs between deployments.
    assert dev.chain_secret() != secret.encode()
    other = _settings(tmp_path, secret_key=GOOD_SECRET, identity_keys=GOOD_IDENTITY)
    assert other.chain_secret() != dev.chain_secret()


def test_keys_generated_by_earlier_versions_in_the_data_folder_move_out_of_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    old = Fernet.generate_key().decode()
    (tmp_path / "data" / "identity_key").write_text(old)
    dev = _settings(tmp_path)
    assert dev.identity_key_list() == [old]  # identities sealed before the move still open
    assert not (tmp_path / "data" / "identity_key").exists()
    assert (tmp_path / "keys" / "identity_key").read_text() == old
