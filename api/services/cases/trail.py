"""The case event trail: append-only, chained per case with a keyed hash, anchored on the case.

hash = HMAC-SHA256(CHAIN_KEY, prev_hash + canonical event JSON). The key is not in the database, so whoever can
write SQL can neither forge an event nor recompute a chain after deleting or editing one. A trigger
(migration 0010) keeps the case's `event_count` and `event_head` equal to its last event in the same
transaction: deleting the last events is seen against that anchor, and dropping a whole case's events against
the signed checkpoints (api/services/checkpoints.py).

The caller holds the case row lock (SELECT … FOR UPDATE), so `seq` and `prev_hash` are serialised.
"""

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import CaseEvent

GENESIS = "0" * 64
_KEY: list[bytes] = []


def configure(key: bytes) -> None:
    """The chain key of this process (create_app and the command line set it from the settings)."""
    _KEY[:] = [key]


def chain_key() -> bytes:
    if not _KEY:
        from api.settings import get_settings

        _KEY.append(get_settings().chain_secret())
    return _KEY[0]


def mac(text: str) -> str:
    """Keyed digest of a sealed text: the event keeps it (so the chain covers what was sealed) while the
    ciphertext itself may later be erased without breaking the chain."""
    return hmac.new(chain_key(), b"sealed:" + text.encode(), hashlib.sha256).hexdigest()


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
    return hmac.new(chain_key(), (prev_hash + canonical).encode(), hashlib.sha256).hexdigest()


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
    sealed: str | None = None,
) -> CaseEvent:
    """The next event after `head` (seq, hash of the last event; (0, GENESIS) for a new case), hashed.
    `sealed`: the ciphertext of free text taken out of `reason`/`payload` (see `seal_free_text`)."""
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
        sealed=sealed,
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
    sealed: str | None = None,
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
        sealed=sealed,
    )
    session.add(event)
    return event


def verify(events: Sequence[CaseEvent], anchor: tuple[int, str | None] | None = None) -> tuple[bool, int | None]:
    """(valid, first tampered seq): each event must chain to the previous one and match its own keyed hash,
    and, given the case's anchor (event count, head hash), the chain must end exactly there: events deleted
    from the end (or all of them) are reported at the first missing seq."""
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq or event.prev_hash != prev or digest(prev, event) != event.hash:
            return False, event.seq
        prev = event.hash
    if anchor is not None:
        count, head, n = anchor[0], anchor[1], len(events)
        if count < 1 or n == 0:  # every case has its creation event
            return False, 1
        if n != count:  # fewer: deleted from the end; more: written around the anchor
            return False, min(n, count) + 1
        if head != prev:
            return False, n
    return True, None


# Free text of a case with protected parties: what may name or point to the denouncer.
FREE_TEXT_KEYS = ("recipients", "participants", "minutes", "note", "notes")


def seal_free_text(
    vault_seal: Any, reason: str | None, payload: dict[str, Any]
) -> tuple[str | None, dict[str, Any], str | None]:
    """(reason, payload, sealed) for an event of a case with protected parties: the reason and free-text payload
    fields are sealed together (shown only to those who may see the denouncer); the stored event keeps that
    they existed and a keyed digest of them, so the chain covers them."""
    hidden = {k: payload[k] for k in FREE_TEXT_KEYS if payload.get(k) not in (None, "", [])}
    if reason in (None, "") and not hidden:
        return reason, payload, None
    plain = {"reason": reason, **hidden}
    canonical = json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)
    kept = {k: v for k, v in payload.items() if k not in hidden}
    kept["sealed_text"] = {"fields": sorted(["reason"] if reason else []) + sorted(hidden), "mac": mac(canonical)}
    return None, kept, vault_seal(plain)
