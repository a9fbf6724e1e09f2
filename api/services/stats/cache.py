"""The statistics' cache: an answer (a form in one format, the summary) is kept under the versions of the data it
counts, in PostgreSQL (shared by every API process) with a small layer in this process in front, keyed the same.

The versions (migration 0030): triggers on every table a form reads add one to that table's counter in the
transaction of each change — `case_facts` (every counted column of a case, copied there by the trigger on
`cases`), the urging events, users' units, units, the register, the sittings, citizens' ratings and the calendar.
A source's version is the sum of its counters; each committed change raises it.

Why an answer served from the cache is the answer computed now:
- `SOURCES` names, per answer, the sources whose tables its SQL reads (tests/test_stats_cache.py checks it against
  the SQL itself: every table a form or the summary reads is a source's table).
- An answer is stored only from a transaction that has written nothing (`txid_current_if_assigned()` is null), so
  it was computed from committed data only; and only when the versions read before and after computing it are
  equal — no change to its sources committed in between, so every statement of the computation saw the same
  committed data, the data those versions name (a later change raises a version, so the entry is never served
  again).
- An entry is served only when its versions are the current ones (read in the request's own snapshot).

Counts only: nothing here carries a name, a title or a text of a case."""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# Per answer: the sources its figures depend on. `units` is in every one (the scope, the rows, their names).
SOURCES: dict[str, tuple[str, ...]] = {
    "tcd": ("units", "reception_entries", "reception_sessions", "calendar"),
    "xld": ("units", "case_facts", "urges", "users", "calendar"),
    "gqkn": ("units", "case_facts", "calendar"),
    "gqtc": ("units", "case_facts", "calendar"),
    "kqth": ("units", "case_facts", "calendar"),
    "summary": ("units", "case_facts", "case_ratings", "calendar"),
    # The heads' reception compliance (services/reception/duty: units and their own requirements, the sittings that
    # took place — held, or with lines in the register — and the rules, which are code); today in its version.
    "compliance": ("units", "reception_sessions", "reception_entries", "calendar"),
}
# The table each source counts changes of (migration 0030's triggers).
TABLES: dict[str, str] = {
    "case_facts": "case_facts",
    "urges": "case_events",
    "users": "users",
    "units": "units",
    "reception_entries": "reception_entries",
    "reception_sessions": "reception_sessions",
    "case_ratings": "case_ratings",
    "calendar": "calendar_overrides",
}

_VERSIONS = sa.text(
    "SELECT source, sum(version)::bigint AS v, txid_current_if_assigned() IS NULL AS clean, "
    "pg_is_in_recovery() AS standby FROM stats_data_versions GROUP BY source"
)
_GET = sa.text("SELECT body FROM stats_cache WHERE key = :key AND version = :version")
_PUT = sa.text(
    "INSERT INTO stats_cache (key, version, body, made_at) VALUES (:key, :version, :body, now()) "
    "ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body, made_at = EXCLUDED.made_at"
)

LOCAL_ENTRIES = 512
LOCAL_BYTES = 64 * 1024 * 1024


class Local:
    """This process's layer in front of the table: the most recently used answers, by key and versions."""

    def __init__(self, entries: int = LOCAL_ENTRIES, max_bytes: int = LOCAL_BYTES) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._bytes = 0

    def get(self, key: str, version: str) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] != version:
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: str, version: str, body: bytes) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._items[key] = (version, body)
        self._bytes += len(body)
        while self._items and (len(self._items) > self.entries or self._bytes > self.max_bytes):
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= len(dropped)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


async def versions(session: AsyncSession) -> tuple[dict[str, int], bool, bool]:
    """Every source's version; whether this transaction has written nothing (only then may it store); whether the
    session reads a standby (a read replica, DATABASE_READ_URL: what it computes is kept in this process only)."""
    rows = (await session.execute(_VERSIONS)).all()
    clean = all(r.clean for r in rows) if rows else True
    standby = bool(rows[0].standby) if rows else False
    return {r.source: int(r.v) for r in rows}, clean, standby


def version_of(current: dict[str, int], sources: Iterable[str]) -> str:
    return ",".join(f"{s}={current.get(s, 0)}" for s in sources)


class Use:
    """How a caller uses the cache: the process's layer (one per app: a process may serve several databases, as
    the tests do), and what a computation costs them — one token of their statistics limit (429 beyond it) and a
    place among the process's computations running at once (waited for, never refused)."""

    def __init__(
        self,
        local: Local | None = None,
        take: Callable[[], None] | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.local, self.take, self.gate = local, take, gate

    async def run(self, compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.take is not None:
            self.take()
        if self.gate is None:
            return await compute()
        async with self.gate:
            return await compute()


PLAIN = Use()  # the table only, nothing charged (the dashboard, the reports)


async def answer(
    session: AsyncSession,
    key: str,
    sources: tuple[str, ...],
    compute: Callable[[], Awaitable[bytes]],
    *,
    use: Use = PLAIN,
    store: bool = True,
    also: str = "",
) -> bytes:
    """The answer under `key`: from this process or the table when its versions are current, else computed
    (charged to the caller: `use`) and stored when it provably is the answer for those versions (module docstring)."""
    before, clean, standby = await versions(session)
    version = version_of(before, sources) + also  # `also`: what else the answer depends on (the summary: today)
    store = store and clean
    local = use.local
    if store:
        hit = local.get(key, version) if local is not None else None
        if hit is not None:
            return hit
        body = await session.scalar(_GET, {"key": key, "version": version})
        if body is not None:
            if local is not None:
                local.put(key, version, bytes(body))
            return bytes(body)
    made: bytes = await use.run(compute)
    if store:
        after, still_clean, _ = await versions(session)
        if still_clean and version_of(after, sources) + also == version:
            if not standby:  # a read replica's answers are kept in this process only
                await session.execute(_PUT, {"key": key, "version": version, "body": made})
                await session.commit()
            if local is not None:
                local.put(key, version, made)
    return made
