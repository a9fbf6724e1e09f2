"""Recording a checkpoint: every case's chain head read in id order, digested, signed, numbered after the last and
kept in `chain_checkpoints` (one at a time, under an advisory lock); `due` says when the jobs make the next."""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.models.cases import Case, ChainCheckpoint
from api.services.checkpoints.signing import GENESIS_SIGNATURE, header_of, sign

BATCH = 2000


def _line(case_id: int, count: int, head: str | None) -> str:
    return f"{case_id}:{count}:{head or ''}\n"


async def _heads(session: AsyncSession) -> AsyncIterator[tuple[int, int, str | None]]:
    """Every case's anchor, in id order, a batch at a time (keyset on the primary key)."""
    after = 0
    while True:
        rows = (
            await session.execute(
                sa.select(Case.id, Case.event_count, Case.event_head)
                .where(Case.id > after)
                .order_by(Case.id)
                .limit(BATCH)
            )
        ).all()
        for case_id, count, head in rows:
            yield case_id, count, head
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


async def make_record(
    session: AsyncSession, progress: Callable[[int], object] | None = None, *, every_hours: float | None = None
) -> tuple[ChainCheckpoint, str] | None:
    """Record the next checkpoint now, committing the session: (the checkpoint, its record — a JSON header line
    then one line per case — as kept in a checkpoint file). One at a time (an advisory lock): each is numbered
    after the last and signs its signature. With `every_hours`, None if a checkpoint that recent exists (checked
    under the lock, so processes running the jobs together make one). Chains only grow, so each line read is true
    of the moment it was read. `progress` is told of every case read."""
    await locks.hold(session, locks.Lock.checkpoint)
    at = datetime.now(UTC)
    last = (
        await session.execute(
            sa.select(ChainCheckpoint.seq, ChainCheckpoint.signature, ChainCheckpoint.at)
            .order_by(ChainCheckpoint.seq.desc())
            .limit(1)
        )
    ).first()
    if every_hours is not None and last is not None and (at - last[2]).total_seconds() < every_hours * 3600:
        await session.rollback()
        return None
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_SIGNATURE)
    digest, cases, events = hashlib.sha256(), 0, 0
    lines: list[str] = []
    async for case_id, count, head in _heads(session):
        line = _line(case_id, count, head)
        digest.update(line.encode())
        cases, events = cases + 1, events + count
        lines.append(line)
        if progress is not None:
            progress(1)
    hexdigest = digest.hexdigest()
    checkpoint = ChainCheckpoint(
        at=at,
        cases=cases,
        events=events,
        digest=hexdigest,
        seq=seq,
        prev_signature=prev,
        signature=sign(at, cases, events, hexdigest, seq=seq, prev=prev),
    )
    session.add(checkpoint)
    await session.commit()
    return checkpoint, json.dumps(header_of(checkpoint)) + "\n" + "".join(lines)


async def make(
    session: AsyncSession, out: Path | None = None, progress: Callable[[int], object] | None = None
) -> ChainCheckpoint:
    """Record a checkpoint now (and write its record to `out`), committing the session."""
    made = await make_record(session, progress)
    assert made is not None
    if out is not None:
        await asyncio.to_thread(out.write_text, made[1])
    return made[0]


async def due(session: AsyncSession, now: datetime, every_hours: float) -> bool:
    latest = await session.scalar(sa.select(sa.func.max(ChainCheckpoint.at)))
    return latest is None or (now - latest).total_seconds() >= every_hours * 3600
