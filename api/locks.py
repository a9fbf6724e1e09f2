"""PostgreSQL advisory-lock ids, all in one place so no two jobs share one by accident. Each is taken
with pg_advisory_xact_lock (released at the end of the transaction)."""

from enum import IntEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession


class Lock(IntEnum):
    bootstrap_admin = 7261001  # one bootstrap admin, whichever process starts first
    seed = 7261002  # the demo seed runs once
    calendar = 7261003  # one calendar change (and its recomputation) at a time
    sweep = 7261004  # one deadline sweep at a time (tried, not waited for)
    checkpoint = 7261005  # checkpoints are numbered and chained: one made at a time
    key_checks = 7261006  # the first start writes the key check values once


async def hold(session: AsyncSession, lock: Lock) -> None:
    """Wait for the lock and hold it until this transaction ends."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(lock))))


async def try_hold(session: AsyncSession, lock: Lock) -> bool:
    """Take the lock for this transaction if it is free; False if another transaction holds it."""
    return bool(await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(int(lock)))))
