"""Benchmark: the deadline breach sweep over N open cases of which a share is newly overdue.

    .venv/bin/python bench/bench_sweep.py                 # 1,000,000 cases, 1% newly overdue
    .venv/bin/python bench/bench_sweep.py --cases 100000  # quicker

Runs on a fresh database of BENCH_DATABASE_URL's server (e.g. postgresql://postgres@127.0.0.1:5432/postgres)
or, when unset, of an embedded PostgreSQL in a temporary folder. Prints the figures; asserts nothing.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import clock
from api.db import make_engine, make_sessionmaker
from api.services import calendar, deadlines
from api.settings import Settings
from bench.data import fill_trigger_rows
from bench.pg import seeded_database
from workflows.calendar import WorkCalendar
from workflows.deadlines import CaseFacts, intake_timers, max_due, next_alert, next_due

SETTINGS = Settings(
    database_url="postgresql+asyncpg://unused/unused",
    jobs_enabled=False,
    secret_key="bench-secret-key-0123456789abcdef",
    argon2_time_cost=1,
    argon2_memory_cost=1024,
)


def _category(received_days_ago: int) -> tuple:
    cal, today = WorkCalendar(), clock.today()
    received = today - timedelta(days=received_days_ago)
    timers = intake_timers(CaseFacts("complaint"), received)
    return (
        received,
        json.dumps([t.to_dict() for t in timers]),
        next_due(timers, cal),
        next_alert(timers, cal, SETTINGS.due_soon_working_days),
        max_due(timers, cal),
    )


async def fill(dsn: str, host: str | None, n: int, overdue_share: float) -> None:
    conn = await asyncpg.connect(dsn, **({"host": host} if host else {}))
    try:
        unit_id = await conn.fetchval("SELECT id FROM units WHERE code = '04465'")
        user_id = await conn.fetchval("SELECT id FROM users WHERE username = 'xa.tiepdan'")
        first = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")
        fresh, late = _category(2), _category(40)
        every = round(1 / overdue_share)
        cols = [
            "id",
            "tracking_code",
            "access_key_hash",
            "kind",
            "field",
            "channel",
            "title",
            "content",
            "received_at",
            "receiving_unit_id",
            "competent_unit_id",
            "received_by_id",
            "complaint_round",
            "status",
            "timers",
            "next_due_date",
            "next_alert_date",
            "max_due_date",
            "event_count",
            "event_head",
        ]
        # Replica mode (superuser, as the load): no triggers during the load; the chain anchor (one "create" event
        # per case, so the sweep extends real hash chains) is written with each case and the statistics' copy
        # (case_facts) and the sweep's alerts (case_alerts) in one statement each after it.
        await conn.execute("SET session_replication_role = replica")
        chunk = 100_000
        for start in range(0, n, chunk):
            rows = []
            for i in range(start, min(start + chunk, n)):
                received, timers, ndd, nad, mdd = late if i % every == 0 else fresh
                head = hashlib.md5(str(first + i).encode()).hexdigest() * 2  # noqa: S324 - a stand-in hash
                rows.append(
                    (
                        first + i,
                        f"B{i:012d}",
                        "0" * 64,
                        "complaint",
                        "land",
                        "post",
                        f"Đơn số {i}",
                        "Khiếu nại về bồi thường đất đai",
                        received,
                        unit_id,
                        unit_id,
                        user_id,
                        1,
                        "received",
                        timers,
                        ndd,
                        nad,
                        mdd,
                        1,
                        head,
                    )
                )
            await conn.copy_records_to_table("cases", records=rows, columns=cols)
        await conn.execute(
            """
            INSERT INTO case_events (case_id, seq, at, action, to_status, payload, prev_hash, hash)
            SELECT id, 1, now(), 'create', 'received', '{}'::jsonb, repeat('0', 64), event_head
            FROM cases WHERE id >= $1""",
            first,
        )
        await fill_trigger_rows(conn, first, first + n)
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('cases', 'id'), {first + n})")
        if os.environ.get("BENCH_SQL"):  # an experiment on the schema, as in bench/intake.py
            await conn.execute(os.environ["BENCH_SQL"])
        # A database at rest, as a live one is between bulk loads: vacuumed (visibility map set, so autovacuum
        # does not start on the fresh million rows in the middle of the sweep) and checkpointed.
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def filled_database(cases: int, overdue_share: float) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh, migrated, seeded database holding `cases` open cases; dropped afterwards."""
    async with seeded_database(SETTINGS) as url:
        engine = make_engine(url)
        try:
            dsn, _, query = url.replace("postgresql+asyncpg://", "postgresql://").partition("?")
            t0 = time.perf_counter()
            await fill(dsn, query.split("host=", 1)[1] if "host=" in query else None, cases, overdue_share)
            took = time.perf_counter() - t0
            print(f"generated {cases:,} open cases ({overdue_share:.1%} newly overdue) in {took:.1f} s")
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--overdue-share", type=float, default=0.01)
    args = parser.parse_args()
    async with filled_database(args.cases, args.overdue_share) as maker:
        today = clock.today()
        async with maker() as session:
            # The process has its working-day calendar already, as a running service or `python -m api jobs` has
            # after its first sweep (building it, holidays library import included, takes ~0.2 s once).
            await calendar.env(session, SETTINGS)
        t0 = time.perf_counter()
        result = await deadlines.sweep(maker, SETTINGS, today)
        first = time.perf_counter() - t0
        print(
            f"sweep: {first:.2f} s — {result.cases:,} cases examined, {result.overdue:,} breaches and "
            f"{result.due_soon:,} due-soon warnings recorded (case events + outbox rows)"
        )
        t0 = time.perf_counter()
        again = await deadlines.sweep(maker, SETTINGS, today)
        print(f"second sweep (nothing new): {time.perf_counter() - t0:.3f} s — {again.overdue} breaches")


if __name__ == "__main__":
    asyncio.run(main())
