"""Benchmark: the inspectorate's report forms for six months at province level, through the running service, each
against the same aggregate run directly on the database (asyncpg, no service) in the same run.

    .venv/bin/python bench/stats.py                       # 1,000,000 cases, 100,000 register entries, 150 units
    .venv/bin/python bench/stats.py --cases 200000 --entries 20000   # quicker
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/stats.py --keep tiepdan_stats_1m       # fill once, keep, reuse (migrated to head)

Fills a fresh database (bench/data.py: COPY, deterministic), starts the service (uvicorn, 1 worker), then times
each form (`GET /api/v1/stats/forms/{form}?period=…-H1`, JSON and XLSX) as the inspector, the summary, and the
bare SQL of each form's figures over the same units. Prints p50/max in milliseconds and the ratio; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import sys
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from api.services.stats.counts import QUERIES  # noqa: E402
from bench.data import add_units, connector, fill_cases, fill_reception  # noqa: E402
from bench.intake import SECRET, database, server  # noqa: E402
from bench.search import token  # noqa: E402
from workflows import periods  # noqa: E402


async def _times(fn, n: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    await fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), max(out)


@contextlib.asynccontextmanager
async def kept(name: str, args: argparse.Namespace) -> AsyncIterator[str]:
    """The database `name` on BENCH_DATABASE_URL's server, kept between runs: made, migrated, seeded and filled the
    first time; afterwards only migrated to head (a new migration's indexes and triggers are built on the data)."""
    from api.cli import migrate
    from api.db import make_engine, make_sessionmaker, normalize_url
    from api.security import Passwords
    from api.seed import seed_demo
    from api.settings import Settings

    server_url = normalize_url(os.environ["BENCH_DATABASE_URL"])
    head, _, query = server_url.partition("?")
    url = f"{head.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    admin = await connector(server_url)()
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(migrate, url)
    conn = await connector(url)()
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cases)"):
            engine = make_engine(url)
            try:
                async with make_sessionmaker(engine)() as session:
                    settings = Settings(secret_key=SECRET, argon2_time_cost=1, argon2_memory_cost=1024)
                    await seed_demo(session, Passwords(settings))
            finally:
                await engine.dispose()
            await _fill(conn, url, args)
    finally:
        await conn.close()
    yield url


async def _fill(conn: asyncpg.Connection, url: str, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    await add_units(conn, args.units)
    await fill_cases(conn, args.cases, all_units=True, connect=connector(url))
    await fill_reception(conn, args.entries)
    await conn.execute("VACUUM (ANALYZE)")
    print(f"\ngenerated {args.cases:,} cases, {args.entries:,} register entries in {time.perf_counter() - t0:.0f} s")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", metavar="NAME", help="a database of this name on BENCH_DATABASE_URL's server, kept")
    parser.add_argument("--prepare", action="store_true", help="with --keep: only make (or migrate) it")
    args = parser.parse_args()
    if args.prepare:
        async with kept(args.keep, args):
            return
    today = date.today()
    label = f"{today.year}-H1" if today.month > 6 else f"{today.year - 1}-H1"
    period = periods.parse(label, cutoffs=periods.STATUTORY)
    async with kept(args.keep, args) if args.keep else database() as url:
        conn = await connector(url)()
        if not args.keep:
            await _fill(conn, url, args)
        units = [r["id"] for r in await conn.fetch("SELECT id FROM units WHERE is_active")]
        print(f"{len(units)} units; period {label} = {period.start} → {period.end}\n")
        # The benchmark is one client asking many expensive questions on purpose: lift the per-officer limit.
        os.environ["EXPENSIVE_BURST"] = os.environ["EXPENSIVE_PER_MINUTE"] = "100000"
        with server("api.main:app", url, 1) as (port, _):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
                headers = await token(http, "thanhtra")
                print("| form    | API JSON p50 / max ms | API XLSX p50 ms | bare SQL p50 ms | API ÷ SQL |")
                print("|---------|-----------------------|-----------------|-----------------|-----------|")
                for form, sqls in QUERIES.items():
                    path = f"/api/v1/stats/forms/{form}"

                    async def api_json(path: str = path) -> None:
                        r = await http.get(path, headers=headers, params={"period": label})
                        r.raise_for_status()

                    async def api_xlsx(path: str = path) -> None:
                        r = await http.get(path, headers=headers, params={"period": label, "format": "xlsx"})
                        r.raise_for_status()

                    async def bare(sqls: list[str] = sqls) -> None:
                        for sql in sqls:
                            text = sql.replace(":start", "$1").replace(":end", "$2").replace(":units", "$3")
                            await conn.fetch(text, period.start, period.end, units)

                    j50, jmax = await _times(api_json, args.repeat)
                    x50, _ = await _times(api_xlsx, max(2, args.repeat // 2))
                    s50, _ = await _times(bare, args.repeat)
                    print(
                        f"| {form:<7} | {j50:>9.0f} / {jmax:<9.0f} | {x50:>15.0f} | {s50:>15.0f} | {j50 / s50:>8.2f}× |"
                    )

                async def summary() -> None:
                    r = await http.get("/api/v1/stats/summary", headers=headers, params={"period": label})
                    r.raise_for_status()

                m50, mmax = await _times(summary, args.repeat)
                print(f"| summary | {m50:>9.0f} / {mmax:<9.0f} |                 |                 |           |")

                # The dashboard as a browser asks for it: signed in through its form, the province over 6 months.
                page = await http.get("/dashboard/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf is not None
                signed = await http.post(
                    "/dashboard/login",
                    data={"username": "thanhtra", "password": "LaoCai@2026demo", "csrf": csrf.group(1)},
                    cookies={"tiepdan_csrf": csrf.group(1)},
                )
                # The cookie is Secure (production settings): over this plain-HTTP loopback it is sent by hand.
                session = signed.cookies.get("tiepdan_session") or ""

                year = str(period.start.year if label.endswith("H1") else today.year - 1)
                for shown in (label, year):

                    async def dashboard(shown: str = shown) -> None:
                        r = await http.get("/dashboard", params={"period": shown}, cookies={"tiepdan_session": session})
                        r.raise_for_status()
                        assert "<svg" in r.text

                    d50, dmax = await _times(dashboard, args.repeat)
                    print(f"| dashboard page (province, {shown}) p50 / max: {d50:.0f} / {dmax:.0f} ms |")

                async def compliance() -> None:
                    """Every unit's compliance over the year, every page of it (200 units a page)."""
                    params: dict[str, str | int] = {"period": year, "limit": 200}
                    rows = 0
                    while True:
                        r = await http.get("/api/v1/reception-sessions/compliance", headers=headers, params=params)
                        r.raise_for_status()
                        rows += len(r.json()["items"])
                        if not r.json()["next_cursor"]:
                            break
                        params["cursor"] = r.json()["next_cursor"]
                    assert rows >= len(units)

                c50, cmax = await _times(compliance, args.repeat)
                print(f"| reception compliance (every unit, {year}) p50 / max: {c50:.0f} / {cmax:.0f} ms |")
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
