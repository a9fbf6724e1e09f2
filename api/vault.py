"""Sealing of secret identities (a denouncer's name, ID number, phone, address) at rest.

Sealed with Fernet (AES-128-CBC + HMAC-SHA256) under IDENTITY_KEYS; the database, its backups and
anyone with SQL access see only ciphertext. ID numbers also get a keyed fingerprint (HMAC-SHA256),
so the same person can be matched across letters without storing the number in clear; a protected party's
fingerprint is made under a key of its own, so that no SQL over the database alone joins a sealed identity to
the clear row of the same person in another case (it still matches that person's other protected letters).
Several keys
may be given (newest first) to rotate: the first seals, all open.
"""

import hashlib
import hmac
import json
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from api.errors import Code, DomainError
from api.settings import Settings

log = logging.getLogger(__name__)


class SealedDataError(DomainError, ValueError):
    """Sealed data that does not open under the configured keys (a wrong key, or a token altered: Fernet
    authenticates every token), or that opens to another text than the chain recorded: answered as a clear
    integrity error (409 sealed_data_invalid), never as the service's 500, and reported by verify-events."""

    def __init__(self, why: str) -> None:
        super().__init__(Code.sealed_data_invalid, details={"why": why})
        self.why = why


class Vault:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._fingerprint_key = hashlib.sha256(b"tiepdan-id-fingerprint:" + keys[-1].encode()).digest()
        self._protected_key = hashlib.sha256(b"tiepdan-protected-fingerprint:" + keys[-1].encode()).digest()

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            log.warning("sealed data does not open with the configured IDENTITY_KEYS (wrong key or altered token)")
            raise SealedDataError("does not open with the configured keys") from exc
        return opened

    def fingerprint(self, id_number: str, *, protected: bool = False) -> str:
        key = self._protected_key if protected else self._fingerprint_key
        return hmac.new(key, id_number.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _vault(keys: tuple[str, ...]) -> Vault:
    return Vault(keys)


def vault_for(settings: Settings) -> Vault:
    return _vault(tuple(settings.identity_key_list()))
