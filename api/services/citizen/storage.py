"""Where attachment bytes are kept: a small interface (`Storage`: put, get, delete by key; local disk by
default, an S3-compatible store can implement the same three methods), and `SealedStorage` around any of them,
which seals every file and the row's small metadata under the identity keys before it leaves the process. Keys
are random (`new_key`), never the uploader's name. The application builds one at start-up (`app.state.storage`)."""

import asyncio
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from api.settings import Settings


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one directory, named by a random key (never by what the uploader called them)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not re.fullmatch(r"[a-f0-9]{2}/[a-f0-9]{40}", key):
            raise ValueError("not a storage key")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


class SealedStorage:
    """Any `Storage`, with every file sealed (Fernet under IDENTITY_KEYS, newest first seals, all open) before it
    leaves the process: the attachment store and its backups hold no readable byte. Also seals and opens the
    small metadata kept in the row (the uploader's file name, the original's SHA-256)."""

    def __init__(self, inner: Storage, settings: Settings) -> None:
        self.inner = inner
        self._fernet = MultiFernet([Fernet(k.encode()) for k in settings.identity_key_list()])

    async def put(self, key: str, data: bytes) -> None:
        sealed = await asyncio.to_thread(self._fernet.encrypt, data)
        await self.inner.put(key, sealed)

    async def get(self, key: str) -> bytes:
        sealed = await self.inner.get(key)
        try:
            return await asyncio.to_thread(self._fernet.decrypt, sealed)
        except InvalidToken as exc:
            raise ValueError("attachment cannot be opened with the configured IDENTITY_KEYS") from exc

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    def seal(self, meta: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(meta, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("attachment metadata cannot be opened with the configured IDENTITY_KEYS") from exc
        return opened


def new_key() -> str:
    key = secrets.token_hex(20)
    return f"{key[:2]}/{key}"
