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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import CaseEvent
from api.vault import SealedDataError

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
    key: bytes | None = None,
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
    return hmac.new(key or chain_key(), (prev_hash + canonical).encode(), hashlib.sha256).hexdigest()


def digest(prev_hash: str, event: CaseEvent, key: bytes | None = None) -> str:
    """The event's keyed hash (under this process's chain key, or `key`)."""
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
        key=key,
    )


@dataclass(frozen=True)
class Step:
    """What an event says of a step on a case: its action, the date it is dated by, its reason and payload, and (for
    a step of the transition table) the statuses it moves between. One value from the command that takes the step
    to the event that chains it (`build`, `append`, `queries.chain_step`, `queries.record_step`)."""

    action: str
    effective_date: date | None = None
    reason: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    from_status: str | None = None
    to_status: str | None = None


def build(
    step: Step,
    *,
    case_id: int,
    head: tuple[int, str],
    actor_id: int | None,
    at: datetime | None = None,
    sealed: str | None = None,
) -> CaseEvent:
    """The next event after `head` (seq, hash of the last event; (0, GENESIS) for a new case), hashed.
    `sealed`: the ciphertext of free text taken out of the step's reason and payload (see `seal_free_text`)."""
    seq, prev = head[0] + 1, head[1]
    event = CaseEvent(
        case_id=case_id,
        seq=seq,
        at=at or datetime.now(UTC),
        actor_id=actor_id,
        action=step.action,
        from_status=step.from_status,
        to_status=step.to_status,
        effective_date=step.effective_date,
        reason=step.reason,
        payload=json.loads(json.dumps(step.payload, default=str)),
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
    session: AsyncSession, step: Step, *, case_id: int, actor_id: int | None, head: tuple[int, str] | None = None
) -> CaseEvent:
    """Add the next event to the session (the caller holds the case lock). `head` saves a query when known."""
    event = build(step, case_id=case_id, head=head or await head_of(session, case_id), actor_id=actor_id)
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


# The facts of the case row the chain vouches for (issue 21): each event that changes the case (intake, every
# command through queries.chain_step, a transfer's new case) carries in its payload, under "state", a keyed digest
# of these facts as they are after it; verification recomputes it from the row and its parties and compares it
# with the last event that carries one. A direct SQL change of the status, version, outcome, kind, units, of a
# party or accused-officer link (a party row deleted, inserted or edited), or of the officers assigned to verify
# (who may read the case) no longer matches.
STATE_KEY = "state"
STATE_CASE_FIELDS = ("kind", "status", "version", "outcome", "competent_unit_id", "receiving_unit_id")
# Flags the digest covers only when set, so that the states recorded before they existed still match: a case's
# identity protection (migration 0025) cleared behind the service no longer matches.
STATE_FLAGS = ("identity_protected",)
STATE_PARTY_FIELDS = ("role", "full_name", "id_number", "phone", "address", "sealed", "id_number_hash", "officer_id")
# Version 2 (audit 2, #4 and #1): every column the access rules rely on (access.readable, sees_identity,
# confidentiality.oversight) — also the receiver (who sees a protected identity), the protection flag always, and
# an accused link's removal (removed links stay: the officer once named stays excluded). Recorded as "v2:<hex>";
# a bare hex digest is version 1 and is still verified with version 1's fields, so older events keep verifying.
STATE_VERSION = 2
STATE_CASE_FIELDS_V2 = (*STATE_CASE_FIELDS, "received_by_id", "identity_protected")
STATE_PARTY_FIELDS_V2 = (*STATE_PARTY_FIELDS, "removed", "removed_by_id")


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value  # enums as their values


def _party_value(party: Any, name: str) -> Any:
    if name == "removed":
        return getattr(party, "removed_at", None) is not None
    return _plain(getattr(party, name, None))


def _state_hex(case: Any, parties: Iterable[Any], handlers: Iterable[int], version: int) -> str:
    case_fields, party_fields = (
        (STATE_CASE_FIELDS, STATE_PARTY_FIELDS) if version == 1 else (STATE_CASE_FIELDS_V2, STATE_PARTY_FIELDS_V2)
    )
    rows = sorted(
        json.dumps([_party_value(p, f) for f in party_fields], ensure_ascii=False, separators=(",", ":"))
        for p in parties
    )
    body = {f: _plain(getattr(case, f)) for f in case_fields}
    if version == 1:
        body.update({f: True for f in STATE_FLAGS if getattr(case, f, False)})
    body["parties"] = rows
    body["handlers"] = sorted(set(handlers))
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    prefix = b"state:" if version == 1 else f"state-v{version}:".encode()
    return hmac.new(chain_key(), prefix + canonical.encode(), hashlib.sha256).hexdigest()


def state_digest(case: Any, parties: Iterable[Any], handlers: Iterable[int] = ()) -> str:
    """Keyed digest (HMAC under the chain key) of a case's state facts, in the current version ("v2:<hex>"):
    `case` and `parties` are rows or drafts with the attributes of STATE_CASE_FIELDS_V2 and STATE_PARTY_FIELDS_V2
    (a party's order does not matter; its id does not count, since intake writes the first event before the
    parties get their ids); `handlers`: the ids of the officers assigned to the case. Pure but for the key."""
    return f"v{STATE_VERSION}:" + _state_hex(case, parties, handlers, STATE_VERSION)


def state_matches(recorded: str, case: Any, parties: Iterable[Any], handlers: Iterable[int] = ()) -> bool:
    """Whether a recorded state digest is the case's state now, recomputed with the fields of the recorded
    digest's version (a bare digest: version 1; "v2:…": version 2; an unknown version never matches)."""
    version, sep, hex_digest = recorded.partition(":")
    if not sep:
        version, hex_digest = "v1", recorded
    if version not in ("v1", f"v{STATE_VERSION}"):
        return False
    return hmac.compare_digest(hex_digest, _state_hex(case, list(parties), handlers, int(version[1:])))


def last_state(events: Sequence[CaseEvent]) -> CaseEvent | None:
    """The last event of a chain that records the case's state (None for a case written before issue 21)."""
    for event in reversed(events):
        if isinstance(event.payload, dict) and STATE_KEY in event.payload:
            return event
    return None


def check_state(
    events: Sequence[CaseEvent], case: Any, parties: Iterable[Any], handlers: Iterable[int] = ()
) -> int | None:
    """None if the case row and its parties are what the chain's last state says (or no event records one);
    otherwise the seq of that event."""
    event = last_state(events)
    if event is None:
        return None
    if state_matches(str(event.payload[STATE_KEY]), case, parties, handlers):
        return None
    return event.seq


def canonical_sealed(plain: dict[str, Any]) -> str:
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)


def check_sealed(opened: dict[str, Any], expected_mac: str | None) -> dict[str, Any]:
    """`opened` if its keyed digest is the one the chain recorded (`expected_mac`; None: nothing recorded), else
    SealedDataError: a sealed text swapped for another one sealed under the same keys is seen when opened."""
    if expected_mac is not None and not hmac.compare_digest(mac(canonical_sealed(opened)), str(expected_mac)):
        raise SealedDataError("opens to another text than its event recorded")
    return opened


def open_event_text(vault_open: Any, event: CaseEvent) -> dict[str, Any]:
    """The sealed free text of an event, opened and checked against the digest in its payload (Vault.open raises
    on a token that does not open, check_sealed on one that opens to another text)."""
    assert event.sealed is not None
    recorded = (event.payload.get("sealed_text") or {}).get("mac")
    opened: dict[str, Any] = vault_open(event.sealed)
    return check_sealed(opened, recorded)


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
    canonical = canonical_sealed(plain)
    kept = {k: v for k, v in payload.items() if k not in hidden}
    kept["sealed_text"] = {"fields": sorted(["reason"] if reason else []) + sorted(hidden), "mac": mac(canonical)}
    return None, kept, vault_seal(plain)
