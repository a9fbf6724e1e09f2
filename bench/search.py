"""Benchmark: the case list, filters and Vietnamese text search on a large province, as a commune desk officer
and as the inspector, and one case read — through the running service.

    .venv/bin/python bench/search.py                  # 1,000,000 cases over 20 communes (fill: a few minutes)
    .venv/bin/python bench/search.py --cases 200000   # quicker
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/search.py --keep tiepdan_search_1m   # fill once, keep, reuse (migrated to head)

Fills a fresh database with bench/data.py (or reuses the kept one), starts the service (uvicorn, 1 worker), then
sends each query shape sequentially (after a warm-up) and prints p50/p95 in milliseconds. Asserts nothing.
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.data import connector, fill_cases  # noqa: E402
from bench.intake import SECRET, database, server  # noqa: E402

SHAPES: dict[str, dict[str, object]] = {
    "first page": {},
    "text, common words": {"q": "dat dai"},
    "text, common words + kind": {"q": "dat dai", "kind": "complaint"},
    "text, six words": {"q": "bồi thường giải phóng mặt bằng"},
    "text, rare words": {"q": "khe sang"},
    "filters, no match": {"kind": "denunciation", "field": "party", "multi_person": "true", "status": "received"},
    "overdue": {"overdue": "true"},
    "due date order": {"sort": "due_date", "status": "in_progress"},
    "received range + field": {"received_from": "2024-01-01", "received_to": "2024-06-30", "field": "land"},
    "received range, due-date order": {"received_from": "2024-01-01", "received_to": "2024-06-30", "sort": "due_date"},
}


async def token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "LaoCai@2026demo"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def timed(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], params: dict[str, object], n: int
) -> tuple[float, float, int]:
    for _ in range(3):
        await http.get(path, headers=headers, params=params)
    times, count = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        r = await http.get(path, headers=headers, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        body = r.json()
        count = len(body) if isinstance(body, list) else len(body.get("items", [1]))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], count


@contextlib.asynccontextmanager
async def kept(name: str, cases: int, communes: int) -> AsyncIterator[str]:
    """The database `name` on BENCH_DATABASE_URL's server, kept between runs: made, migrated, seeded and filled the
    first time; afterwards only migrated to head (a new migration's indexes are built on the data)."""
    from api.settings import Settings
    from bench.pg import kept_database

    async def fill(conn: asyncpg.Connection, url: str) -> None:
        took = await fill_cases(conn, cases, communes=communes, connect=connector(url))
        await conn.execute("VACUUM (ANALYZE)")
        print(f"generated {cases:,} cases over {communes} communes in {took:.0f} s")

    settings = Settings(secret_key=SECRET, argon2_time_cost=1, argon2_memory_cost=1024)
    yield await kept_database(name, settings, fill)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--communes", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", metavar="NAME", help="a database of this name on BENCH_DATABASE_URL's server, kept")
    parser.add_argument("--prepare", action="store_true", help="with --keep: only make (or migrate) it")
    parser.add_argument("--only", help="run only the shapes whose name contains this text")
    args = parser.parse_args()
    if args.prepare:
        async with kept(args.keep, args.cases, args.communes):
            return
    async with kept(args.keep, args.cases, args.communes) if args.keep else database() as url:
        dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
        conn = await asyncpg.connect(dsn, **({"host": query.split("host=", 1)[1]} if "host=" in query else {}))
        if not args.keep:
            took = await fill_cases(conn, args.cases, communes=args.communes, connect=connector(url))
            print(f"generated {args.cases:,} cases over {args.communes} communes in {took:.0f} s\n")
        some_case = await conn.fetchval(
            "SELECT id FROM cases WHERE competent_unit_id = (SELECT id FROM units WHERE code = '04465') "
            "ORDER BY id DESC OFFSET 1000 LIMIT 1"
        )
        await conn.close()
        # One client asking many searches on purpose: lift the per-officer limit on expensive queries.
        os.environ["EXPENSIVE_BURST"] = os.environ["EXPENSIVE_PER_MINUTE"] = "100000"
        with server("api.main:app", url, 1) as (port, _):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                print("| who                 | query shape                      | p50 ms | p95 ms | rows |")
                print("|---------------------|----------------------------------|--------|--------|------|")
                for who, label in (("xa.tiepdan", "commune desk officer"), ("thanhtra", "inspector")):
                    headers = await token(http, who)
                    for name, params in SHAPES.items():
                        if args.only and args.only not in name:
                            continue
                        p50, p95, rows = await timed(http, "/api/v1/cases", headers, params, args.repeat)
                        print(f"| {label:<19} | {name:<32} | {p50:>6.1f} | {p95:>6.1f} | {rows:>4} |")
                    if args.only:
                        continue
                    path = f"/api/v1/cases/{some_case}/duplicates"
                    p50, p95, rows = await timed(http, path, headers, {}, args.repeat // 4)
                    print(f"| {label:<19} | {'duplicates of one case':<32} | {p50:>6.1f} | {p95:>6.1f} | {rows:>4} |")
                if args.only:
                    return
                headers = await token(http, "thanhtra")
                p50, p95, _ = await timed(http, f"/api/v1/cases/{some_case}", headers, {}, args.repeat * 2)
                print(f"| {'inspector':<19} | {'one case (GET /cases/{id})':<32} | {p50:>6.1f} | {p95:>6.1f} |    1 |")


if __name__ == "__main__":
    asyncio.run(main())
