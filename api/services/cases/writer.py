"""Group commit for intake: the letters taken in at the same moment are written by one statement.

Each intake prepares its row in Python (`CaseRow`, api/services/cases/row.py: ids, hashes, timers, sealed
identities) and hands it to the process's `IntakeWriter`. While a statement is on its way, the letters that
arrive queue up and go together in the next one: one INSERT … SELECT FROM unnest(…) writes every case of the
batch with its parties, first event, outbox row and webhook deliveries, and commits them together. A letter is
answered only once its batch has committed, so a 201 still means "on disk". At low load nothing waits: with a
lane free, a letter is written at once, alone.

Why: per letter, PostgreSQL spends most of its time on what a statement and a transaction cost whatever their
size (locks on seven tables and their forty indexes, the statement's triggers, the commit and its WAL flush, the
round trip); `bench/intake.py` shows the figures. Nothing of the record changes: the same rows, the same
triggers, the same constraints, each row's ON CONFLICT on its own (an Idempotency-Key or tracking code already
taken skips that letter only), and a batch that fails is written again one letter at a time, so a bad letter
fails alone and with its own error.
"""

import asyncio
import contextlib
import operator
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

from api import metrics
from api.errors import database_down, timed_out
from api.services.cases.remembered import STILL_SIGNED, SignerChanged
from api.services.cases.row import COLUMNS, PARTY_FIELDS, CaseRow

__all__ = ["IntakeWriter", "OneConnection", "SignerChanged", "Writer", "reserve_ids", "write"]

# The parties of every letter of the batch, one row each, named by their case's id.
PARTY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", "bigint"),
    ("role", "text"),
    ("full_name", "text"),
    ("id_number", "text"),
    ("phone", "text"),
    ("address", "text"),
    ("sealed", "text"),
    ("id_number_hash", "text"),
    ("officer_id", "int"),
)
assert tuple(name for name, _ in PARTY_COLUMNS[1:]) == PARTY_FIELDS


def _unnest(columns: Sequence[tuple[str, str]], first: int) -> str:
    return ", ".join(f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(columns))


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns)


# The columns and types in it are constants (nothing from a request); `g`: the remembered officer's check.
INSERT_MANY = f"""
WITH v AS (
    SELECT * FROM unnest({_unnest(COLUMNS, 1)}) AS v({_names(COLUMNS)})
), g AS (
    SELECT v.id, {STILL_SIGNED} AS signed
    FROM v
), c AS (
    INSERT INTO cases (id, tracking_code, access_key_hash, kind, field, channel, title, content, sealed_text,
        text_words, received_at,
        receiving_unit_id, competent_unit_id, received_by_id, complaint_round, previous_case_id, decision_known_date,
        complexity, remote_area, remote_area_explicit, signer_count, is_anonymous, multi_place_verification,
        identity_protected,
        disciplinary, level_skipping, repeat_of_case_id, status, version, remedies, extension_count, warnings, timers,
        next_due_date, next_alert_date, max_due_date, idempotency_key, idempotency_fingerprint, event_count,
        event_head, location, created_at, updated_at)
    SELECT id, tracking_code, access_key_hash, kind, field, channel, title, content, sealed_text,
        CAST(text_words AS bigint[]), received_at,
        receiving_unit_id, competent_unit_id, received_by_id, complaint_round, previous_case_id, decision_known_date,
        complexity, remote_area, remote_area_explicit, signer_count, is_anonymous, multi_place_verification,
        identity_protected,
        disciplinary, level_skipping, repeat_of_case_id, status, 1, '{{}}'::jsonb, 0, CAST(warnings AS jsonb),
        CAST(timers AS jsonb),
        next_due_date, next_alert_date, max_due_date, idempotency_key, idempotency_fingerprint, 1,
        hash, CAST(location AS jsonb), at, at
    FROM v JOIN g USING (id) WHERE g.signed
    ON CONFLICT DO NOTHING
    RETURNING id
), p AS (
    INSERT INTO case_parties (case_id, {", ".join(PARTY_FIELDS)})
    SELECT q.case_id, {", ".join("q." + name for name in PARTY_FIELDS)}
    FROM unnest({_unnest(PARTY_COLUMNS, len(COLUMNS) + 1)}) WITH ORDINALITY AS q({_names(PARTY_COLUMNS)}, n)
    JOIN c ON c.id = q.case_id
    ORDER BY q.n
    RETURNING id, case_id
), e AS (
    INSERT INTO case_events (case_id, seq, at, actor_id, action, from_status, to_status, effective_date, reason,
                             payload, prev_hash, hash)
    SELECT v.id, 1, v.at, v.received_by_id, 'create', NULL, v.status, v.received_at, NULL,
           CAST(v.event_payload AS jsonb), v.prev_hash, v.hash
    FROM v JOIN c ON c.id = v.id
), o AS (
    INSERT INTO outbox_events (event_id, event_type, case_id, payload)
    SELECT gen_random_uuid(), 'case.created', v.id, CAST(v.outbox_payload AS jsonb) FROM v JOIN c ON c.id = v.id
    RETURNING id, event_type
), d AS (
    INSERT INTO webhook_deliveries (outbox_id, subscription_id)
    SELECT o.id, s.id FROM o JOIN webhook_subscriptions s
      ON s.is_active AND (o.event_type = ANY(s.event_types) OR '*' = ANY(s.event_types))
)
SELECT g.id, g.signed, c.id IS NOT NULL AS written,
       (SELECT coalesce(array_agg(p.id ORDER BY p.id), '{{}}') FROM p WHERE p.case_id = g.id) AS party_ids
FROM g LEFT JOIN c ON c.id = g.id
"""  # noqa: S608


def arguments(letters: Sequence[CaseRow]) -> list[Sequence[Any]]:
    """The statement's arguments for these letters: one array per case column, then one per party column."""
    args: list[Sequence[Any]] = list(zip(*(letter.written() for letter in letters), strict=True))
    case_ids: list[Any] = []
    party: list[list[Any]] = [[] for _ in PARTY_FIELDS]
    for letter in letters:
        for p in letter.parties:
            case_ids.append(letter.id)
            for column, value in zip(party, _party_values(p), strict=True):
                column.append(value)
    return [*args, case_ids, *party]


_party_values = operator.attrgetter(*PARTY_FIELDS)


Written = dict[int, list[int] | None | SignerChanged]
# case id → its parties' ids if written; None if not (its Idempotency-Key or tracking code already taken);
# SignerChanged if its remembered officer no longer holds.


async def write(conn: asyncpg.Connection, letters: Sequence[CaseRow]) -> Written:
    """Write these letters in one statement on `conn` (in its transaction if one is open, else committed alone)."""
    rows = await conn.fetch(INSERT_MANY, *arguments(letters))
    return {row[0]: (list(row[3]) if row[2] else None) if row[1] else SignerChanged() for row in rows}


async def reserve_ids(conn: asyncpg.Connection, count: int) -> list[int]:
    """`count` case ids from the sequence in one query, the lowest last (for `pop`): the id is needed before the
    INSERT because the first event's hash covers it."""
    rows = await conn.fetch("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1)", count)
    return sorted((r[0] for r in rows), reverse=True)


class Writer(Protocol):
    """What intake writes with: the process's `IntakeWriter`, or one that marks its letters first
    (api/services/cases/remembered.py, `Signing`)."""

    async def next_id(self) -> int: ...

    async def write(self, letter: CaseRow) -> list[int] | None: ...


class Connections(Protocol):
    async def acquire(self) -> asyncpg.Connection: ...

    async def release(self, conn: asyncpg.Connection) -> None: ...


class OneConnection:
    """A single connection lent to one user at a time (the tests' connection inside their rolled-back
    transaction; a writer of its own for a command-line load)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    async def acquire(self) -> asyncpg.Connection:
        await self._lock.acquire()
        return self._conn

    async def release(self, conn: asyncpg.Connection) -> None:
        self._lock.release()


class IntakeWriter:
    """Writes letters in batches on `lanes` connections of `connections` at most (see the module's docstring).
    Also hands out case ids, reserved from the sequence a block at a time: the id is needed before the INSERT
    because the first event's hash covers it."""

    MAX_BATCH = 64  # letters per statement (its arrays stay small; a full queue is drained in turns)
    ID_BLOCK = 64

    def __init__(self, connections: Connections, lanes: int = 2) -> None:
        self._connections = connections
        self._lanes = max(1, lanes)
        self._running = 0
        self._queue: list[tuple[CaseRow, asyncio.Future[list[int] | None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._free_ids: list[int] = []
        self.batches = 0  # statements written, and letters in them: for tests and the benchmark's report
        self.letters = 0

    async def next_id(self) -> int:
        if not self._free_ids:
            conn = await self._connections.acquire()
            try:
                self._free_ids = await reserve_ids(conn, self.ID_BLOCK)
            finally:
                await self._connections.release(conn)
        return self._free_ids.pop()

    async def write(self, letter: CaseRow) -> list[int] | None:
        """Write one letter with whatever else is waiting; its parties' ids once committed, or None if it was
        not written (its Idempotency-Key or tracking code taken). A failure of the letter's own is raised, and
        SignerChanged if it was written with a remembered officer who no longer holds (see `write`)."""
        future: asyncio.Future[list[int] | None] = asyncio.get_running_loop().create_future()
        self._queue.append((letter, future))
        if self._running < self._lanes:
            self._running += 1
            task = asyncio.create_task(self._drain())  # a task of its own: a caller cancelled leaves it running
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.MAX_BATCH]
                del self._queue[: self.MAX_BATCH]
                try:
                    await self._write(batch)
                except BaseException as exc:  # never leave a request waiting for an answer that will not come
                    for _, future in batch:
                        _settle(future, error=exc if isinstance(exc, Exception) else RuntimeError("writer stopped"))
                    raise
        finally:
            self._running -= 1

    async def _write(self, batch: list[tuple[CaseRow, asyncio.Future[list[int] | None]]]) -> None:
        try:
            written = await self._statement([letter for letter, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or not _letters_fault(exc):
                for _, future in batch:  # the database is down or slow: every letter of the batch gets it
                    _settle(future, error=exc)
                return
            # One letter's failure must not fail the others, nor reach them: each again, alone.
            for item in batch:
                await self._write([item])
            return
        self.batches += 1
        self.letters += len(batch)
        metrics.INTAKE_STATEMENTS.inc()
        metrics.INTAKE_LETTERS.inc(len(batch))
        for letter, future in batch:
            outcome = written[letter.id]
            if isinstance(outcome, SignerChanged):
                _settle(future, error=outcome)
            else:
                _settle(future, result=outcome)

    async def _statement(self, letters: list[CaseRow]) -> Written:
        conn = await self._connections.acquire()
        try:
            return await write(conn, letters)
        finally:
            await self._connections.release(conn)

    async def close(self) -> None:
        """Let the batches on their way finish (at shutdown)."""
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task


def _letters_fault(exc: BaseException) -> bool:
    """An error PostgreSQL raised about what a statement wrote (a constraint, a value), which may belong to one
    letter only — not the database being unreachable or slow, which every letter would meet again."""
    return isinstance(exc, asyncpg.PostgresError) and not database_down(exc) and not timed_out(exc)


def _settle(
    future: asyncio.Future[list[int] | None], *, result: list[int] | None = None, error: BaseException | None = None
) -> None:
    if future.done():  # its request was cancelled; the letter is written (or not) all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
