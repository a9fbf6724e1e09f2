"""Webhook subscriptions (admin) and at-least-once delivery from the outbox.

Each request carries the event id (receivers deduplicate on it) and an HMAC-SHA256 signature of
`{timestamp}.{body}` with the subscription's secret. Failures retry with exponential backoff;
`FOR UPDATE SKIP LOCKED` lets several processes deliver without sending one delivery twice at once.
"""

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlparse

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import Code, DomainError
from api.models.webhooks import OutboxEvent, WebhookDelivery, WebhookSubscription
from api.pagination import Keyset, by_id
from api.services import audit
from api.services.outbox import EVENT_TYPES
from api.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
SIGNATURE_HEADER = "X-Tiepdan-Signature"


async def public_address(url: str) -> bool:
    """Every address the URL's host resolves to is a public one: no loopback, private, link-local (cloud
    metadata) or reserved range, so webhooks cannot be aimed at the service's own network."""
    host = urlparse(url).hostname
    if not host:
        return False
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


async def _check(url: str, event_types: list[str], allow_private: bool) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DomainError(Code.invalid_url, details={"field": "url"})
    if not allow_private and not await public_address(url):
        raise DomainError(Code.webhook_url_not_public, details={"field": "url"})
    unknown = sorted(set(event_types) - set(EVENT_TYPES) - {"*"})
    if unknown:
        raise DomainError(
            Code.invalid_event_type, details={"field": "event_types", "unknown": unknown, "allowed": list(EVENT_TYPES)}
        )


async def create(
    session: AsyncSession,
    actor_id: int,
    name: str,
    url: str,
    event_types: list[str],
    secret: str | None = None,
    *,
    allow_private: bool = False,
) -> WebhookSubscription:
    await _check(url, event_types, allow_private)
    sub = WebhookSubscription(
        name=name,
        url=url,
        secret=secret or secrets.token_urlsafe(32),
        event_types=sorted(set(event_types)),
        is_active=True,
        created_by_id=actor_id,
    )
    session.add(sub)
    await session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        entity="webhook",
        entity_id=sub.id,
        action="create",
        payload={"name": name, "url": url, "event_types": sub.event_types},
    )
    await session.commit()
    return sub


async def update(
    session: AsyncSession, actor_id: int, sub_id: int, changes: dict[str, object], *, allow_private: bool = False
) -> WebhookSubscription:
    sub = await session.get(WebhookSubscription, sub_id, with_for_update=True)
    if sub is None:
        raise DomainError(Code.webhook_not_found)
    await _check(str(changes.get("url", sub.url)), list(changes.get("event_types", sub.event_types)), allow_private)
    for key in ("name", "url", "event_types", "is_active"):
        if key in changes:
            setattr(sub, key, changes[key])
    audit.record(
        session,
        actor_id=actor_id,
        entity="webhook",
        entity_id=sub.id,
        action="update",
        payload={k: v for k, v in changes.items()},
    )
    await session.commit()
    return sub


async def get(session: AsyncSession, sub_id: int) -> WebhookSubscription:
    sub = await session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise DomainError(Code.webhook_not_found)
    return sub


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def body_of(event: OutboxEvent) -> bytes:
    assert event.created_at is not None
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def backoff(settings: Settings, attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.webhook_backoff_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def _send(
    client: httpx.AsyncClient, sub: WebhookSubscription, event: OutboxEvent, now: datetime, allow_private: bool
) -> tuple[int | None, str | None]:
    if not allow_private and not await public_address(sub.url):
        return None, "address_not_public"  # checked again at delivery: DNS may have changed since
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "X-Tiepdan-Event-Id": str(event.event_id),
        "X-Tiepdan-Event-Type": event.event_type,
        SIGNATURE_HEADER: sign(sub.secret, int(now.timestamp()), body),
    }
    try:
        response = await client.post(sub.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return response.status_code, None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


async def deliver_due(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    now: datetime,
    limit: int = 50,
) -> int:
    """Attempt every delivery due by `now` (one batch). Returns how many were delivered."""
    async with maker() as session:
        rows: Sequence[tuple[WebhookDelivery, OutboxEvent, WebhookSubscription]] = (
            (
                await session.execute(
                    sa.select(WebhookDelivery, OutboxEvent, WebhookSubscription)
                    .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
                    .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                    .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(limit)
                    .with_for_update(of=WebhookDelivery, skip_locked=True)
                )
            )
            .tuples()
            .all()
        )
        if not rows:
            return 0
        results = await asyncio.gather(
            *(_send(client, sub, event, now, settings.webhook_allow_private) for _, event, sub in rows)
        )
        delivered = 0
        for (delivery, _, sub), (status_code, error) in zip(rows, results, strict=True):
            delivery.attempts += 1
            delivery.last_status_code = status_code
            delivery.last_error = error
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", now
                delivered += 1
            elif delivery.attempts >= settings.webhook_max_attempts or not sub.is_active:
                delivery.status = "failed"
            else:
                delivery.next_attempt_at = now + backoff(settings, delivery.attempts)
        await session.commit()
        return delivered


async def list_subscriptions(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[WebhookSubscription], str | None]:
    return await by_id(WebhookSubscription.id).fetch(
        session, sa.select(WebhookSubscription), limit=limit, cursor=cursor
    )


_DELIVERIES: Keyset[tuple[WebhookDelivery, OutboxEvent]] = Keyset(
    columns=(WebhookDelivery.id,), kinds=(int,), key=lambda row: [row[0].id], descending=True
)


async def deliveries(
    session: AsyncSession, sub_id: int, *, cursor: str | None, limit: int
) -> tuple[list[tuple[WebhookDelivery, OutboxEvent]], str | None]:
    stmt = (
        sa.select(WebhookDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
        .where(WebhookDelivery.subscription_id == sub_id)
    )
    rows = (await session.execute(_DELIVERIES.apply(stmt, limit=limit, cursor=cursor))).tuples().all()
    return _DELIVERIES.page(rows, limit)
