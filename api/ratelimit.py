"""Per-caller request rate limits on expensive endpoints (search, duplicate suggestions) and on the statistics.

The statistics (forms and their exports, the summary, a report's diff) have a limiter of their own, a `Limiter`
with STATS_PER_MINUTE / STATS_BURST (app.state.stats_limiter), charged only when figures are computed (a kept answer
is free: api/services/stats/cache.py); text search and duplicate suggestions keep EXPENSIVE_PER_MINUTE /
EXPENSIVE_BURST (app.state.expensive_limiter).

A token bucket per (bucket, caller) in this process: `per_minute` requests refill over a minute, up to `burst`
at once. Beyond it the request is refused with 429 and Retry-After. In memory by default (each process counts
its own callers; behind N processes the effective limit is at most N times the setting); the public endpoints
of the citizen channel share counts through Redis when REDIS_URL is set, and fall back to this process's own
counts while Redis does not answer.

The citizen channel keeps no client address: its limits count by a keyed hash of the address that changes every
day (`address_tag`), so neither Redis nor the database nor this process's memory holds an address that a copy of
them (without the service's keys) could read back, and yesterday's tags cannot be linked to today's. The address
itself is the peer's, or, when the peer is a trusted proxy (FORWARDED_ALLOW_IPS), the first untrusted hop of
X-Forwarded-For counted from the right (`client_address`).
"""

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from api import clock
from api.errors import Code, DomainError
from api.settings import Settings

if TYPE_CHECKING:  # the type only: the limits are kept below the web layer (pyproject.toml: import contracts)
    from starlette.requests import HTTPConnection

log = logging.getLogger("api.ratelimit")

MAX_CALLERS = 50_000  # buckets kept per limiter; the least recently used are forgotten first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class Limiter:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def wait(self, key: str, now: float | None = None) -> float:
        """Take one token for `key`: 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_CALLERS:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate if self.rate > 0 else 60.0

    def check(self, key: str) -> None:
        wait = self.wait(key)
        if wait > 0:
            raise DomainError(Code.rate_limited, headers={"Retry-After": str(max(1, math.ceil(wait)))})


class TrustedProxies:
    """FORWARDED_ALLOW_IPS: addresses and networks (comma-separated; `*` for any peer) whose X-Forwarded-For is
    believed. The same setting is given to uvicorn (`python -m api serve`)."""

    def __init__(self, spec: str) -> None:
        items = [p.strip() for p in spec.split(",") if p.strip()]
        self.any = "*" in items
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: set[str] = set()
        for item in items:
            if item == "*":
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.names.add(item)  # e.g. "unix:" or a literal host name given by the deployment

    def __contains__(self, host: str) -> bool:
        if self.any or host in self.names:
            return True
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.networks)


def forwarded_client(peer: str, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The caller's address: the peer's, unless the peer is a trusted proxy; then the nearest hop of
    X-Forwarded-For (from the right) that is not itself a trusted proxy. A client cannot forge its way past a
    proxy that appends to the header: whatever it put on the left is never reached."""
    if peer not in trusted or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


def client_address(conn: "HTTPConnection") -> str:
    """The address of whoever is calling (in memory only: the citizen channel stores none of it)."""
    peer = conn.client.host if conn.client else "unknown"
    trusted: TrustedProxies | None = getattr(conn.app.state, "trusted_proxies", None)
    if trusted is None:
        return peer
    return forwarded_client(peer, conn.headers.get("x-forwarded-for"), trusted)


def limited_network(address: str) -> str:
    """What an address limit counts: an IPv4 address itself (an IPv4-mapped IPv6 address as its IPv4), an IPv6
    address by its /64 (one subscriber's network: a caller cannot take a new address from it for each request)."""
    try:
        addr = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def _derived(settings: Settings, label: bytes) -> bytes:
    """A key of its own for `label`, derived from the oldest identity key (as api/vault.py does): it stays
    the same across a rotation of IDENTITY_KEYS, and lives outside the database."""
    return hashlib.sha256(label + b":" + settings.identity_key_list()[-1].encode()).digest()


class Tagger:
    """Keyed, daily-rotating hashes of client addresses and device ids: HMAC(key, day || kind || value). What a
    limit counts, in Redis or in memory; today's tag of an address says nothing of yesterday's, and without the key
    (out of the database) no tag can be tried against a list of addresses."""

    def __init__(self, settings: Settings) -> None:
        self._key = _derived(settings, b"tiepdan-address-limit")

    def tag(self, kind: str, value: str, day: date | None = None) -> str:
        day = day or clock.today()
        if kind == "ip":
            value = limited_network(value)
        message = f"{day.isoformat()}\x00{kind}\x00{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


def idempotency_scope_key(settings: Settings) -> bytes:
    """The key under which a citizen's Idempotency-Key is bound to their device or address (citizen/submissions)."""
    return _derived(settings, b"tiepdan-idempotency-scope")


def _retry(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


# One step in Redis: count one more in the window, set its expiry on the first, and answer the count.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return n
"""
# A reservation given back (a look-up that found its case): only while its window's key is still there.
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
"""
REDIS_RETRY_SECONDS = 15.0


def _unavailable(exc: BaseException) -> bool:
    """Redis is down, unreachable or too slow (redis-py's errors, or the socket's)."""
    from redis.exceptions import RedisError

    return isinstance(
        exc, RedisError | OSError | asyncio.TimeoutError
    )  # after Redis failed, the process counts on its own this long before trying again


class _Windows:
    """Fixed-window counters in this process (the fallback of the Redis counts), the least recent forgotten."""

    def __init__(self) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()

    def add(self, name: str, n: int = 1) -> int:
        count = self._counts.pop(name, 0) + n
        self._counts[name] = count
        if len(self._counts) > MAX_CALLERS:
            self._counts.popitem(last=False)
        return count

    def give_back(self, name: str) -> None:
        if name in self._counts:
            self._counts[name] = max(0, self._counts[name] - 1)


@dataclass(frozen=True, slots=True)
class Reservation:
    """One look-up counted in advance (Redis key or in-memory window name)."""

    name: str
    in_redis: bool


class PublicLimits:
    """Limits of the citizen channel, counted per (hashed) client address and per (hashed) device id: in this
    process, or in Redis (REDIS_URL) so that several API processes share one count. A fixed window per minute in
    Redis, a token bucket in memory; over the limit, 429 with Retry-After. Look-ups by tracking code and access key
    are counted before they are tried, in one step (a Lua script in Redis; no await between check and count in
    memory), and given back when they find their case: a burst of concurrent guesses cannot pass a check that
    none of them has counted yet. When Redis does not answer, this process's own counts stand in (never a 500 or
    503), and Redis is tried again after REDIS_RETRY_SECONDS."""

    def __init__(self, per_minute: int, burst: int, failures_per_hour: int, redis_url: str | None = None) -> None:
        self.per_minute, self.failures_per_hour = per_minute, failures_per_hour
        self._memory = Limiter(per_minute, burst)
        self._lookups = _Windows()
        self._redis: Any = None
        self._redis_down_until = 0.0
        self._count_script: Any = None
        self._give_back_script: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
            self._count_script = self._redis.register_script(_COUNT)
            self._give_back_script = self._redis.register_script(_GIVE_BACK)

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._redis_down_until:
            log.warning("redis unavailable, counting in this process: %s", type(exc).__name__)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    async def _redis_count(self, name: str, window: int) -> int | None:
        """The count after one more in Redis, or None when Redis does not answer."""
        if not self.uses_redis:
            return None
        try:
            return int(await self._count_script(keys=[name], args=[window + 5]))
        except Exception as exc:
            if not _unavailable(exc):
                raise
            self._redis_failed(exc)
        return None

    async def hit(self, *keys: str) -> None:
        """Count a request of each caller key (hashed address, hashed device); refuse when any is over."""
        for key in keys:
            now = time.time()
            slot = int(now // 60)
            count = await self._redis_count(f"tiepdan:rl:{key}:{slot}", 60)
            if count is None:
                wait = self._memory.wait(key)
            else:
                wait = 0.0 if count <= self.per_minute else (slot + 1) * 60 - now
            if wait > 0:
                raise DomainError(Code.rate_limited, headers=_retry(wait))

    async def reserve_lookup(self, keys: Iterable[str]) -> list[Reservation]:
        """Count a look-up by tracking code and access key for each caller key before it is tried; 429 when any
        has used up LOOKUP_FAILURES_PER_HOUR. Give the reservations back (`lookup_found`) when the look-up found
        its case: what stays counted are the failures."""
        now = time.time()
        slot = int(now // 3600)
        made: list[Reservation] = []
        over = False
        for key in keys:
            name = f"tiepdan:rl:fail:{key}:{slot}"
            count = await self._redis_count(name, 3600)
            if count is None:
                count = self._lookups.add(name)
                made.append(Reservation(name, False))
            else:
                made.append(Reservation(name, True))
            over = over or count > self.failures_per_hour
        if over:
            raise DomainError(Code.too_many_attempts, headers=_retry((slot + 1) * 3600 - now))
        return made

    async def lookup_found(self, reservations: list[Reservation]) -> None:
        for r in reservations:
            if not r.in_redis:
                self._lookups.give_back(r.name)
                continue
            try:
                await self._give_back_script(keys=[r.name])
            except Exception as exc:
                if not _unavailable(exc):
                    raise
                self._redis_failed(exc)  # a give-back lost to a Redis failure only errs on the safe side

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


async def shared_window_count(limits: PublicLimits, name: str, window_seconds: int) -> int | None:
    """One more in the fixed window `name` shared by every API process through Redis (REDIS_URL; the key expires
    a few seconds after the `window_seconds` left of its window), and the count; None without Redis or while it
    does not answer (the caller counts in PostgreSQL then). For the Open311 quotas per API key
    (api/services/citizen/keyquota.py)."""
    return await limits._redis_count(name, window_seconds)
