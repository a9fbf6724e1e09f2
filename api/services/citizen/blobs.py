"""Attachment bytes in PostgreSQL (ATTACHMENT_STORAGE=postgres, the default): each file a run of chunks in
`attachment_chunks`, each chunk sealed on its own under the identity keys (Fernet, as the directory store seals a
whole file), written and read a chunk at a time — a file is never whole in memory here. A chunk's seal also holds
its file's key, its place and whether it is the last, so a chunk moved to another file or place, or a file cut
short, does not open. All chunks of a file are written in one transaction (a file is there whole or not at all).

`migrate` moves the files of the directory store (ATTACHMENTS_DIR) into the table, or back (`--to local`)."""

import asyncio
import base64
import struct
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from api.services.citizen.storage import LocalStorage

CHUNK_BYTES = 256 * 1024
_MAGIC = b"TDC1"
_HEAD = struct.Struct(">4sIB")  # magic, place in the file, last chunk (1) or not (0); then the file's key

_INSERT = sa.text("INSERT INTO attachment_chunks (key, seq, data) VALUES (:key, :seq, :data)")
_READ = sa.text("SELECT data FROM attachment_chunks WHERE key = :key AND seq = :seq")


class PostgresBlobs:
    """The chunk table, through the service's engine (the application role). Holds a pooled connection only
    for one statement at a time while reading, so a slow download does not keep a connection from the others."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        async with self.engine.begin() as conn:
            seq = 0
            async for chunk in chunks:
                await conn.execute(_INSERT, {"key": key, "seq": seq, "data": chunk})
                seq += 1

    async def read(self, key: str) -> AsyncIterator[bytes]:
        seq = 0
        while True:
            async with self.engine.connect() as conn:
                data = await conn.scalar(_READ, {"key": key, "seq": seq})
            if data is None:
                if seq == 0:
                    raise FileNotFoundError(key)
                return
            yield bytes(data)
            seq += 1

    async def exists(self, key: str) -> bool:
        async with self.engine.connect() as conn:
            return bool(await conn.scalar(_READ, {"key": key, "seq": 0}))

    async def delete(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM attachment_chunks WHERE key = :key"), {"key": key})


async def rechunk(data: bytes | AsyncIterable[bytes], size: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
    """Pieces of any sizes as chunks of `size` bytes (the last shorter); at most one chunk and one piece held."""
    if isinstance(data, bytes):
        for at in range(0, len(data), size):
            yield data[at : at + size]
        return
    pending = bytearray()
    async for piece in data:
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def _head(key: str, seq: int, last: bool) -> bytes:
    return _HEAD.pack(_MAGIC, seq, int(last)) + key.encode()


def _seal(fernet: MultiFernet, key: str, seq: int, last: bool, chunk: bytes) -> bytes:
    return base64.urlsafe_b64decode(fernet.encrypt(_head(key, seq, last) + chunk))


async def sealed_chunks(fernet: MultiFernet, key: str, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Each chunk sealed with its place and key, the last one marked (one chunk read ahead to know it); an empty
    file is one empty last chunk."""
    seq, held = 0, None
    async for chunk in chunks:
        if held is not None:
            yield await asyncio.to_thread(_seal, fernet, key, seq, False, held)
            seq += 1
        held = chunk
    yield await asyncio.to_thread(_seal, fernet, key, seq, True, held or b"")


def _open(fernet: MultiFernet, key: str, seq: int, sealed: bytes) -> tuple[bool, bytes]:
    try:
        plain = fernet.decrypt(base64.urlsafe_b64encode(sealed))
    except InvalidToken as exc:
        raise ValueError("attachment cannot be opened with the configured IDENTITY_KEYS") from exc
    head = plain[: _HEAD.size + len(key)]
    magic, place, last = _HEAD.unpack(head[: _HEAD.size])
    if magic != _MAGIC or place != seq or head[_HEAD.size :] != key.encode():
        raise ValueError("attachment chunk out of place")
    return bool(last), plain[len(head) :]


async def opened_chunks(fernet: MultiFernet, key: str, sealed: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The file's bytes a chunk at a time; ValueError for a chunk that does not open or is out of place, a chunk
    after the last, or a file that ends without its last chunk."""
    seq, ended = 0, False
    async for chunk in sealed:
        if ended:
            raise ValueError("attachment has chunks after its last")
        ended, plain = await asyncio.to_thread(_open, fernet, key, seq, chunk)
        seq += 1
        yield plain
    if not ended:
        raise ValueError("attachment is cut short")


async def migrate(
    engine: AsyncEngine, fernet: MultiFernet, root: Path, *, to_local: bool, remove: bool, step: Callable[[int], object]
) -> dict[str, int]:
    """Every file the `attachments` rows name (original and copy), moved between the directory store under
    `root` and the chunk table, checked by reading it back opened before the source is removed (`remove`).
    Idempotent: a file already at the destination is left as it is. Counts: moved, already there, missing."""
    from api.services.citizen.storage import LocalStorage

    table, local = PostgresBlobs(engine), LocalStorage(root)
    counts = {"moved": 0, "present": 0, "missing": 0}
    last = 0
    while True:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.text("SELECT id, storage_key, copy_key FROM attachments WHERE id > :last ORDER BY id LIMIT 500"),
                    {"last": last},
                )
            ).all()
        if not rows:
            return counts
        for row in rows:
            last = row.id
            for key in (row.storage_key, row.copy_key):
                if key is not None:
                    counts[await _move(table, local, fernet, key, to_local=to_local, remove=remove)] += 1
            step(1)


async def _move(
    table: PostgresBlobs, local: "LocalStorage", fernet: MultiFernet, key: str, *, to_local: bool, remove: bool
) -> str:
    in_table = await table.exists(key)
    on_disk = await asyncio.to_thread(local._path(key).exists)
    there, source = (on_disk, in_table) if to_local else (in_table, on_disk)
    if there and source and remove:  # moved by an earlier run: the source goes once both open the same
        kept = b"".join([c async for c in opened_chunks(fernet, key, table.read(key))])
        if kept != await asyncio.to_thread(fernet.decrypt, await local.get(key)):
            raise ValueError(f"{key}: the two copies differ")
        await (table.delete(key) if to_local else local.delete(key))
    if there:
        return "present"
    if not source:
        return "missing"
    if to_local:  # the directory store holds one token per file: the file whole, one at a time
        plain = b"".join([c async for c in opened_chunks(fernet, key, table.read(key))])
        await local.put(key, await asyncio.to_thread(fernet.encrypt, plain))
        if await asyncio.to_thread(fernet.decrypt, await local.get(key)) != plain:
            raise ValueError(f"{key}: read back differs")
        if remove:
            await table.delete(key)
        return "moved"
    plain = await asyncio.to_thread(fernet.decrypt, await local.get(key))
    await table.write(key, sealed_chunks(fernet, key, rechunk(plain)))
    if b"".join([c async for c in opened_chunks(fernet, key, table.read(key))]) != plain:
        raise ValueError(f"{key}: read back differs")
    if remove:
        await local.delete(key)
    return "moved"
