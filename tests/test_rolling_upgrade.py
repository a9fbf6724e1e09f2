"""Migrations that never stop the service (issue 26): the previous release's code — the tree of the commit before
this round's migrations (0029-0032) were reserved, taken out of git — runs against the schema at head (every
migration of this round applied, attachment_chunks among them), as it does while a rolling deployment replaces its
replicas one by one: it takes in letters, lists and reads cases, takes a citizen's submission and its attachment;
and the cases each release wrote are read by the other. Skipped where the git history is not there."""

import asyncio
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.conftest import SETTINGS, Databases
from tests.helpers import V1, case_body

pytestmark = pytest.mark.slow  # the old release in a process of its own: seconds

ROOT = Path(__file__).resolve().parents[1]
FIRST_NEW_MIGRATION = "alembic/versions/2026_12_06_0029_open311_key_quotas.py"


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    done = subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        pytest.skip(f"no git history here ({done.stderr.strip()[:120]})")
    return done.stdout.strip()


def previous_release() -> str:
    """The commit before the one that added this round's first migration (its head revision is 0028)."""
    added = _git("log", "--format=%H", "--diff-filter=A", "--", FIRST_NEW_MIGRATION).splitlines()
    if not added:
        pytest.skip(f"{FIRST_NEW_MIGRATION} has no history here (a shallow clone?)")
    return _git("rev-parse", f"{added[-1]}^")


@pytest.fixture(scope="module")
def old_tree() -> Iterator[Path]:
    commit = previous_release()
    folder = Path(tempfile.mkdtemp(prefix="tiepdan-previous-"))
    archive = folder / "tree.tar"
    _git("archive", "--format=tar", "-o", str(archive), commit, "api", "workflows", "alembic", "alembic.ini")
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "tree", filter="data")
    versions = sorted(p.name for p in (folder / "tree" / "alembic" / "versions").glob("*.py"))
    assert versions[-1].startswith("2026_12_06_0028_"), versions[-1]  # the release before this round's schema
    check = subprocess.run(  # noqa: S603 - the old tree really is what its process imports
        [sys.executable, "-c", "import api, sys; sys.stdout.write(api.__file__)"],
        cwd=folder / "tree", env={**os.environ, "PYTHONPATH": str(folder / "tree")}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert check.stdout.startswith(str(folder / "tree"))
    yield folder / "tree"
    shutil.rmtree(folder, ignore_errors=True)


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_old(tree: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),  # the old `api` package first, before the installed one (no venv of its own)
        "DATABASE_URL": url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "JOBS_ENABLED": "false",
        "DB_POOL_SIZE": "4",
        "ATTACHMENTS_DIR": tempfile.mkdtemp(prefix="tiepdan-previous-files-"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the previous release did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the previous release was not ready within 90 s")


@pytest.fixture
async def database(databases: Databases) -> AsyncIterator[str]:
    name, url = await databases.seeded("tiepdan_rolling")  # migrated to head by this release's code
    try:
        yield url
    finally:
        await databases.drop(name)


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post(f"{V1}/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_the_previous_release_serves_on_the_new_schema_beside_the_new_one(old_tree: Path, database: str) -> None:
    from tests.test_blob_storage import noise_png

    new = create_app(SETTINGS, database_url=database)
    port = _port()
    proc = await asyncio.to_thread(start_old, old_tree, database, port)
    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as old,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=new), base_url="http://new") as current,
        ):
            old_desk, new_desk = await _token(old, "tinh.tiepdan"), await _token(current, "tinh.tiepdan")
            # Intake on the previous release, and on this one.
            by_old = await old.post(
                f"{V1}/cases", headers={**old_desk, "Idempotency-Key": "rolling-old"}, json=case_body(title="Cũ viết")
            )
            assert by_old.status_code == 201, by_old.text
            by_new = await current.post(
                f"{V1}/cases", headers={**new_desk, "Idempotency-Key": "rolling-new"}, json=case_body(title="Mới viết")
            )
            assert by_new.status_code == 201, by_new.text
            # Each release lists and reads both.
            for client, desk in ((old, old_desk), (current, new_desk)):
                listed = await client.get(f"{V1}/cases", headers=desk)
                assert listed.status_code == 200, listed.text
                ids = {c["id"] for c in listed.json()["items"]}
                assert {by_old.json()["id"], by_new.json()["id"]} <= ids
                for made in (by_old, by_new):
                    read = await client.get(f"{V1}/cases/{made.json()['id']}", headers=desk)
                    assert read.status_code == 200 and read.json()["title"] == made.json()["title"]
            # The citizen channel on the previous release: a submission, its attachment, its status.
            sent = await old.post(
                f"{V1}/public/submissions",
                headers={"Idempotency-Key": "rolling-citizen", "X-Device-Id": "device-rolling"},
                json={"kind": "feedback", "field": "other", "content": "Đường vào bản bị sạt lở sau mưa.",
                      "location": {"commune_code": "04465"}, "consent": False},
            )  # fmt: skip
            assert sent.status_code == 201, sent.text
            key = {"X-Access-Key": sent.json()["access_key"]}
            code = sent.json()["tracking_code"]
            up = await old.post(
                f"{V1}/public/submissions/{code}/attachments", headers=key, files={"file": ("a.png", noise_png(40, 30))}
            )
            assert up.status_code == 201, up.text
            assert (await old.get(f"{V1}/public/submissions/{code}", headers=key)).status_code == 200
            assert (await current.get(f"{V1}/public/submissions/{code}", headers=key)).status_code == 200
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
        await new.state.intake_writer.close()
        await new.state.hot_pool.close()
        await new.state.engine.dispose()
