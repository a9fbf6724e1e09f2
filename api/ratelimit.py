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

from api.errors import Code, DomainError

MAX_CALLERS = 50_000  # buckets kept per limiter; the least recently used are forgotten first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class Limiter:
    def __init__(self, per_minute: int, burst: int) -> None:
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
