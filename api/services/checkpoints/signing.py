"""A checkpoint's signature: HMAC-SHA256 under the chain key over its number, its predecessor's signature, its
moment, counts and digest; checked on the database's rows and on a file's headers alike."""

import hashlib
import hmac
from datetime import datetime
from typing import Any

from api.models.cases import ChainCheckpoint
from api.services.cases import trail

GENESIS_SIGNATURE = "0" * 64  # what checkpoint 1 chains to


def sign(at: datetime, cases: int, events: int, digest: str, *, seq: int | None = None, prev: str | None = None) -> str:
    """The checkpoint's HMAC under the chain key. `prev` (the signature of checkpoint seq - 1): None only for
    checkpoints written before migration 0023, signed without a number or a predecessor."""
    if prev is None:
        message = f"checkpoint|{at.isoformat()}|{cases}|{events}|{digest}"
    else:
        message = f"checkpoint|{seq}|{prev}|{at.isoformat()}|{cases}|{events}|{digest}"
    return hmac.new(trail.chain_key(), message.encode(), hashlib.sha256).hexdigest()


def signed(row: ChainCheckpoint) -> bool:
    expected = sign(row.at, row.cases, row.events, row.digest, seq=row.seq, prev=row.prev_signature)
    return hmac.compare_digest(expected, row.signature)


def header_of(checkpoint: ChainCheckpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "at": checkpoint.at.isoformat(),
        "cases": checkpoint.cases,
        "events": checkpoint.events,
        "digest": checkpoint.digest,
        "prev_signature": checkpoint.prev_signature,
        "signature": checkpoint.signature,
    }


def check_header(header: dict[str, Any], digest: str) -> None:
    at = datetime.fromisoformat(header["at"])
    prev = header.get("prev_signature")
    seq = int(header["seq"]) if prev is not None else None
    expected = sign(at, int(header["cases"]), int(header["events"]), header["digest"], seq=seq, prev=prev)
    if digest != header["digest"] or not hmac.compare_digest(expected, str(header["signature"])):
        raise ValueError("the checkpoint file is not signed with this service's chain key or was altered")
