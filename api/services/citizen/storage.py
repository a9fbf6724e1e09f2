"""Where attachment bytes are kept: a small interface (`Storage`: put, get, delete by key), and `SealedStorage`
around a store, which seals every file and the row's small metadata under the identity keys before it leaves the
process. Two stores (ATTACHMENT_STORAGE): `postgres` (the default; `blobs.PostgresBlobs`, each file a run of sealed
chunks in `attachment_chunks`, written and read a chunk at a time, so every replica, backup and read replica holds
it) and `local` (one sealed file per key under a directory; one process's disk). An S3-compatible store would
implement the same three methods (not shipped: untested here, see the README). Keys are random (`new_key`), never
the uploader's name. The application builds one at start-up (`build`, `app.state.storage`)."""

import asyncio
import json
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncEngine

from api.services.citizen import blobs
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


Data = bytes | AsyncIterable[bytes]


class SealedStorage:
    """A store, with every file sealed (Fernet under IDENTITY_KEYS, newest first seals, all open) before it leaves
    the process: the attachment store and its backups hold no readable byte. With a chunked store (`PostgresBlobs`)
    each chunk is sealed on its own as it streams by (`put` takes bytes or an async iterable of bytes, `stream`
    gives the opened chunks); a whole-file store (`LocalStorage`) holds one token per file. `legacy`: a directory
    store still read (and deleted from) for files not yet moved into the chunked one (`migrate-attachments`).
    Also seals and opens the small metadata kept in the row (the uploader's file name, the original's SHA-256)."""

    def __init__(self, inner: "Storage | blobs.PostgresBlobs", settings: Settings, legacy: Storage | None = None):
        self.inner = inner
        self.legacy = legacy
        self._fernet = MultiFernet([Fernet(k.encode()) for k in settings.identity_key_list()])

    async def put(self, key: str, data: Data) -> None:
        if isinstance(self.inner, blobs.PostgresBlobs):
            await self.inner.write(key, blobs.sealed_chunks(self._fernet, key, blobs.rechunk(data)))
            return
        whole = data if isinstance(data, bytes) else b"".join([piece async for piece in data])
        sealed = await asyncio.to_thread(self._fernet.encrypt, whole)
        await self.inner.put(key, sealed)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes a chunk at a time (FileNotFoundError if there is none); a chunk out of place, altered
        or missing, or a file cut short, raises ValueError."""
        if isinstance(self.inner, blobs.PostgresBlobs):
            try:
                async for chunk in blobs.opened_chunks(self._fernet, key, self.inner.read(key)):
                    yield chunk
                return
            except FileNotFoundError:
                if self.legacy is None:
                    raise
            yield await self._open_whole(self.legacy, key)
            return
        yield await self._open_whole(self.inner, key)

    async def _open_whole(self, store: Storage, key: str) -> bytes:
        sealed = await store.get(key)
        try:
            return await asyncio.to_thread(self._fernet.decrypt, sealed)
        except InvalidToken as exc:
            raise ValueError("attachment cannot be opened with the configured IDENTITY_KEYS") from exc

    async def get(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.stream(key)])

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)
        if self.legacy is not None:
            await self.legacy.delete(key)

    def seal(self, meta: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(meta, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("attachment metadata cannot be opened with the configured IDENTITY_KEYS") from exc
        return opened


def directory(settings: Settings) -> Path:
    """The directory store's folder: ATTACHMENTS_DIR, or <DATA_DIR>/attachments."""
    return Path(settings.attachments_dir) if settings.attachments_dir else settings.data_dir / "attachments"


def build(settings: Settings, engine: AsyncEngine) -> SealedStorage:
    """The store ATTACHMENT_STORAGE names, sealed. `postgres` also reads the directory store, when its folder
    exists, for the files kept there before (until `migrate-attachments` has moved them)."""
    local = LocalStorage(directory(settings))
    if settings.attachment_storage == "local":
        return SealedStorage(local, settings)
    legacy = local if directory(settings).is_dir() else None
    return SealedStorage(blobs.PostgresBlobs(engine), settings, legacy=legacy)


def new_key() -> str:
    key = secrets.token_hex(20)
    return f"{key[:2]}/{key}"
