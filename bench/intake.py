"""Benchmark: desk intake `POST /api/v1/cases` against a bare FastAPI + asyncpg one-row insert, same database,
same load, alternated in one run; with --replicas N, also through the load balancer of deploy/ (HAProxy,
deploy/haproxy.cfg on loopback) in front of N service processes of one worker each, in the same rounds.

    .venv/bin/python bench/intake.py                    # 50 clients, 1 worker each; then 4 clients; 8 s runs
    .venv/bin/python bench/intake.py --workers 2        # both servers with 2 worker processes
    .venv/bin/python bench/intake.py --bare-tuned       # the bare with the service's runtime settings too
    .venv/bin/python bench/intake.py --replicas 2       # also through HAProxy in front of two service processes
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/intake.py

Runs on a fresh database of BENCH_DATABASE_URL's server or, when unset, of an embedded PostgreSQL in a
temporary folder; each run starts with the database at rest (VACUUM, ANALYZE and CHECKPOINT between runs,
untimed). Both servers are uvicorn with the same options; the service runs as in production (JSON request logs
at INFO, to /dev/null here). Prints a table; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from api.settings import Settings  # noqa: E402
from bench import load  # noqa: E402
from bench.data import connector  # noqa: E402
from bench.pg import seeded_database  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"
IDENTITY_KEY = "ZmFrZS10ZXN0LWtleS0zMi1ieXRlcy1sb25nLW9rISE="
CASE = {
    "kind": "complaint",
    "field": "land",
    "channel": "in_person",
    "title": "Khiếu nại quyết định thu hồi đất đai",
    "content": "Gia đình tôi không đồng ý với quyết định thu hồi đất đai tại thôn Khe Sang, xã Khao Mang.",
    "received_at": "2026-11-20",
    "parties": [
        {
            "role": "complainant",
            "full_name": "Nguyễn Văn An",
            "id_number": "015090001234",
            "phone": "0912345678",
            "address": "Thôn Khe Sang",
        }
    ],
}


SUBMISSION = {
    "kind": "feedback",
    "field": "other",
    "content": "Đèn đường ở thôn Khe Sang không sáng đã hai tuần, đề nghị sửa chữa.",
    "location": {"commune_code": "04465"},
    "consent": False,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(app: str, url: str, workers: int, extra: dict[str, str] | None = None) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = {
        **os.environ,
        **(extra or {}),
        "DATABASE_URL": url,
        "BARE_DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "IDENTITY_KEYS": IDENTITY_KEY,
        "JOBS_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        # One load generator stands for thousands of phones: the per-address limit would stop it at once.
        "PUBLIC_PER_MINUTE": "10000000",
        "PUBLIC_BURST": "10000000",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def balancer_config(listen: int, replicas: list[int]) -> str:
    """deploy/haproxy.cfg on loopback: its defaults, frontends and backend as shipped (round robin, /readyz health
    checks, its headers and log), its `server` lines pointing at the replicas started here (as many as given), no
    slow start (a run begins once every replica answers). Plain HTTP: the load generator speaks no TLS, so the
    HTTPS frontend's `ssl crt` is stripped (production terminates TLS here too: not measured), the :80 redirect
    is left out and the health frontend listens on a free port."""
    shipped = (ROOT / "deploy" / "haproxy.cfg").read_text()
    lines = shipped.splitlines()
    servers = [i for i, line in enumerate(lines) if line.strip().startswith("server ")]
    lines[servers[0] : servers[-1] + 1] = [
        f"    server api{n + 1} 127.0.0.1:{port} check" for n, port in enumerate(replicas)
    ]
    text = "\n".join(lines) + "\n"
    text = re.sub(r"\n    bind :443 ssl crt \S+\n", f"\n    bind 127.0.0.1:{listen}\n", text)
    text = re.sub(r"\nfrontend plain\n(?:    .*\n)+", "\n", text)
    text = text.replace("bind 127.0.0.1:8405", f"bind 127.0.0.1:{_free_port()}")
    return text.replace("slowstart 5s", "")


@contextlib.contextmanager
def balanced(url: str, replicas: int) -> Iterator[tuple[int, list[int], list[int]]]:
    """`replicas` service processes (one uvicorn worker each, as deploy/ runs them) behind HAProxy
    (deploy/haproxy.cfg, Debian's haproxy); the balancer's port, the replicas' ports and the pids whose CPU is the
    server's (the replicas and HAProxy)."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise SystemExit("--replicas needs HAProxy (apt-get install haproxy)")
    with contextlib.ExitStack() as stack:
        started = [stack.enter_context(server("api.main:app", url, 1)) for _ in range(replicas)]
        ports, pids = [p for p, _ in started], [pid for _, pid in started]
        listen = _free_port()
        config = Path(tempfile.mkdtemp(prefix="bench-haproxy-")) / "haproxy.cfg"
        config.write_text(balancer_config(listen, ports))
        proc = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            for _ in range(300):  # every replica ready (/readyz) and the balancer answering
                with contextlib.suppress(httpx.HTTPError):
                    if all(httpx.get(f"http://127.0.0.1:{p}/readyz", timeout=1).status_code == 200 for p in ports) and (
                        httpx.get(f"http://127.0.0.1:{listen}/readyz", timeout=1).status_code == 200
                    ):
                        break
                if proc.poll() is not None:
                    raise SystemExit(f"haproxy exited ({proc.returncode}): haproxy -c -f {config}")
                time.sleep(0.1)
            else:
                raise SystemExit("the replicas or HAProxy were not ready within 30 s")
            yield listen, ports, [proc.pid, *pids]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            shutil.rmtree(config.parent, ignore_errors=True)


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[str]:
    settings = Settings(secret_key=SECRET, argon2_time_cost=1, argon2_memory_cost=1024)
    async with seeded_database(settings) as url:
        conn = await connector(url)()
        if os.environ.get("BENCH_SQL"):  # an experiment on the schema, e.g. "DROP INDEX ixx_cases_content_trgm"
            await conn.execute(os.environ["BENCH_SQL"])
        await conn.execute(
            "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, payload jsonb NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.close()
        yield url


async def at_rest(url: str) -> None:
    """Settle what the previous run left (VACUUM, ANALYZE, CHECKPOINT; untimed), so that each run pays for its own
    writes, not for the autovacuum of the run before it."""
    conn = await connector(url)()
    try:
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def token(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.post("/api/v1/auth/token", data={"username": "tinh.tiepdan", "password": "LaoCai@2026demo"})
        r.raise_for_status()
        return str(r.json()["access_token"])


async def written(port: int) -> tuple[float, float]:
    """Intake statements and letters written so far by the service process that answers (its /metrics)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        text = (await http.get("/metrics")).text
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("tiepdan_intake_statements_total", "tiepdan_intake_letters_total"):
            values[name] = float(value)
    return values.get("tiepdan_intake_statements_total", 0.0), values.get("tiepdan_intake_letters_total", 0.0)


def row(name: str, clients: int, r: load.Result) -> str:
    per = {k: v / max(r.requests, 1) * 1000 for k, v in r.cpu.items()}
    return (
        f"| {name:<28} | {clients:>7} | {r.rps:>8.0f} | {r.pct(0.5):>7.1f} | {r.pct(0.99):>7.1f} | {r.errors:>6} | "
        f"{per.get('server', 0):>6.2f} | {per.get('postgres', 0):>8.2f} | {per.get('load generator', 0):>4.2f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", help="write a py-spy profile of the service (collapsed stacks) here")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="also POST /cases through HAProxy (deploy/haproxy.cfg) in front of this many service processes",
    )
    parser.add_argument(
        "--bare-tuned",
        action="store_true",
        help="run the bare endpoint with the service's runtime settings too (bench/bare.py, BARE_TUNED)",
    )
    args = parser.parse_args()
    async with database() as url:
        with (
            server("api.main:app", url, args.workers) as (svc, pid),
            server("bench.bare:app", url, args.workers, {"BARE_TUNED": "1" if args.bare_tuned else "0"}) as (
                bare,
                bare_pid,
            ),
            balanced(url, args.replicas) if args.replicas else contextlib.nullcontext((0, [], [])) as (
                lb,
                lb_ports,
                lb_pids,
            ),
        ):
            svc_watch = {"server": lambda: load.process_tree(pid), "postgres": lambda: load.pids_named("postgres")}
            bare_watch = {
                "server": lambda: load.process_tree(bare_pid),
                "postgres": lambda: load.pids_named("postgres"),
            }
            lb_watch = {
                "server": lambda: [p for root in lb_pids for p in load.process_tree(root)],
                "postgres": lambda: load.pids_named("postgres"),
            }
            bearer = {"Authorization": f"Bearer {await token(svc)}"}
            intake = load.request("/api/v1/cases", CASE, bearer)
            baseline = load.request("/bare", CASE, {})
            print(
                f"intake vs bare{' (tuned like the service)' if args.bare_tuned else ''}, {args.workers} worker(s) "
                f"each, {args.seconds:.0f} s per run, {os.cpu_count()} CPUs\n"
            )
            print(
                "| run                          | clients |    req/s | p50 ms  | p99 ms  | errors | "
                "CPU ms per request: server | postgres | load |"
            )
            print(
                "|------------------------------|---------|----------|---------|---------|--------|"
                "--------|----------|------|"
            )
            svc_runs, bare_runs, batch_sizes, lb_runs = [], [], [], []
            for i in range(args.rounds):
                await at_rest(url)
                b = await load.run(
                    "127.0.0.1", bare, lambda _: baseline, clients=args.clients, seconds=args.seconds, watch=bare_watch
                )
                print(row(f"bare insert (round {i + 1})", args.clients, b))
                statements, letters = await written(svc)
                await at_rest(url)
                s = await load.run(
                    "127.0.0.1", svc, lambda _: intake, clients=args.clients, seconds=args.seconds, watch=svc_watch
                )
                statements2, letters2 = await written(svc)
                batch_sizes.append((letters2 - letters) / max(statements2 - statements, 1))
                print(row(f"POST /cases (round {i + 1})", args.clients, s))
                bare_runs.append(b.rps)
                svc_runs.append(s.rps)
                if args.replicas:
                    await at_rest(url)
                    m = await load.run(
                        "127.0.0.1", lb, lambda _: intake, clients=args.clients, seconds=args.seconds, watch=lb_watch
                    )
                    print(row(f"via HAProxy, {args.replicas} proc (r{i + 1})", args.clients, m))
                    lb_runs.append(m.rps)
            if args.profile:
                # py-spy (pip install py-spy) samples the service process during one more 50-client run.
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(pid),
                        "--format",
                        "raw",
                        "--nonblocking",
                        "-o",
                        args.profile,
                        "--duration",
                        str(int(args.seconds)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                await at_rest(url)
                await load.run("127.0.0.1", svc, lambda _: intake, clients=args.clients, seconds=args.seconds, warmup=0)
                spy.wait()
                print(f"profile (collapsed stacks) written to {args.profile}")
            await at_rest(url)
            few = await load.run("127.0.0.1", svc, lambda _: intake, clients=4, seconds=args.seconds, watch=svc_watch)
            print(row("POST /cases", 4, few))
            # The citizen channel: an app's submission (routing by commune code, the same intake underneath).
            public = load.request("/api/v1/public/submissions", SUBMISSION, {"X-Device-Id": "bench-phone"})
            await at_rest(url)
            pub = await load.run(
                "127.0.0.1", svc, lambda _: public, clients=args.clients, seconds=args.seconds, watch=svc_watch
            )
            print(row("POST /public/submissions", args.clients, pub))
            await at_rest(url)
            pub_few = await load.run(
                "127.0.0.1", svc, lambda _: public, clients=4, seconds=args.seconds, watch=svc_watch
            )
            print(row("POST /public/submissions", 4, pub_few))
            ratio = sum(svc_runs) / sum(bare_runs)
            print(
                f"\nletters per intake statement at {args.clients} clients (group commit, one worker's /metrics): "
                + " / ".join(f"{b:.1f}" for b in batch_sizes)
            )
            print(
                f"throughput ratio intake / bare at {args.clients} clients: {ratio:.0%} "
                f"(target ≥ 40%); p99 at 4 clients: {few.pct(0.99):.1f} ms (target < 50 ms)"
            )
            if args.replicas:
                print(
                    f"through HAProxy, {args.replicas} processes: {sum(lb_runs) / sum(bare_runs):.0%} of the bare "
                    f"insert (one worker), {sum(lb_runs) / sum(svc_runs):.2f}x one process; by round: "
                    + " / ".join(f"{m / b:.0%}" for m, b in zip(lb_runs, bare_runs, strict=True))
                    + " (one process: "
                    + " / ".join(f"{v / b:.0%}" for v, b in zip(svc_runs, bare_runs, strict=True))
                    + ")"
                )
            print(
                f"public submissions / bare at {args.clients} clients: "
                f"{pub.rps / (sum(bare_runs) / len(bare_runs)):.0%}; "
                f"p99 at 4 clients: {pub_few.pct(0.99):.1f} ms"
            )
            peak = max((load.peak_rss_mb(p) for p in load.process_tree(pid)), default=0.0)
            print(f"peak resident memory of one API process after the load: {peak:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    asyncio.run(main())
