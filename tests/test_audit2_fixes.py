"""The outside audit 2's findings on the production shape and the backups, each reproduced and shown closed.

- The balancer's log (deploy/haproxy.cfg) carries no client address or port, no request line, path or query string
  (tracking codes, an Open311 api_key): real HAProxy, its log read back.
- The balancer speaks HTTPS only and sets X-Forwarded-Proto itself: real HAProxy with a throw-away certificate, the
  client's own header overwritten, :80 answering only a redirect.
- `python -m api backup` (psql, pg_basebackup) and `pgtools.replicate` never put the owner's password on a command
  line (/proc/<pid>/cmdline, readable by every local account): it goes in the child's environment (PGPASSWORD).
- A denunciation sealed in place (`seal-existing`, the jobs round) leaves its clear text in the table's pages, which
  a base backup copies: `backup` refuses until `seal-existing` (as the owner) has rewritten the tables, and the
  backup taken after holds no byte of the clear text (a cluster of its own; slow)."""

import asyncio
import http.server
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import TODAY, V1, case_body
from tests.test_deploy import self_signed_certificate
from tests.test_replicas import HAPROXY, balancer_config

PASSWORD = "Owner-Passw0rd-Secret"
TRACKING = "TD-2026-ABCDEF"
OPEN311_KEY = "OPEN311-SECRET-KEY-123"


# ---- the balancer ----


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Echo(http.server.BaseHTTPRequestHandler):
    """A replica stand-in: 200, and the X-Forwarded-Proto it was given (the scheme a replica would believe)."""

    def _ok(self) -> None:
        body = (self.headers.get("X-Forwarded-Proto") or "-").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._ok()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._ok()

    def log_message(self, *args: Any) -> None:
        pass


def _balancer(tmp_path: Path, **options: Any) -> tuple[Path, int, Any]:
    """(the log file, the listening port, a context manager running HAProxy over two Echo replicas)."""
    import contextlib

    backends = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo) for _ in range(2)]
    listen = _port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(balancer_config(listen, [b.server_address[1] for b in backends], **options))
    log = tmp_path / "haproxy.log"

    @contextlib.contextmanager
    def running() -> Any:
        assert HAPROXY is not None
        for b in backends:
            threading.Thread(target=b.serve_forever, daemon=True).start()
        with log.open("wb") as out:
            proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            for b in backends:
                b.shutdown()
                b.server_close()

    return log, listen, running()


def _until_up(base: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(f"{base}/readyz", timeout=0.5, verify=False).status_code == 200:  # noqa: S501
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the balancer did not answer on {base}")


def _calls(base: str) -> None:
    """A citizen's letter, an Open311 listing with its key, a denouncer checking their letter by tracking code."""
    with httpx.Client(base_url=base, timeout=2, verify=False) as client:  # noqa: S501 - a throw-away certificate
        assert client.post("/api/v1/public/submissions", json={"kind": "denunciation"}).status_code == 200
        assert client.get(f"/open311/v2/requests.json?api_key={OPEN311_KEY}").status_code == 200
        assert client.get(f"/api/v1/public/submissions/{TRACKING}", headers={"X-Access-Key": "k"}).status_code == 200


def _assert_log_tells_nothing(log: Path) -> list[str]:
    time.sleep(0.2)  # the last line written by HAProxy after its answer
    text = log.read_text(errors="replace")
    assert TRACKING not in text, "a tracking code in the balancer's log"
    assert OPEN311_KEY not in text and "api_key" not in text, "a query string in the balancer's log"
    assert "/api/v1/public" not in text and "/open311" not in text, "a request path in the balancer's log"
    assert "127.0.0.1" not in text, "the client's address in the balancer's log"
    lines = [line for line in text.splitlines() if " GET " in line or " POST " in line]
    assert len(lines) >= 3, text  # a line per request: the log is on, and read
    return lines


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_the_shipped_balancer_logs_no_client_address_tracking_code_or_query(tmp_path: Path) -> None:
    """The audit's reproduction: deploy/haproxy.cfg on loopback (balancer_config, plain HTTP), three calls, its log."""
    log, listen, running = _balancer(tmp_path)
    with running:
        base = f"http://127.0.0.1:{listen}"
        _until_up(base)
        _calls(base)
    lines = _assert_log_tells_nothing(log)
    assert any(" POST 200 " in line for line in lines), lines  # what it does log: method, status, …


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (apt-get install haproxy)")
def test_the_balancer_speaks_tls_sets_the_scheme_itself_and_redirects_plain_http(tmp_path: Path) -> None:
    """deploy/haproxy.cfg with its TLS bind (a test certificate in place of /etc/haproxy/certs/) and its :80
    frontend: HTTPS reaches the replicas with X-Forwarded-Proto https whatever the client sent; plain HTTP gets
    only a redirect to https (never a replica's answer), whatever X-Forwarded-Proto it claims; the log of both tells
    nothing of the caller."""
    certs = self_signed_certificate(tmp_path / "certs")
    redirect = _port()
    log, listen, running = _balancer(tmp_path, tls=certs, redirect=redirect)
    with running:
        base = f"https://127.0.0.1:{listen}"
        _until_up(base)
        with httpx.Client(base_url=base, timeout=2, verify=False) as client:  # noqa: S501
            for claimed in ("http", "https", "gopher"):
                r = client.get("/readyz", headers={"X-Forwarded-Proto": claimed})
                assert r.status_code == 200 and r.text == "https", (claimed, r.text)
            assert client.get("/readyz").headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{listen}/readyz", timeout=2)
        plain = httpx.get(
            f"http://127.0.0.1:{redirect}/api/v1/public/submissions/{TRACKING}",
            headers={"X-Forwarded-Proto": "https", "X-Access-Key": "k"},
            timeout=2,
        )
        assert plain.status_code == 301 and plain.text != "https"  # not the replica's answer
        assert plain.headers["location"] == f"https://127.0.0.1:{redirect}/api/v1/public/submissions/{TRACKING}"
        _calls(base)
    _assert_log_tells_nothing(log)


# ---- the owner's password is never on a command line ----


def test_backup_and_replicate_pass_the_password_in_the_environment_not_the_arguments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The audit's reproduction, carried through to pg_basebackup: every psql and pg_basebackup run is given a URL
    without the password, and the password (percent-decoded) in PGPASSWORD of its own environment."""
    from api import backup, pgtools
    from tests.conftest import SETTINGS

    seen: list[tuple[list[str], dict[str, str] | None]] = []

    def fake_run(args: list[Any], *a: Any, **k: Any) -> subprocess.CompletedProcess[str]:
        seen.append(([str(x) for x in args], k.get("env")))
        statement = str(args[-1])
        out = "on" if statement == "SHOW archive_mode" else "0|f" if "audit_events" in statement else ""
        return subprocess.CompletedProcess(args, 1 if "pg_basebackup" in str(args[0]) else 0, out, "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(pgtools, "program", lambda name: name)
    url = f"postgresql+asyncpg://tiepdan:{PASSWORD}%40x@db:5432/tiepdan"
    with pytest.raises(SystemExit, match="pg_basebackup failed"):
        backup.take(url, SETTINGS, tmp_path / "backups")
    (tmp_path / "replica").mkdir()  # pg_basebackup would make it
    pgtools.replicate(url, tmp_path / "replica")
    programs = [argv[0] for argv, _ in seen]
    assert "psql" in programs and programs.count("pg_basebackup") == 2  # the backup's and the replica's
    leaked = [argv[0] for argv, _ in seen if any(PASSWORD in part for part in argv)]
    assert leaked == [], f"the password is in the argv of: {leaked}"
    for argv, env in seen:
        assert env is not None and env["PGPASSWORD"] == f"{PASSWORD}@x", argv[0]
        assert "postgresql://tiepdan@db:5432/tiepdan" in argv, argv


def test_a_url_without_a_password_is_passed_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import pgtools

    monkeypatch.setenv("PGPASSWORD", "from-the-operator")  # or ~/.pgpass: libpq's own ways stay open
    bare, env = pgtools.libpq("postgresql+asyncpg://postgres@/tiepdan?host=/tmp/sock")
    assert bare == "postgresql://postgres@/tiepdan?host=/tmp/sock" and env["PGPASSWORD"] == "from-the-operator"


# ---- sealing in place leaves the clear text in the pages: backup refuses until the tables are rewritten ----


@pytest.mark.slow
async def test_backup_refuses_until_seal_existing_has_rewritten_the_tables_and_then_holds_no_clear_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit's reproduction (a cluster of its own, a denunciation as a release before 0021 wrote it, in clear),
    then the fix: `backup` refuses while it is in clear; the jobs round seals it in place (warning) and `backup`
    still refuses — a backup taken anyway would hold the clear text (shown); `python -m api seal-existing`'s path
    rewrites the tables, and the backup after holds no byte of it."""
    from api import backup, db, pgtools
    from api.cli import _seal_existing, migrate
    from api.services.cases import sealed_text
    from tests.conftest import SETTINGS, _seed
    from tests.test_restore_drill import Service

    folder = Path(tempfile.mkdtemp(prefix="tiepdan-audit2-"))
    pgtools.give(folder)
    primary = pgtools.Cluster(folder / "primary")
    secret = "TOCAO-CLEAR-Ong-Giang-A-Pao-nhan-hoi-lo-xa-Ta-Phin"

    def holds_secret(target: Path) -> list[str]:
        return [name for name, stream in backup._streams([target]) if secret.encode() in stream.read()]

    try:
        await asyncio.to_thread(lambda: primary.init().start())
        primary.sql("CREATE DATABASE tiepdan")
        url = primary.url("tiepdan")
        await asyncio.to_thread(migrate, url)
        await _seed(url)
        service = Service(url)
        try:
            body = case_body(received_at=TODAY.isoformat())
            body.update(kind="denunciation", field="corruption", title="x", content="y")
            made = await service.http.post(f"{V1}/cases", headers=await service.headers("tinh.tiepdan"), json=body)
            assert made.status_code == 201, made.text
        finally:
            await service.close()
        case_id = int(made.json()["id"])
        clear = f"title = '{secret}', content = '{secret} noi dung', sealed_text = NULL"
        primary.sql(
            f"ALTER TABLE cases DISABLE TRIGGER USER; UPDATE cases SET {clear} WHERE id = {case_id}; "  # noqa: S608
            "ALTER TABLE cases ENABLE TRIGGER USER",
            "tiepdan",
        )
        with pytest.raises(SystemExit, match="1 rows are still in clear"):
            await asyncio.to_thread(backup.take, url, SETTINGS, folder / "backups")

        # The jobs round (as the application role in production: it cannot rewrite) seals it in place.
        engine = db.make_engine(url, statement_timeout_ms=0)
        try:
            with caplog.at_level(logging.WARNING, logger=sealed_text.__name__):
                async with db.make_sessionmaker(engine)() as session:
                    assert await sealed_text.seal_in_round(session, SETTINGS) == 1
            assert any("seal-existing" in r.getMessage() for r in caplog.records)
        finally:
            await engine.dispose()
        assert primary.sql(f"SELECT title FROM cases WHERE id = {case_id}", "tiepdan") == ""  # noqa: S608
        primary.sql("VACUUM cases", "tiepdan")
        primary.sql("CHECKPOINT")
        with pytest.raises(SystemExit, match="sealed in place since the tables were last rewritten"):
            await asyncio.to_thread(backup.take, url, SETTINGS, folder / "backups")
        # What the refusal prevents: the same backup taken without the check holds the clear title.
        with monkeypatch.context() as m:
            m.setattr(backup, "nothing_left_in_clear", lambda url: None)
            unsafe = await asyncio.to_thread(backup.take, url, SETTINGS, folder / "unsafe")
        assert holds_secret(unsafe), "the reproduction no longer reproduces: the clear text is not in the pages"

        # `python -m api seal-existing` as the owner: nothing left to seal, the tables rewritten.
        said = await _seal_existing(url)
        assert "0 denunciations sealed" in said and "rewritten (VACUUM FULL)" in said, said
        target = await asyncio.to_thread(backup.take, url, SETTINGS, folder / "backups")
        assert holds_secret(target) == [], f"the clear title is in the base backup {target}"
        assert backup.find_keys([target], {"clear denunciation title": secret.encode()}) == []
        actions = primary.sql(
            "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE entity = 'database'", "tiepdan"
        )
        assert actions == "sealed_in_place,tables_rewritten"  # both audited
        # Nothing sealed since: a second run has nothing to rewrite (unless --rewrite), and backup goes on.
        assert "rewritten" not in await _seal_existing(url)
        assert "rewritten (VACUUM FULL)" in await _seal_existing(url, rewrite=True)
    finally:
        primary.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
