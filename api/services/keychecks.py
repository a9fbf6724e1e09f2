"""Key check values: does this process hold the keys the data already in the database was written with?

On its first start the service writes, for each kind of key, a value that only that key makes (an HMAC of a
constant, or for the sealing keys a Fernet token of a constant) into `key_checks` (migration 0023; the application
role may add rows, never change them). Every later start (and `verify-events`, `checkpoint`, `jobs`) recomputes
them and refuses to run, naming the key, when one does not match — instead of answering 500 on every protected
case and writing chain events that would report tampering forever after. No key can be read back from a value.

Rotation of IDENTITY_KEYS (a new key listed first, the old ones still listed) passes: every listed key opens, the
ID fingerprints are derived from the last key listed, which stays.
"""

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import locks
from api.models.keys import KeyCheck
from api.settings import Settings
from api.vault import vault_for

log = logging.getLogger(__name__)
CONSTANT = b"tiepdan-key-check-v1"


def _mac(key: bytes, kind: str) -> str:
    return hmac.new(key, CONSTANT + b":" + kind.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Kind:
    name: str  # the key as an operator knows it (never the key itself)
    make: Callable[[], str]
    holds: Callable[[str], bool]


def _opens(keys: list[str], token: str, plain: bytes | None = CONSTANT) -> bool:
    """The token opens under one of the keys (to `plain`, unless None)."""
    try:
        opened = MultiFernet([Fernet(k.encode()) for k in keys]).decrypt(token.encode())
    except (InvalidToken, ValueError):
        return False
    return plain is None or opened == plain


def kinds(settings: Settings) -> dict[str, Kind]:
    """Every key kind checked, by its row in key_checks."""
    secret = settings.jwt_secret().encode()
    chain = settings.chain_secret()
    identity = settings.identity_key_list()
    vault = vault_for(settings)
    fingerprint = vault.fingerprint(CONSTANT.decode())

    def keyed(key: bytes, kind: str) -> Callable[[str], bool]:
        return lambda value: hmac.compare_digest(value, _mac(key, kind))

    chain_name = "CHAIN_KEY" if settings.chain_key else "CHAIN_KEY (unset: derived from SECRET_KEY)"
    return {
        "secret_key": Kind("SECRET_KEY", lambda: _mac(secret, "secret_key"), keyed(secret, "secret_key")),
        "identity_keys": Kind(
            "IDENTITY_KEYS (none of the keys listed sealed the data already there)",
            lambda: Fernet(identity[0].encode()).encrypt(CONSTANT).decode(),
            lambda value: _opens(identity, value),
        ),
        "identity_fingerprint": Kind(
            "IDENTITY_KEYS (the last key listed changed: ID-number fingerprints, the search word index and the "
            "Idempotency-Key fingerprints are derived from it)",
            lambda: fingerprint,
            lambda value: hmac.compare_digest(value, fingerprint),
        ),
        "chain_key": Kind(chain_name, lambda: _mac(chain, "chain_key"), keyed(chain, "chain_key")),
    }


async def _wrong(session: AsyncSession, settings: Settings) -> tuple[list[str], list[str]]:
    """(the kinds whose key does not match, the kinds with no check value yet). A kind with no value is tried
    against a sample of the data (`_data_written_before`)."""
    checks = kinds(settings)
    rows: dict[str, str] = dict((await session.execute(sa.select(KeyCheck.kind, KeyCheck.value))).tuples().all())
    missing = [k for k in checks if k not in rows]
    wrong = [k for k, check in checks.items() if k in rows and not check.holds(rows[k])]
    wrong += await _data_written_before(session, settings, set(missing))
    return wrong, missing


async def mismatched(session: AsyncSession, settings: Settings) -> list[str]:
    """The names of the keys that do not open the data already in the database (read only)."""
    checks = kinds(settings)
    return [checks[k].name for k in (await _wrong(session, settings))[0]]


async def ensure(session: AsyncSession, settings: Settings) -> list[str]:
    """The names of the keys that do not open the data already in the database (empty: this process may run);
    when they all do, the check values of the kinds not yet there are written (the first start)."""
    checks = kinds(settings)
    await locks.hold(session, locks.Lock.key_checks)
    wrong, missing = await _wrong(session, settings)
    if wrong:  # nothing written
        await session.rollback()
        return [checks[k].name for k in wrong]
    if missing:
        values = [{"kind": k, "value": checks[k].make()} for k in missing]
        await session.execute(insert(KeyCheck).values(values).on_conflict_do_nothing(index_elements=["kind"]))
    await session.commit()
    return []


async def _data_written_before(session: AsyncSession, settings: Settings, kinds_missing: set[str]) -> list[str]:
    """For a database that has data but no check value yet: the kinds whose key does not open a sample of it (a
    sealed identity, the first event of a chain), so that a first start with other keys records nothing."""
    from api.models.cases import CaseEvent, CaseParty
    from api.services.cases import trail

    wrong = []
    if "identity_keys" in kinds_missing:
        sealed = await session.scalar(sa.select(CaseParty.sealed).where(CaseParty.sealed.is_not(None)).limit(1))
        if sealed is not None and not _opens(settings.identity_key_list(), sealed, plain=None):
            wrong.append("identity_keys")
    if "identity_fingerprint" in kinds_missing:  # a party in clear keeps its ID number beside its fingerprint
        clear = (
            await session.execute(
                sa.select(CaseParty.id_number, CaseParty.id_number_hash)
                .where(CaseParty.sealed.is_(None), CaseParty.id_number.is_not(None))
                .where(CaseParty.id_number_hash.is_not(None))
                .limit(1)
            )
        ).first()
        if clear is not None and not hmac.compare_digest(vault_for(settings).fingerprint(clear[0]), clear[1]):
            wrong.append("identity_fingerprint")
    if "chain_key" in kinds_missing:
        first = await session.scalar(sa.select(CaseEvent).where(CaseEvent.seq == 1).limit(1))
        if first is not None:
            if not hmac.compare_digest(trail.digest(trail.GENESIS, first, settings.chain_secret()), first.hash):
                wrong.append("chain_key")
            session.expunge(first)
    return wrong


def refusal(names: list[str]) -> str:
    return (
        "refusing to start: these keys do not open the data already in this database: "
        + "; ".join(names)
        + ". Start with the keys it was written with (to rotate IDENTITY_KEYS, list the new key first and keep the "
        "old ones listed); see docs/confidentiality.md, 'Keys and backups'"
    )


async def at_start(maker: async_sessionmaker[AsyncSession], settings: Settings) -> list[str]:
    """The service's start: where development keys are kept (logged, never the keys), then `ensure`."""
    if not settings.production:
        log.warning(
            "development keys (SECRET_KEY and IDENTITY_KEYS unset) are kept in %s: the database cannot be opened "
            "without them, and they are not in the data folder",
            settings.keys_dir,
        )
    async with maker() as session:
        return await ensure(session, settings)
