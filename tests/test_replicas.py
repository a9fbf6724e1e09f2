"""Replicas behind a real load balancer (issue 26): two API processes (`python -m api serve`, real uvicorn, on
loopback ports, one database) behind HAProxy configured from deploy/haproxy.cfg (health-checking /readyz). A citizen
submission made on one replica has its attachment added on the other and both read back through the balancer; a
replica killed in the middle of a stream of submissions (retried by the client with their Idempotency-Keys) loses
and duplicates nothing; a replica stopped with SIGTERM drains (its /readyz fails at once, what it serves finishes,
new requests go to the other) and no request fails. The citizen channel's limits are shared through Redis when it
answers on 127.0.0.1:6379; without it each replica counts on its own (the test says so in its output)."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import SETTINGS, Databases

pytestmark = pytest.mark.slow  # real API processes, a real balancer, kills and load: seconds each

ROOT = Path(__file__).resolve().parents[1]
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
DRAIN_SECONDS = 2.0  # well above the test balancer's check interval x fall (0.2 s x 2)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_url() -> str | None:
    """Redis on this machine if it answers (the shared limits of several replicas); None on a user's machine."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return "redis://127.0.0.1:6379/0" if s.recv(16).startswith(b"+PONG") else None
    except OSError:
        return None


def balancer_config(listen: int, replicas: list[int], *, tls: Path | None = None, redirect: int | None = None) -> str:
    """deploy/haproxy.cfg for loopback: its defaults, frontends and backend as shipped, the replicas' addresses and
    the listening ports replaced, checks every 0.2 s (production: 1 s), and which replica answered in a header.

    TLS: with `tls` (a folder holding a test certificate's PEM) the HTTPS frontend keeps `ssl crt`, pointed at it;
    without it the `ssl crt` of the bind is STRIPPED (the replica tests talk plain HTTP to `listen`; everything else
    of that frontend, the X-Forwarded-Proto it sets included, is as shipped). The :80 frontend (redirect to https
    only) listens on `redirect`, or is left out; the health frontend on a free port."""
    shipped = (ROOT / "deploy" / "haproxy.cfg").read_text()
    servers = [line for line in shipped.splitlines() if line.strip().startswith("server ")]
    assert len(servers) == len(replicas) == 2, servers
    tls_bind = "bind :443 ssl crt /etc/haproxy/certs/"
    assert tls_bind in shipped and "bind :80\n" in shipped and "bind 127.0.0.1:8405" in shipped
    text = shipped.replace(tls_bind, f"bind 127.0.0.1:{listen} ssl crt {tls}/" if tls else f"bind 127.0.0.1:{listen}")
    if redirect is None:
        text = re.sub(r"\nfrontend plain\n(?:    .*\n)+", "\n", text)
        assert "frontend plain" not in text
    else:
        text = text.replace("bind :80\n", f"bind 127.0.0.1:{redirect}\n")
    text = text.replace("bind 127.0.0.1:8405", f"bind 127.0.0.1:{_port()}")
    for line, port in zip(servers, replicas, strict=True):
        name = line.split()[1]
        text = text.replace(line, f"    server {name} 127.0.0.1:{port} check")
    text, n = re.subn(r"default-server inter \S+", "default-server inter 200ms", text)
    assert n == 1 and "http-check send meth GET uri /readyz" in text and "balance roundrobin" in text
    text = text.replace("slowstart 5s", "")
    return text.replace("backend replicas\n", "backend replicas\n    http-response set-header X-Served-By %s\n")


@dataclass
class Cluster:
    url: str
    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    balancer: str = ""

    def replica(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"


def _env(url: str, name: str, extra: dict[str, str]) -> dict[str, str]:
    redis = redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SETTINGS.secret_key or "",
        "IDENTITY_KEYS": SETTINGS.identity_keys or "",
        "JOBS_ENABLED": "false",
        "PUBLIC_PER_MINUTE": "100000",
        "PUBLIC_BURST": "100000",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "DRAIN_SECONDS": str(DRAIN_SECONDS),
        "DB_POOL_SIZE": "4",  # the run's server is shared: two replicas, two pools each
        "LOG_LEVEL": "WARNING",
        # Each replica its own folder: the attachments must come from the database, not from a shared disk.
        "ATTACHMENTS_DIR": tempfile.mkdtemp(prefix=f"tiepdan-{name}-"),
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    return {**env, **extra}


def _wait(check: object, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s")


def start_replicas(cluster: Cluster, extra: dict[str, str]) -> None:
    for name, port in cluster.ports.items():
        cmd = [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate",
               "--no-seed"]  # fmt: skip
        cluster.procs[name] = subprocess.Popen(  # noqa: S603 - the project's own command
            cmd, cwd=ROOT, env=_env(cluster.url, name, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    for name in cluster.ports:
        _wait(lambda: httpx.get(f"{cluster.replica(name)}/readyz", timeout=0.5).status_code == 200, f"{name} ready")  # noqa: B023


@contextlib.contextmanager
def cluster_on(url: str, **extra: str) -> Iterator[Cluster]:
    if HAPROXY is None:
        pytest.skip("haproxy is not installed (apt-get install haproxy; .ci/run installs it)")
    cluster = Cluster(url=url, ports={"api1": _port(), "api2": _port()})
    listen = _port()
    config = Path(tempfile.mkdtemp(prefix="tiepdan-haproxy-")) / "haproxy.cfg"
    config.write_text(balancer_config(listen, [cluster.ports["api1"], cluster.ports["api2"]]))
    balancer = None
    try:
        start_replicas(cluster, extra)
        balancer = subprocess.Popen(  # noqa: S603 - Debian's haproxy, in the foreground
            [HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        cluster.balancer = f"http://127.0.0.1:{listen}"
        seen: set[str] = set()

        def both_up() -> bool:  # round robin over both replicas once their checks passed
            seen.add(httpx.get(f"{cluster.balancer}/readyz", timeout=0.5).headers.get("x-served-by", ""))
            return {"api1", "api2"} <= seen

        _wait(both_up, "both replicas behind the balancer")
        yield cluster
    finally:
        for proc in [*cluster.procs.values(), *([balancer] if balancer else [])]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=20)


@pytest.fixture
async def database(databases: Databases) -> AsyncIterator[str]:
    name, url = await databases.seeded("tiepdan_replicas")
    try:
        yield url
    finally:
        await databases.drop(name)


def letter(n: int) -> dict[str, object]:
    return {
        "kind": "feedback",
        "field": "other",
        "content": f"Phản ánh số {n}: cống thoát nước ở thôn {n % 13} bị tắc.",
        "location": {"commune_code": "04465"},
        "consent": False,
    }


async def _sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _count(url: str, sql: str) -> list[tuple[object, ...]]:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    head, _, query = dsn.partition("?")
    conn = await asyncpg.connect(head, **({"host": query.split("host=", 1)[1]} if "host=" in query else {}))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_a_submission_on_one_replica_its_attachment_on_the_other_both_read_through_the_balancer(
    database: str,
) -> None:
    from tests.test_blob_storage import noise_png

    print("limits shared through Redis" if redis_url() else "no Redis on 127.0.0.1:6379: each replica counts alone")
    photo = noise_png(400, 300)  # several chunks
    with cluster_on(database) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.replica("api1"), timeout=10) as one,
            httpx.AsyncClient(base_url=cluster.replica("api2"), timeout=10) as two,
            httpx.AsyncClient(base_url=cluster.balancer, timeout=10) as front,
        ):
            headers = {"Idempotency-Key": "replicas-1", "X-Device-Id": "device-replicas-1"}
            made = await one.post("/api/v1/public/submissions", json=letter(1), headers=headers)
            assert made.status_code == 201, made.text
            code, key = made.json()["tracking_code"], {"X-Access-Key": made.json()["access_key"]}
            # The same key on the other replica: the same case (idempotency lives in the database).
            again = await two.post("/api/v1/public/submissions", json=letter(1), headers=headers)
            assert again.status_code in (200, 201) and again.json()["tracking_code"] == code
            up = await two.post(
                f"/api/v1/public/submissions/{code}/attachments", headers=key, files={"file": ("anh.png", photo)}
            )
            assert up.status_code == 201, up.text
            officer = await _sign_in(front, "xa.tiepdan")  # a token made on one replica, honoured by both
            served: set[str] = set()
            for _ in range(4):  # round robin: each replica answers twice
                status = await front.get(f"/api/v1/public/submissions/{code}", headers=key)
                assert status.status_code == 200 and status.json()["tracking_code"] == code
                served.add(status.headers["x-served-by"])
                found = await front.get("/api/v1/cases", params={"q": code}, headers=officer)
                assert found.status_code == 200, found.text
                case_id = found.json()["items"][0]["id"]
                got = await front.get(f"/api/v1/cases/{case_id}/attachments/{up.json()['id']}", headers=officer)
                assert got.status_code == 200, got.text
                assert got.content == photo
                served.add(got.headers["x-served-by"])
            assert served == {"api1", "api2"}
    assert await _count(database, "SELECT count(*) FROM cases") == [(1,)]


async def _send(
    client: httpx.AsyncClient,
    n: int,
    acknowledged: dict[int, str],
    failures: list[str],
    *,
    retry: bool,
    mid_load: asyncio.Event | None = None,
) -> None:
    """One letter through the balancer; with `retry` as a citizen's app does it: again with the same key until it
    is answered (a connection cut or a 502/503 means the letter may or may not have landed)."""
    for _ in range(60 if retry else 1):
        try:
            r = await client.post(
                "/api/v1/public/submissions",
                json=letter(n),
                headers={"Idempotency-Key": f"load-{n}", "X-Device-Id": f"device-load-{n % 9}"},
            )
        except httpx.HTTPError as exc:
            failures.append(f"{n}: {type(exc).__name__}")
        else:
            if r.status_code in (200, 201):
                acknowledged[n] = r.json()["tracking_code"]
                if mid_load is not None and len(acknowledged) >= 20:
                    mid_load.set()
                return
            failures.append(f"{n}: {r.status_code} {r.text[:120]}")
            if r.status_code < 500:
                return
        await asyncio.sleep(0.05)


async def test_a_replica_killed_mid_load_loses_and_duplicates_nothing(database: str) -> None:
    total = 150
    acknowledged: dict[int, str] = {}
    failures: list[str] = []
    with cluster_on(database) as cluster:
        async with httpx.AsyncClient(base_url=cluster.balancer, timeout=10) as front:
            mid_load = asyncio.Event()
            pending = [
                asyncio.create_task(_send(front, n, acknowledged, failures, retry=True, mid_load=mid_load))
                for n in range(total)
            ]
            await asyncio.wait_for(mid_load.wait(), timeout=60)
            cluster.procs["api1"].kill()  # SIGKILL in the middle of the load: no drain, connections cut
            assert len(acknowledged) < total
            await asyncio.gather(*pending)
            # The balancer now sends everything to the one left.
            after = await front.get("/readyz")
            assert after.status_code == 200 and after.headers["x-served-by"] == "api2"
    assert len(acknowledged) == total, failures[-5:]
    assert len(set(acknowledged.values())) == total  # one case per letter
    rows = await _count(database, "SELECT tracking_code, content FROM cases")
    assert len(rows) == total  # none lost, none twice
    assert {str(r[0]) for r in rows} == set(acknowledged.values())


async def test_sigterm_drains_a_replica_without_failing_a_request(database: str) -> None:
    acknowledged: dict[int, str] = {}
    failures: list[str] = []
    with cluster_on(database) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.balancer, timeout=10) as front,
            httpx.AsyncClient(base_url=cluster.replica("api1"), timeout=10) as one,
        ):
            n = 0

            async def stream(until: float) -> None:  # letters one after another, no retry: none may fail
                nonlocal n
                while time.monotonic() < until:
                    n += 1
                    await _send(front, n, acknowledged, failures, retry=False)

            warm = asyncio.create_task(stream(time.monotonic() + 0.3))
            await warm
            proc = cluster.procs["api1"]
            proc.send_signal(signal.SIGTERM)
            start = time.monotonic()
            load = asyncio.create_task(stream(start + DRAIN_SECONDS + 1.0))
            ready = await one.get("/readyz")
            # At once: not ready (the balancer takes it out), still alive and still answering.
            assert ready.status_code == 503 and ready.json()["error"]["code"] == "service_draining"
            assert (await one.get("/healthz")).status_code == 200
            direct = await one.post("/api/v1/public/submissions", json=letter(0), headers={"X-Device-Id": "d-0"})
            assert direct.status_code == 201, direct.text
            await load
            code = await asyncio.to_thread(proc.wait, 30)
            assert code == 0 and time.monotonic() - start >= DRAIN_SECONDS  # it stopped after the drain, cleanly
    assert failures == []
    assert len(acknowledged) == n >= 10
    rows = await _count(database, "SELECT count(*) FROM cases")
    assert rows == [(n + 1,)]  # and the one sent to it directly while it drained


async def test_the_citizen_channels_limit_is_one_count_across_the_replicas(database: str) -> None:
    """With REDIS_URL the replicas count a caller's requests together: PUBLIC_PER_MINUTE in all, wherever they land
    (without Redis each would let that many through on its own)."""
    if redis_url() is None:
        pytest.skip("no Redis on 127.0.0.1:6379: each replica counts the limits on its own (REDIS_URL unset)")
    from cryptography.fernet import Fernet

    limit = 6
    # Keys of its own (a fresh database takes them): the limits' hashed tags meet no other run's in that Redis.
    extra = {"PUBLIC_PER_MINUTE": str(limit), "IDENTITY_KEYS": Fernet.generate_key().decode()}
    with cluster_on(database, **extra) as cluster:
        async with (
            httpx.AsyncClient(base_url=cluster.replica("api1"), timeout=10) as one,
            httpx.AsyncClient(base_url=cluster.replica("api2"), timeout=10) as two,
        ):
            for attempt in range(2):  # a minute's window turning over in the middle: once more, in the next one
                minute = int(time.time() // 60)
                answers = []
                for n in range(2 * limit):
                    r = await (one, two)[n % 2].post(
                        "/api/v1/public/submissions",
                        json=letter(1000 * attempt + n),
                        headers={"Idempotency-Key": f"limit-{attempt}-{n}", "X-Device-Id": f"device-limit-{attempt}"},
                    )
                    answers.append(r.status_code)
                if int(time.time() // 60) == minute:
                    break
    assert answers == [201] * limit + [429] * limit  # three on each replica, then both refuse
