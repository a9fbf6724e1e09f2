"""Benchmark: the inspectorate's report forms for six months at province level, through the running service, each
against the same aggregate run directly on the database (asyncpg, no service) in the same run.

    .venv/bin/python bench/stats.py                       # 1,000,000 cases, 100,000 register entries, 150 units
    .venv/bin/python bench/stats.py --cases 200000 --entries 20000   # quicker
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/stats.py --keep tiepdan_stats_1m       # fill once, keep, reuse (migrated to head)

Fills a fresh database (bench/data.py: COPY, deterministic; or reuses the kept one), starts the service (uvicorn,
1 worker), then times as the inspector each form (`GET /api/v1/stats/forms/{form}?period=…-H1`: JSON computed and
kept, XLSX and PDF computed) against the bare SQL of its figures over the same units, the summary and the dashboard
page for the half-year and the year: kept (the cache) and "cold" (a change to a counted table before every request,
so the answer is computed: `UPDATE units SET id = id WHERE false` raises the version and changes no row). Prints
p50 / p95 / max in milliseconds; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import math
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


async def _times(fn, n: int, before=None) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """p50, p95 and max of `n` timed calls (ms) after one untimed; `before` (untimed) runs before each call."""
    await fn()
    out = []
    for _ in range(n):
        if before is not None:
            await before()
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[min(len(out) - 1, math.ceil(0.95 * len(out)) - 1)], out[-1]


@contextlib.asynccontextmanager
async def kept(name: str, args: argparse.Namespace) -> AsyncIterator[str]:
    """The database `name` on BENCH_DATABASE_URL's server, kept between runs: made, migrated, seeded and filled the
    first time; afterwards only migrated to head (a new migration's indexes and triggers are built on the data)."""
    from api.settings import Settings
    from bench.pg import kept_database

    async def fill(conn: asyncpg.Connection, url: str) -> None:
        await _fill(conn, url, args)

    settings = Settings(secret_key=SECRET, argon2_time_cost=1, argon2_memory_cost=1024)
    yield await kept_database(name, settings, fill)


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
        # The bare SQL as the service runs it: without JIT compilation (api/services/stats/forms.NO_JIT).
        await conn.execute("SET jit = off")
        if not args.keep:
            await _fill(conn, url, args)
        units = [r["id"] for r in await conn.fetch("SELECT id FROM units WHERE is_active")]
        print(f"{len(units)} units; period {label} = {period.start} → {period.end}\n")
        # The benchmark is one client asking many expensive questions on purpose: lift the per-officer limits.
        for name in ("EXPENSIVE_BURST", "EXPENSIVE_PER_MINUTE", "STATS_BURST", "STATS_PER_MINUTE"):
            os.environ[name] = "100000"
        with server("api.main:app", url, 1) as (port, _):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
                headers = await token(http, "thanhtra")

                # A change to a table every answer counts (a statement that changes no row still raises the version):
                # the next answer is computed, not taken from the cache. "cold" = after such a change each time.
                async def changed() -> None:
                    await conn.execute("UPDATE units SET id = id WHERE false")

                print(f"Forms, province, {label} (cold: computed; kept: from the cache), p50 / p95 / max ms:\n")
                print("| form    | JSON cold             | JSON kept        | XLSX / PDF cold | SQL p50 | cold ÷ SQL |")
                print("|---------|-----------------------|------------------|-----------------|---------|------------|")
                for form, sqls in QUERIES.items():
                    path = f"/api/v1/stats/forms/{form}"

                    async def api(fmt: str, path: str = path) -> None:
                        r = await http.get(path, headers=headers, params={"period": label, "format": fmt})
                        r.raise_for_status()

                    async def bare(sqls: list[str] = sqls) -> None:
                        for sql in sqls:
                            text = sql.replace(":start", "$1").replace(":end", "$2").replace(":units", "$3")
                            await conn.fetch(text, period.start, period.end, units)

                    async def api_json() -> None:
                        await api("json")

                    async def api_xlsx() -> None:
                        await api("xlsx")

                    async def api_pdf() -> None:
                        await api("pdf")

                    j = await _times(api_json, args.repeat, changed)
                    k = await _times(api_json, args.repeat)
                    x50, _, _ = await _times(api_xlsx, max(2, args.repeat // 2), changed)
                    p50, _, _ = await _times(api_pdf, max(2, args.repeat // 2), changed)
                    s50, _, _ = await _times(bare, args.repeat)
                    cold = f"{j[0]:>5.0f} / {j[1]:>5.0f} / {j[2]:>5.0f}"
                    kept_ = f"{k[0]:>4.1f} / {k[1]:>4.1f} / {k[2]:>4.1f}"
                    files = f"{x50:>6.0f} / {p50:>6.0f}"
                    print(f"| {form:<7} | {cold} | {kept_} | {files} | {s50:>7.0f} | {j[0] / s50:>9.2f}× |")

                year = label[:4]
                for shown in (label, year):

                    async def summary(shown: str = shown) -> None:
                        r = await http.get("/api/v1/stats/summary", headers=headers, params={"period": shown})
                        r.raise_for_status()

                    cold = await _times(summary, args.repeat, changed)
                    warm = await _times(summary, max(20, args.repeat))
                    print(
                        f"\nsummary ({shown}) p50 / p95 / max: cold {cold[0]:.0f} / {cold[1]:.0f} / {cold[2]:.0f} ms, "
                        f"kept {warm[0]:.1f} / {warm[1]:.1f} / {warm[2]:.1f} ms"
                    )

                # The dashboard as a browser asks for it: signed in through its form, the province over 6 months and
                # over the year.
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

                print()
                for shown in (label, year):

                    async def dashboard(shown: str = shown) -> None:
                        r = await http.get("/dashboard", params={"period": shown}, cookies={"tiepdan_session": session})
                        r.raise_for_status()
                        assert 'class="chart"' in r.text  # the page itself, with its charts

                    warm = await _times(dashboard, max(20, args.repeat))
                    cold = await _times(dashboard, args.repeat, changed)
                    print(
                        f"| dashboard page (province, {shown}) p50 / p95 / max: {warm[0]:.0f} / {warm[1]:.0f} / "
                        f"{warm[2]:.0f} ms; after a change each time (summary computed): "
                        f"{cold[0]:.0f} / {cold[1]:.0f} / {cold[2]:.0f} ms |"
                    )

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

                c50, _, cmax = await _times(compliance, args.repeat)
                print(f"| reception compliance (every unit, {year}) p50 / max: {c50:.0f} / {cmax:.0f} ms |")
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
