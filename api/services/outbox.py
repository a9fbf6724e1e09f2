"""Transactional outbox: an event row is written in the same transaction as the change it announces,
with one delivery row per matching webhook subscription; delivery happens after commit."""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.webhooks import EVENT_TYPES

__all__ = ["EVENT_TYPES", "enqueue", "enqueue_many"]


_INSERT_MANY = sa.text("""
    WITH new AS (
        INSERT INTO outbox_events (event_id, event_type, case_id, payload)
        SELECT gen_random_uuid(), t, c, p::jsonb FROM unnest(:types, :case_ids, :payloads) AS v(t, c, p)
        RETURNING id, event_type
    ), fan AS (
        INSERT INTO webhook_deliveries (outbox_id, subscription_id)
        SELECT new.id, s.id FROM new JOIN webhook_subscriptions s
          ON s.is_active AND (new.event_type = ANY(s.event_types) OR '*' = ANY(s.event_types))
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM fan)
""").bindparams(
    sa.bindparam("types", type_=ARRAY(sa.String)),
    sa.bindparam("case_ids", type_=ARRAY(sa.BigInteger)),
    sa.bindparam("payloads", type_=ARRAY(sa.Text)),
)


# Made once: json.dumps(…, default=…) makes a new encoder on every call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


async def enqueue_many(session: AsyncSession, events: Sequence[tuple[str, int | None, dict[str, Any]]]) -> int:
    """Insert (event_type, case_id, payload) rows and their deliveries in one statement."""
    if not events:
        return 0
    row = (
        await session.execute(
            _INSERT_MANY,
            {
                "types": [e[0] for e in events],
                "case_ids": [e[1] for e in events],
                "payloads": [_ENCODE(e[2]) for e in events],
            },
        )
    ).one()
    return int(row[0])


async def enqueue(session: AsyncSession, event_type: str, case_id: int | None, payload: dict[str, Any]) -> None:
    await enqueue_many(session, [(event_type, case_id, payload)])
