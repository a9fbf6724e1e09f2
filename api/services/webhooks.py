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
import socket
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


# IPv6 ranges that carry an IPv4 address a gateway may forward to: NAT64 (64:ff9b::/96, and the local-use
# 64:ff9b:1::/48). Their embedded address must be public too (6to4, Teredo and IPv4-mapped ones are read by
# `ipaddress` itself; IPv4-compatible ::a.b.c.d is refused outright).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def is_public(address: str) -> bool:
    """A public address: not loopback, private, link-local (cloud metadata), shared, reserved or unspecified, in
    any of its IPv6 spellings (`::ffff:127.0.0.1`, `::127.0.0.1`, `64:ff9b::7f00:1`, `2002:7f00:1::`, Teredo)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return True
    if int(ip) >> 32 == 0:
        return False  # ::/96: the deprecated IPv4-compatible form (::127.0.0.1), never a webhook receiver
    embedded: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        embedded.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(v4.is_global and not v4.is_multicast for v4 in embedded)


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (one look-up); [] if it does not resolve."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def targets(url: str, allow_private: bool) -> list[str]:
    """The addresses a request to `url` may connect to: its host resolved once, every address it resolves to
    checked (unless private ones are allowed); [] if the URL is unusable or any address is refused."""
    try:
        parsed = httpx.URL(url)
        host, port = parsed.raw_host.decode("ascii"), parsed.port or (443 if parsed.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return []
    if parsed.scheme not in ("http", "https") or not host:
        return []
    addresses = await resolve(host, port)
    if not allow_private and not all(is_public(a) for a in addresses):
        return []
    return addresses


async def public_address(url: str) -> bool:
    """Every address the URL's host resolves to is a public one (`is_public`), so webhooks cannot be aimed at the
    service's own network."""
    return bool(await targets(url, allow_private=False))


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


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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


class AddressRefused(Exception):
    """The URL's host does not resolve, or resolves to an address that is not public."""


async def post_pinned(
    client: httpx.AsyncClient, url: str, content: bytes, headers: dict[str, str], *, allow_private: bool
) -> httpx.Response:
    """POST to `url` at the very address that was checked: its host is resolved once (`targets`), every address
    checked, and the connection made to that address with the name as Host header and TLS server name (SNI and
    certificate), so a name that answers a public address to the check and loopback to a second look-up (DNS
    rebinding) gets no second look-up. Redirects are not followed (the client's default). AddressRefused if
    refused; httpx's errors as they come."""
    addresses = await targets(url, allow_private)
    if not addresses:
        if allow_private and url.startswith(("http://", "https://")):
            # Nothing to check, nothing to pin to: a name this machine does not resolve (a proxy may).
            return await client.post(url, content=content, headers=headers)
        raise AddressRefused
    parsed = httpx.URL(url)
    pinned = {
        **headers,
        "Host": parsed.netloc.decode("ascii"),  # the name (and port) the receiver expects, not the address
        "Connection": "close",  # no connection kept to this address for another name's request
    }
    extensions = {} if _is_address(parsed.host) else {"sni_hostname": parsed.raw_host.decode("ascii")}
    for address in addresses[:-1]:  # each checked address in the resolver's order, as a client would try them
        try:
            return await client.post(
                parsed.copy_with(host=address), content=content, headers=pinned, extensions=extensions
            )
        except httpx.ConnectError:
            continue
    return await client.post(
        parsed.copy_with(host=addresses[-1]), content=content, headers=pinned, extensions=extensions
    )


async def _send(
    client: httpx.AsyncClient, sub: WebhookSubscription, event: OutboxEvent, now: datetime, allow_private: bool
) -> tuple[int | None, str | None]:
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "X-Tiepdan-Event-Id": str(event.event_id),
        "X-Tiepdan-Event-Type": event.event_type,
        SIGNATURE_HEADER: sign(sub.secret, int(now.timestamp()), body),
    }
    try:  # checked again at delivery (DNS may have changed since registration), and connected to what was checked
        response = await post_pinned(client, sub.url, body, headers, allow_private=allow_private)
    except AddressRefused:
        return None, "address_not_public"
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
