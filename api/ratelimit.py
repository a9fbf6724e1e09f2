"""Per-caller request rate limits on expensive endpoints (search, duplicate suggestions, exports).

A token bucket per (bucket, caller) in this process: `per_minute` requests refill over a minute, up to `burst`
at once. Beyond it the request is refused with 429 and Retry-After. In memory by default (each process counts
its own callers; behind N processes the effective limit is at most N times the setting); the public endpoints
of the citizen channel will share counts through Redis when REDIS_URL is set.
"""

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from api.errors import Code, DomainError

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


class PublicLimits:
    """Limits of the citizen channel, counted per client address and per device id: in this process, or in Redis
    (REDIS_URL) so that several API processes share one count. A fixed window per minute (per hour for failed
    look-ups); over the limit, 429 with Retry-After."""

    def __init__(self, per_minute: int, burst: int, failures_per_hour: int, redis_url: str | None = None) -> None:
        self.per_minute, self.failures_per_hour = per_minute, failures_per_hour
        self._memory = Limiter(per_minute, burst)
        self._failures = Limiter(failures_per_hour / 60, failures_per_hour)
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)

    async def _count(self, key: str, window: int, limit: int) -> float:
        """Seconds to wait (0 when allowed) after counting one more request for `key` in its window."""
        now = time.time()
        slot = int(now // window)
        name = f"tiepdan:rl:{key}:{slot}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 5)
        count, _ = await pipe.execute()
        return 0.0 if int(count) <= limit else (slot + 1) * window - now

    async def hit(self, *keys: str) -> None:
        """Count a request of each caller key (address, device); refuse when any is over its limit."""
        for key in keys:
            if self._redis is not None:
                wait = await self._count(key, 60, self.per_minute)
            else:
                wait = self._memory.wait(key)
            if wait > 0:
                raise DomainError(Code.rate_limited, headers={"Retry-After": str(max(1, math.ceil(wait)))})

    async def failed_lookup(self, key: str) -> None:
        """A wrong tracking code or access key: counted per address, so codes and keys cannot be guessed."""
        if self._redis is not None:
            wait = await self._count(f"fail:{key}", 3600, self.failures_per_hour)
        else:
            wait = self._failures.wait(f"fail:{key}")
        if wait > 0:
            raise DomainError(Code.too_many_attempts, headers={"Retry-After": str(max(1, math.ceil(wait)))})

    async def lookups_blocked(self, key: str) -> None:
        """Refuse look-ups from an address that has used up its failures (without counting this one)."""
        if self._redis is not None:
            slot = int(time.time() // 3600)
            count = await self._redis.get(f"tiepdan:rl:fail:{key}:{slot}")
            if count is not None and int(count) >= self.failures_per_hour:
                wait = (slot + 1) * 3600 - time.time()
                raise DomainError(Code.too_many_attempts, headers={"Retry-After": str(max(1, math.ceil(wait)))})
            return
        bucket = self._failures._buckets.get(f"fail:{key}")
        if bucket is not None:
            tokens = min(self._failures.burst, bucket.tokens + (time.monotonic() - bucket.at) * self._failures.rate)
            if tokens < 1:
                wait = (1 - tokens) / self._failures.rate
                raise DomainError(Code.too_many_attempts, headers={"Retry-After": str(max(1, math.ceil(wait)))})

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
