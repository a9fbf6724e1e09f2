"""Benchmark: an admin adds a day off that moves the deadlines of N open cases.

    .venv/bin/python benchmarks/bench_calendar.py --cases 100000

Same database setup as bench_sweep.py (BENCH_DATABASE_URL or an embedded PostgreSQL). Prints figures.
"""

import argparse
import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import clock
from api.cli import migrate
from api.db import make_engine, make_sessionmaker
from api.security import Passwords
from api.seed import seed_demo
from api.services import calendar as calendar_service
from benchmarks.bench_sweep import SETTINGS, fill
from tests.pg import PgServer
from workflows.calendar import WorkCalendar


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    server = PgServer()
    name = await asyncio.to_thread(server.create_database, "tiepdan_bench")
    url = server.url(name)
    try:
        await asyncio.to_thread(migrate, url)
        engine = make_engine(url)
        maker = make_sessionmaker(engine)
        async with maker() as session:
            await seed_demo(session, Passwords(SETTINGS))
        raw = url.replace("postgresql+asyncpg://", "postgresql://")
        dsn, _, query = raw.partition("?")
        await fill(dsn, query.split("host=", 1)[1] if "host=" in query else None, args.cases, 0.01)
        cal, day = WorkCalendar(), clock.today() + timedelta(days=2)
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        async with maker() as session:
            admin = await session.scalar(__import__("sqlalchemy").text("SELECT id FROM users WHERE username='admin'"))
            t0 = time.perf_counter()
            _, moved = await calendar_service.set_override(session, SETTINGS, admin, day, "day_off", "Bench")
        elapsed = time.perf_counter() - t0
        print(f"day off on {day}: {moved:,} of {args.cases:,} open cases recomputed in {elapsed:.2f} s")
        await engine.dispose()
    finally:
        await asyncio.to_thread(server.drop_database, name)
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
