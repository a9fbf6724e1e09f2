"""Open311 quotas per API key: an app's server posting for thousands of phones is one client, limited by the quota
set when its key was issued (`per_minute`, `per_day`), not by its address.

Each request of a key is counted in two fixed windows, the minute (UTC) and the legal day (Asia/Ho_Chi_Minh),
shared by every API process: in Redis when REDIS_URL is set (the same script as the citizen channel's limits,
api/ratelimit.py), else — or while Redis does not answer — in PostgreSQL (`api_key_usage`, one statement that
counts and answers the count). Over either, 429 `api_key_quota_minute` / `api_key_quota_day` with Retry-After.
A refused request is not counted, so a client that waits out its minute still has its day. Counts hold a key's id
and a number, nothing of the phones or people behind it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.errors import Code, DomainError
from api.models.public import ApiKey

# One more in a window shared by every process (Redis), or None when there is none or it does not answer.
SharedCount = Callable[[str, int], Awaitable[int | None]]


@dataclass(frozen=True, slots=True)
class Windows:
    minute: datetime
    day: datetime
    minute_ends: datetime
    day_ends: datetime

    @classmethod
    def at(cls, now: datetime) -> "Windows":
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        local = now.astimezone(clock.VN)
        day = datetime(local.year, local.month, local.day, tzinfo=clock.VN)
        return cls(minute, day, minute + timedelta(minutes=1), day + timedelta(days=1))  # Việt Nam: no DST


# Counted only while under the limit: a refused request leaves the count as it was (the row stays locked for this
# statement only). The day's row is counted first, then the minute's, in one transaction of their own.
_COUNT = sa.text("""
    INSERT INTO api_key_usage (api_key_id, span, window_start, count) VALUES (:key, :span, :start, 1)
    ON CONFLICT (api_key_id, span, window_start) DO UPDATE SET count = api_key_usage.count + 1
    WHERE api_key_usage.count < :limit
    RETURNING count
""")
_UNCOUNT = sa.text("""
    UPDATE api_key_usage SET count = count - 1 WHERE api_key_id = :key AND span = :span AND window_start = :start
""")
_FORGET = sa.text("""
    DELETE FROM api_key_usage
    WHERE api_key_id = :key AND ((span = 'minute' AND window_start < :minute) OR (span = 'day' AND window_start < :day))
""")


def _refused(code: Code, limit: int, ends: datetime, now: datetime) -> DomainError:
    wait = max(1, ceil((ends - now).total_seconds()))
    return DomainError(code, details={"limit": limit}, headers={"Retry-After": str(wait)})


async def _in_postgres(session: AsyncSession, key: ApiKey, w: Windows, now: datetime) -> None:
    day = await session.scalar(_COUNT, {"key": key.id, "span": "day", "start": w.day, "limit": key.per_day})
    if day is None:
        await session.commit()
        raise _refused(Code.api_key_quota_day, key.per_day, w.day_ends, now)
    minute = await session.scalar(_COUNT, {"key": key.id, "span": "minute", "start": w.minute, "limit": key.per_minute})
    if minute is None:
        await session.execute(_UNCOUNT, {"key": key.id, "span": "day", "start": w.day})
        await session.commit()
        raise _refused(Code.api_key_quota_minute, key.per_minute, w.minute_ends, now)
    if minute == 1:  # a new minute: this key's past windows go
        await session.execute(_FORGET, {"key": key.id, "minute": w.minute, "day": w.day})
    await session.commit()


async def spend(session: AsyncSession, key: ApiKey, shared: SharedCount | None, now: datetime | None = None) -> None:
    """Count one request of `key`; 429 when its minute's or its day's quota is used up. Commits the count (and
    nothing else: call it before the request's own work)."""
    now = now or clock.now()
    w = Windows.at(now)
    if shared is not None:
        ttl_minute = ceil((w.minute_ends - now).total_seconds())
        ttl_day = ceil((w.day_ends - now).total_seconds())
        minute = await shared(f"tiepdan:o311:{key.id}:m:{w.minute:%Y%m%d%H%M}", ttl_minute)
        day = await shared(f"tiepdan:o311:{key.id}:d:{w.day:%Y%m%d}", ttl_day) if minute is not None else None
        if minute is not None and day is not None:
            # Redis counts every request, refused ones too (its windows expire on their own).
            if day > key.per_day:
                raise _refused(Code.api_key_quota_day, key.per_day, w.day_ends, now)
            if minute > key.per_minute:
                raise _refused(Code.api_key_quota_minute, key.per_minute, w.minute_ends, now)
            return
    await _in_postgres(session, key, w, now)
