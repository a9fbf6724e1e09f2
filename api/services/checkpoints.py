"""Signed checkpoints of every case's chain head, and the full-database verification.

A checkpoint is the list of (case id, event count, head hash) of every case at one moment, summarised by a
SHA-256 digest and signed (HMAC) with the chain key. The summary is kept in `chain_checkpoints`; the whole list
is written to a file by `python -m api checkpoint --out FILE` for keeping off the database server. Against such
a file, `python -m api verify-events --checkpoint FILE` finds what the per-case anchor cannot: a case deleted
with all its events, or a chain cut back and re-anchored, since the key needed to re-sign is not in the database.
"""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import Case, CaseEvent, ChainCheckpoint
from api.services.cases import trail

BATCH = 2000


def _line(case_id: int, count: int, head: str | None) -> str:
    return f"{case_id}:{count}:{head or ''}\n"


def sign(at: datetime, cases: int, events: int, digest: str) -> str:
    message = f"checkpoint|{at.isoformat()}|{cases}|{events}|{digest}".encode()
    return hmac.new(trail.chain_key(), message, hashlib.sha256).hexdigest()


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


async def make(
    session: AsyncSession, out: Path | None = None, progress: Callable[[int], object] | None = None
) -> ChainCheckpoint:
    """Record a checkpoint now (and write its full list of heads to `out`), committing the session. Chains only
    grow, so each line read is true of the moment it was read. `progress` is told of every case read."""
    at = datetime.now(UTC)
    digest, cases, events = hashlib.sha256(), 0, 0
    lines: list[str] = []
    async for case_id, count, head in _heads(session):
        line = _line(case_id, count, head)
        digest.update(line.encode())
        cases, events = cases + 1, events + count
        if out is not None:
            lines.append(line)
        if progress is not None:
            progress(1)
    hexdigest = digest.hexdigest()
    checkpoint = ChainCheckpoint(
        at=at, cases=cases, events=events, digest=hexdigest, signature=sign(at, cases, events, hexdigest)
    )
    session.add(checkpoint)
    await session.commit()
    if out is not None:
        header = {"at": at.isoformat(), "cases": cases, "events": events, "digest": hexdigest}
        header["signature"] = checkpoint.signature
        await asyncio.to_thread(out.write_text, json.dumps(header) + "\n" + "".join(lines))
    return checkpoint


@dataclass
class Problem:
    case_id: int
    seq: int | None
    why: str


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[int, tuple[int, str]]]:
    """The header and the heads of a checkpoint file; ValueError if its signature or digest do not hold."""
    first, *rest = path.read_text().splitlines(keepends=True)
    header = json.loads(first)
    digest = hashlib.sha256("".join(rest).encode()).hexdigest()
    at = datetime.fromisoformat(header["at"])
    expected = sign(at, int(header["cases"]), int(header["events"]), header["digest"])
    if digest != header["digest"] or not hmac.compare_digest(expected, str(header["signature"])):
        raise ValueError("the checkpoint file is not signed with this service's chain key or was altered")
    heads: dict[int, tuple[int, str]] = {}
    for line in rest:
        case_id, count, head = line.rstrip("\n").split(":")
        heads[int(case_id)] = (int(count), head)
    return header, heads


async def verify_all(
    session: AsyncSession,
    checkpoint: dict[int, tuple[int, str]] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Report:
    """Every chain under the key and against its anchor; with a checkpoint, every case it lists must still be
    there with the event it had then. `progress` is told how many cases each batch checked."""
    report = Report()
    seen: set[int] = set()
    batch: list[tuple[int, int, str | None]] = []

    async def check(cases: Iterable[tuple[int, int, str | None]]) -> None:
        anchors = {case_id: (count, head) for case_id, count, head in cases}
        events = (
            await session.scalars(
                sa.select(CaseEvent)
                .where(CaseEvent.case_id.in_(list(anchors)))
                .order_by(CaseEvent.case_id, CaseEvent.seq)
            )
        ).all()
        by_case: dict[int, list[CaseEvent]] = {case_id: [] for case_id in anchors}
        for event in events:
            by_case[event.case_id].append(event)
        for case_id, chain in by_case.items():
            report.cases += 1
            report.events += len(chain)
            valid, bad = trail.verify(chain, anchors[case_id])
            if not valid:
                report.problems.append(Problem(case_id, bad, "chain or anchor does not hold"))
            if checkpoint is not None and case_id in checkpoint:
                count, head = checkpoint[case_id]
                at = chain[count - 1] if 0 < count <= len(chain) else None
                if at is None or at.hash != head:
                    report.problems.append(Problem(case_id, count, "differs from the checkpoint"))
        session.expunge_all()
        if progress is not None:
            progress(len(anchors))

    async for row in _heads(session):
        seen.add(row[0])
        batch.append(row)
        if len(batch) >= BATCH // 4:
            await check(batch)
            batch = []
    if batch:
        await check(batch)
    for case_id in sorted(set(checkpoint or {}) - seen):
        report.problems.append(Problem(case_id, None, "in the checkpoint but no longer in the database"))
    return report


async def due(session: AsyncSession, now: datetime, every_hours: float) -> bool:
    latest = await session.scalar(sa.select(sa.func.max(ChainCheckpoint.at)))
    return latest is None or (now - latest).total_seconds() >= every_hours * 3600
