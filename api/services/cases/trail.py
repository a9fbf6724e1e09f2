"""The case event trail: append-only and hash-chained per case.

The caller holds the case row lock (SELECT … FOR UPDATE), so `seq` and `prev_hash` are serialised.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import CaseEvent

GENESIS = "0" * 64


def digest_of(
    prev_hash: str,
    *,
    case_id: int,
    seq: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    from_status: str | None,
    to_status: str | None,
    effective_date: date | None,
    reason: str | None,
    payload: dict[str, Any],
) -> str:
    body = {
        "case_id": case_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor_id": actor_id,
        "action": action,
        "from": from_status,
        "to": to_status,
        "effective_date": effective_date.isoformat() if effective_date else None,
        "reason": reason,
        "payload": payload,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def digest(prev_hash: str, event: CaseEvent) -> str:
    return digest_of(
        prev_hash,
        case_id=event.case_id,
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        effective_date=event.effective_date,
        reason=event.reason,
        payload=event.payload,
    )


def build(
    *,
    case_id: int,
    head: tuple[int, str],
    actor_id: int | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    effective_date: date | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """The next event after `head` (seq, hash of the last event; (0, GENESIS) for a new case), hashed."""
    seq, prev = head[0] + 1, head[1]
    event = CaseEvent(
        case_id=case_id,
        seq=seq,
        at=at or datetime.now(UTC),
        actor_id=actor_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective_date,
        reason=reason,
        payload=json.loads(json.dumps(payload or {}, default=str)),
        prev_hash=prev,
        hash="",
    )
    event.hash = digest(prev, event)
    return event


async def head_of(session: AsyncSession, case_id: int) -> tuple[int, str]:
    last = (
        await session.execute(
            sa.select(CaseEvent.seq, CaseEvent.hash)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.seq.desc())
            .limit(1)
        )
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


async def append(
    session: AsyncSession,
    *,
    case_id: int,
    actor_id: int | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    effective_date: date | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    head: tuple[int, str] | None = None,
) -> CaseEvent:
    """Add the next event to the session (the caller holds the case lock). `head` saves a query when known."""
    event = build(
        case_id=case_id,
        head=head or await head_of(session, case_id),
        actor_id=actor_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective_date,
        reason=reason,
        payload=payload,
    )
    session.add(event)
    return event


def verify(events: Sequence[CaseEvent]) -> tuple[bool, int | None]:
    """(valid, first tampered seq): each event must chain to the previous one and match its own hash."""
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq or event.prev_hash != prev or digest(prev, event) != event.hash:
            return False, event.seq
        prev = event.hash
    return True, None
