"""Attachments kept in PostgreSQL (issue 26): each file a run of chunks sealed under the identity keys, written and
read a chunk at a time (never whole in memory), a chunk moved or a file cut short refused, uploads and downloads
through the API landing in the table, and `python -m api migrate-attachments` moving the directory store's files in
(and back) without losing a byte."""

import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from api.services.citizen import blobs
from api.services.citizen.storage import LocalStorage, SealedStorage, build, new_key
from tests.conftest import SETTINGS, Live
from tests.helpers import V1, case_body

ROOT = Path(__file__).resolve().parents[1]
FERNET = Fernet((SETTINGS.identity_keys or "").encode())


def noise_png(width: int, height: int) -> bytes:
    """A real PNG of random pixels (incompressible: about width * height * 3 bytes, several chunks)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def files_in(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


async def _chunks(url: str, key: str) -> list[bytes]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT data FROM attachment_chunks WHERE key = :k ORDER BY seq"), {"k": key})
        found = [bytes(r.data) for r in rows]
    await engine.dispose()
    return found


async def _sql(url: str, statement: str, **params: object) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text(statement), params)
    await engine.dispose()


async def test_a_file_streams_in_as_sealed_chunks_and_back_out_in_order(live: Live) -> None:
    store = live.app.state.storage
    data = os.urandom(2 * blobs.CHUNK_BYTES + 12_345) + b"Vang Thi Khiet 015190007777"

    async def pieces() -> AsyncIterator[bytes]:  # as an upload arrives: pieces of any size
        for at in range(0, len(data), 100_000):
            yield data[at : at + 100_000]

    key = new_key()
    await store.put(key, pieces())
    stored = await _chunks(live.url, key)
    assert len(stored) == 3  # 256 KiB chunks: two whole and the rest
    for sealed in stored:  # sealed bytes only: neither the words nor a run of the file is in the table
        assert b"Khiet" not in sealed and b"015190007777" not in sealed and data[:64] not in sealed
        FERNET.decrypt(blobs.base64.urlsafe_b64encode(sealed))  # each chunk is a Fernet token of the identity keys
    opened = [chunk async for chunk in store.stream(key)]
    assert [len(c) for c in opened] == [blobs.CHUNK_BYTES, blobs.CHUNK_BYTES, len(data) - 2 * blobs.CHUNK_BYTES]
    assert b"".join(opened) == data == await store.get(key)
    await store.delete(key)
    assert await _chunks(live.url, key) == []
    with pytest.raises(FileNotFoundError):
        await store.get(key)


async def test_a_chunk_moved_altered_or_missing_does_not_open(live: Live) -> None:
    store = live.app.state.storage
    data = os.urandom(3 * blobs.CHUNK_BYTES)
    key, other = new_key(), new_key()
    await store.put(key, data)
    await store.put(other, data)
    # Swapped places within the file.
    await _sql(live.url, "UPDATE attachment_chunks SET seq = 9 - seq WHERE key = :k AND seq IN (0, 1)", k=key)
    await _sql(live.url, "UPDATE attachment_chunks SET seq = seq - 8 WHERE key = :k AND seq >= 8", k=key)
    with pytest.raises(ValueError, match="out of place"):
        await store.get(key)
    # A chunk of another file put in this one's place (same bytes, same keys: only the key in its seal differs).
    await _sql(live.url, "DELETE FROM attachment_chunks WHERE key = :k", k=key)
    await _sql(live.url, "UPDATE attachment_chunks SET key = :k WHERE key = :o", k=key, o=other)
    with pytest.raises(ValueError, match="out of place"):
        await store.get(key)
    # A file cut short: its last chunk gone.
    await store.put(other, data)
    await _sql(live.url, "DELETE FROM attachment_chunks WHERE key = :k AND seq = 2", k=other)
    with pytest.raises(ValueError, match="cut short"):
        await store.get(other)
    # One byte altered.
    await _sql(
        live.url,
        "UPDATE attachment_chunks SET data = set_byte(data, 40, get_byte(data, 40) # 1) WHERE key = :k",
        k=other,
    )
    with pytest.raises(ValueError, match="IDENTITY_KEYS"):
        await store.get(other)
    # Under other keys nothing opens.
    await store.delete(key)
    await store.put(key, b"x")
    strange = SealedStorage(blobs.PostgresBlobs(live.app.state.engine), SETTINGS.model_copy(
        update={"identity_keys": Fernet.generate_key().decode()}
    ))  # fmt: skip
    with pytest.raises(ValueError, match="IDENTITY_KEYS"):
        await strange.get(key)


async def test_a_large_file_is_never_whole_in_memory(live: Live) -> None:
    store = live.app.state.storage
    size = 16 * 1024 * 1024
    piece = os.urandom(64 * 1024)

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    key = new_key()
    tracemalloc.start()
    try:
        await store.put(key, upload())
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest, total = hashlib.sha256(), 0
        async for chunk in store.stream(key):
            digest.update(chunk)
            total += len(chunk)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and digest.hexdigest() == hashlib.sha256(piece * (size // len(piece))).hexdigest()
    # 16 MB went through each way; a few chunks (and their seals) at most were held at once.
    assert peak_in < 4 * 1024 * 1024, peak_in
    assert peak_out < 4 * 1024 * 1024, peak_out
    await store.delete(key)


async def test_an_upload_through_the_api_lands_in_the_database_and_downloads_whole(live: Live) -> None:
    assert SETTINGS.attachment_storage == "postgres"  # the default
    desk = await live.headers("tinh.tiepdan")
    r = await live.http.post(f"{V1}/cases", headers={**desk, "Idempotency-Key": "blob-api-1"}, json=case_body())
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    photo = noise_png(420, 300)  # about 380 KB: two chunks
    before = await asyncio.to_thread(files_in, Path(SETTINGS.attachments_dir or ""))
    up = await live.http.post(
        f"{V1}/cases/{case_id}/attachments", headers=desk, files={"file": ("ban-do-khu-dat.png", photo)}
    )
    assert up.status_code == 201, up.text
    engine = create_async_engine(live.url)
    async with engine.connect() as conn:
        key = await conn.scalar(sa.text("SELECT storage_key FROM attachments WHERE id = :i"), {"i": up.json()["id"]})
    await engine.dispose()
    assert len(await _chunks(live.url, key)) == 2
    assert await asyncio.to_thread(files_in, Path(SETTINGS.attachments_dir or "")) == before  # not on disk
    got = await live.http.get(f"{V1}/cases/{case_id}/attachments/{up.json()['id']}", headers=desk)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["x-content-sha256"] == hashlib.sha256(photo).hexdigest()


async def test_migrate_attachments_moves_the_directory_store_into_the_database_and_back(live: Live) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tiepdan-move-"))
    local_settings = SETTINGS.model_copy(update={"attachment_storage": "local", "attachments_dir": str(folder)})
    old = create_app(local_settings, database_url=live.url)  # a release that kept files on its disk
    photo = noise_png(300, 300)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=old), base_url="http://old") as http:
        token = await http.post(f"{V1}/auth/token", data={"username": "tinh.tiepdan", "password": "LaoCai@2026demo"})
        desk = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = await http.post(f"{V1}/cases", headers={**desk, "Idempotency-Key": "blob-move-1"}, json=case_body())
        case_id = r.json()["id"]
        up = await http.post(f"{V1}/cases/{case_id}/attachments", headers=desk, files={"file": ("a.png", photo)})
        assert up.status_code == 201, up.text
    await old.state.hot_pool.close()
    await old.state.engine.dispose()
    on_disk = sorted(await asyncio.to_thread(files_in, folder))
    assert len(on_disk) == 2  # the original and its stripped copy, each one sealed token
    key = on_disk[0].parent.name + "/" + on_disk[0].name
    assert await _chunks(live.url, key) == []

    def command(*args: str) -> str:
        env = {
            **os.environ,
            "DATABASE_URL": live.url,
            "ATTACHMENTS_DIR": str(folder),
            "IDENTITY_KEYS": SETTINGS.identity_keys or "",
            "SECRET_KEY": SETTINGS.secret_key or "",
        }
        done = subprocess.run(  # noqa: S603 - the project's own command
            [sys.executable, "-m", "api", "migrate-attachments", *args], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stderr.strip().splitlines()[-1]

    # Into the database; the files stay until asked (`--remove`), and a second run finds them there.
    assert command().startswith("2 files moved to PostgreSQL, ")
    assert len(await _chunks(live.url, key)) >= 1 and all(p.exists() for p in on_disk)
    # A later run with --remove: nothing to move, the sources (checked equal) removed; then nothing left to do.
    again = command("--remove")
    assert again.startswith("0 files moved to PostgreSQL, ") and again.endswith(", 0 missing (sources removed)")
    assert not any(p.exists() for p in on_disk)
    assert command().startswith("0 files moved to PostgreSQL, ")
    store = build(SETTINGS, live.app.state.engine)
    row_keys = await _keys(live.url, up.json()["id"])
    assert await store.get(row_keys[0]) == photo
    # And back to a directory (before a downgrade): the table emptied of them with --remove.
    assert " files moved to the directory store" in command("--to", "local", "--remove")
    assert await _chunks(live.url, key) == []
    assert await SealedStorage(LocalStorage(folder), SETTINGS).get(row_keys[0]) == photo


async def _keys(url: str, attachment_id: int) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT storage_key, copy_key FROM attachments WHERE id = :i"), {"i": attachment_id}
            )
        ).one()
    await engine.dispose()
    return [row.storage_key, row.copy_key]


async def test_files_kept_on_disk_before_the_move_are_still_served(live: Live) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tiepdan-legacy-"))
    key = new_key()
    await SealedStorage(LocalStorage(folder), SETTINGS).put(key, b"%PDF-1.4 old letter")
    store = build(SETTINGS.model_copy(update={"attachments_dir": str(folder)}), live.app.state.engine)
    assert await store.get(key) == b"%PDF-1.4 old letter"  # not in the table yet: read from the directory
    await store.delete(key)
    assert not (folder / key).exists()
