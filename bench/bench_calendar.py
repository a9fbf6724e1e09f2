"""Benchmark: an admin adds a day off that moves the deadlines of N open cases.

    .venv/bin/python bench/bench_calendar.py --cases 100000

Same database setup as bench_sweep.py (BENCH_DATABASE_URL or an embedded PostgreSQL). Prints figures.
"""

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import clock
from api.services import calendar as calendar_service
from bench.bench_sweep import SETTINGS, filled_database
from workflows.calendar import WorkCalendar


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    async with filled_database(args.cases, 0.01) as maker:
        cal, day = WorkCalendar(), clock.today() + timedelta(days=2)
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        async with maker() as session:
            admin = await session.scalar(sa.text("SELECT id FROM users WHERE username = 'admin'"))
            t0 = time.perf_counter()
            _, moved = await calendar_service.set_override(session, SETTINGS, admin, day, "day_off", "Bench")
        elapsed = time.perf_counter() - t0
        print(f"day off on {day}: {moved:,} of {args.cases:,} open cases recomputed in {elapsed:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
