"""The long commands of `python -m api`, run as an operator runs them: a progress bar with an ETA on stderr, a
result line, and an exit status that says whether it worked (issue 14)."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import SETTINGS, Live
from tests.helpers import case_body

ROOT = Path(__file__).resolve().parent.parent


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(  # noqa: S603 - this interpreter, our own command line
        [sys.executable, "-m", "api", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


async def _count(url: str, sql: str) -> int:
    dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
    conn = await asyncpg.connect(dsn, **({"host": query.split("host=", 1)[1]} if "host=" in query else {}))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_import_units_from_a_file_with_a_progress_bar(live: Live, tmp_path: Path) -> None:
    good = tmp_path / "units.json"
    good.write_text(
        json.dumps(
            [
                {"code": "CLI-01", "name": "Ban Tiếp công dân thử", "level": "agency", "parent_code": "15"},
                {"code": "CLI-02", "name": "Tổ tiếp dân thử", "level": "agency", "parent_code": "CLI-01"},
            ]
        ),
        encoding="utf-8",
    )
    done = await asyncio.to_thread(_run, live.url, "import-units", str(good), "--as", "admin")
    assert done.returncode == 0, done.stderr
    assert "2 units created, 0 updated" in done.stderr and "import: 100%" in done.stderr and "2/2" in done.stderr
    assert await _count(live.url, "SELECT count(*) FROM units WHERE code LIKE 'CLI-%'") == 2
    # All or nothing: one bad row (its parent unknown) and nothing of the file is written.
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\nCLI-03,Tổ A,agency,15\nCLI-04,Tổ B,agency,NO-SUCH\n", encoding="utf-8")
    refused = await asyncio.to_thread(_run, live.url, "import-units", str(bad), "--as", "admin")
    assert refused.returncode != 0 and "nothing imported" in refused.stderr and "parent_code" in refused.stderr
    assert await _count(live.url, "SELECT count(*) FROM units WHERE code IN ('CLI-03', 'CLI-04')") == 0
    # Only an administrator may import.
    denied = await asyncio.to_thread(_run, live.url, "import-units", str(good), "--as", "xa.tiepdan")
    assert denied.returncode != 0 and "no active administrator" in denied.stderr


async def test_verify_events_and_checkpoint_report_progress_and_the_result(live: Live) -> None:
    headers = await live.headers("tinh.tiepdan")
    for _ in range(3):
        r = await live.http.post("/api/v1/cases", headers=headers, json=case_body())
        assert r.status_code == 201, r.text
    cases = await _count(live.url, "SELECT count(*) FROM cases")
    made = await asyncio.to_thread(_run, live.url, "checkpoint")
    assert made.returncode == 0, made.stderr
    assert "checkpoint" in made.stdout and f"{cases} cases" in made.stdout and "100%" in made.stderr
    verified = await asyncio.to_thread(_run, live.url, "verify-events")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip().endswith("valid") and "verify-events: 100%" in verified.stderr
