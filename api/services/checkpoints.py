"""Signed checkpoints of every case's chain head, and the full-database verification.

A checkpoint is the list of (case id, event count, head hash) of every case at one moment, summarised by a
SHA-256 digest and signed (HMAC) with the chain key. The summary is kept in `chain_checkpoints`, numbered 1, 2, …
and chained: each one signs the signature of the one before (migration 0023), so a checkpoint deleted from the
middle or altered is seen by `verify_checkpoints`. The whole list is written to a file by `python -m api checkpoint
--out FILE`, and each scheduled checkpoint is also appended to CHECKPOINT_FILE and/or POSTed to
CHECKPOINT_WEBHOOK_URL, for keeping off the database server. Against such a file, `python -m api verify-events
--checkpoint FILE` finds what the per-case anchor cannot: a case deleted with all its events, a chain cut back and
re-anchored (shorter than the checkpoint says, or its head there no longer the one signed), and the newest
checkpoints deleted from the database — since the key needed to re-sign is not in the database.

The full verification also proves each case row (status, version, outcome, kind, units, parties and accused
links) against the state its chain recorded (trail.state_digest), and that every sealed text opens under the
identity keys to the text its event's keyed digest covers.
"""

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.models.cases import Case, CaseAssignment, CaseDialogue, CaseEvent, CaseParty, ChainCheckpoint
from api.models.public import Attachment
from api.services.cases import trail
from api.settings import Settings
from api.vault import SealedDataError, Vault

log = logging.getLogger(__name__)
BATCH = 2000
GENESIS_SIGNATURE = "0" * 64  # what checkpoint 1 chains to
SIGNATURE_HEADER = "X-Tiepdan-Checkpoint-Signature"


def _line(case_id: int, count: int, head: str | None) -> str:
    return f"{case_id}:{count}:{head or ''}\n"


def sign(at: datetime, cases: int, events: int, digest: str, *, seq: int | None = None, prev: str | None = None) -> str:
    """The checkpoint's HMAC under the chain key. `prev` (the signature of checkpoint seq - 1): None only for
    checkpoints written before migration 0023, signed without a number or a predecessor."""
    if prev is None:
        message = f"checkpoint|{at.isoformat()}|{cases}|{events}|{digest}"
    else:
        message = f"checkpoint|{seq}|{prev}|{at.isoformat()}|{cases}|{events}|{digest}"
    return hmac.new(trail.chain_key(), message.encode(), hashlib.sha256).hexdigest()


def _signed(row: ChainCheckpoint) -> bool:
    expected = sign(row.at, row.cases, row.events, row.digest, seq=row.seq, prev=row.prev_signature)
    return hmac.compare_digest(expected, row.signature)


async def _heads(session: AsyncSession) -> AsyncIterator[tuple[int, int, str | None]]:
    """Every case's anchor, in id order, a batch at a time (keyset on the primary key)."""
    after = 0
    while True:
        rows = (
            await session.execute(
                sa.select(Case.id, Case.event_count, Case.event_head)
                .where(Case.id > after)
                .order_by(Case.id)
                .limit(BATCH)
            )
        ).all()
        for case_id, count, head in rows:
            yield case_id, count, head
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


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


async def make_record(
    session: AsyncSession, progress: Callable[[int], object] | None = None, *, every_hours: float | None = None
) -> tuple[ChainCheckpoint, str] | None:
    """Record the next checkpoint now, committing the session: (the checkpoint, its record — a JSON header line
    then one line per case — as kept in a checkpoint file). One at a time (an advisory lock): each is numbered
    after the last and signs its signature. With `every_hours`, None if a checkpoint that recent exists (checked
    under the lock, so processes running the jobs together make one). Chains only grow, so each line read is true
    of the moment it was read. `progress` is told of every case read."""
    await locks.hold(session, locks.Lock.checkpoint)
    at = datetime.now(UTC)
    last = (
        await session.execute(
            sa.select(ChainCheckpoint.seq, ChainCheckpoint.signature, ChainCheckpoint.at)
            .order_by(ChainCheckpoint.seq.desc())
            .limit(1)
        )
    ).first()
    if every_hours is not None and last is not None and (at - last[2]).total_seconds() < every_hours * 3600:
        await session.rollback()
        return None
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_SIGNATURE)
    digest, cases, events = hashlib.sha256(), 0, 0
    lines: list[str] = []
    async for case_id, count, head in _heads(session):
        line = _line(case_id, count, head)
        digest.update(line.encode())
        cases, events = cases + 1, events + count
        lines.append(line)
        if progress is not None:
            progress(1)
    hexdigest = digest.hexdigest()
    checkpoint = ChainCheckpoint(
        at=at,
        cases=cases,
        events=events,
        digest=hexdigest,
        seq=seq,
        prev_signature=prev,
        signature=sign(at, cases, events, hexdigest, seq=seq, prev=prev),
    )
    session.add(checkpoint)
    await session.commit()
    return checkpoint, json.dumps(header_of(checkpoint)) + "\n" + "".join(lines)


async def make(
    session: AsyncSession, out: Path | None = None, progress: Callable[[int], object] | None = None
) -> ChainCheckpoint:
    """Record a checkpoint now (and write its record to `out`), committing the session."""
    made = await make_record(session, progress)
    assert made is not None
    if out is not None:
        await asyncio.to_thread(out.write_text, made[1])
    return made[0]


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
        f.flush()


async def ship(settings: Settings, checkpoint: ChainCheckpoint, text: str, client: httpx.AsyncClient) -> list[str]:
    """Send a checkpoint's record off the server: appended to CHECKPOINT_FILE, POSTed to CHECKPOINT_WEBHOOK_URL
    (an http(s) URL on a public address unless WEBHOOK_ALLOW_PRIVATE, as webhooks are checked; the body signed
    by the checkpoint's own signature header). What failed, for the log (a failure does not undo the checkpoint:
    the next one covers it)."""
    from api.services import webhooks

    failed: list[str] = []
    if settings.checkpoint_file is not None:
        try:
            await asyncio.to_thread(_append, Path(settings.checkpoint_file), text)
        except OSError as exc:
            failed.append(f"CHECKPOINT_FILE: {type(exc).__name__}")
    url = settings.checkpoint_webhook_url
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            failed.append("CHECKPOINT_WEBHOOK_URL: not an http(s) URL")
        else:
            headers = {
                "Content-Type": "text/plain; charset=utf-8",
                "X-Tiepdan-Checkpoint-Seq": str(checkpoint.seq),
                SIGNATURE_HEADER: checkpoint.signature,
            }
            try:  # resolved once, checked, and connected to the address checked (as webhooks are delivered)
                response = await webhooks.post_pinned(
                    client, url, text.encode(), headers, allow_private=settings.webhook_allow_private
                )
                if not 200 <= response.status_code < 300:
                    failed.append(f"CHECKPOINT_WEBHOOK_URL: HTTP {response.status_code}")
            except webhooks.AddressRefused:
                failed.append("CHECKPOINT_WEBHOOK_URL: address_not_public")
            except httpx.HTTPError as exc:
                failed.append(f"CHECKPOINT_WEBHOOK_URL: {type(exc).__name__}")
    for what in failed:
        log.error("checkpoint %s not sent off the server: %s", checkpoint.seq, what)
    return failed


async def make_scheduled(
    session: AsyncSession, settings: Settings, client: httpx.AsyncClient, now: datetime | None = None
) -> ChainCheckpoint | None:
    """The jobs' checkpoint: made if the last is CHECKPOINT_HOURS old, then sent off the server."""
    if settings.checkpoint_hours <= 0:
        return None
    if not await due(session, now or datetime.now(UTC), settings.checkpoint_hours):
        return None
    made = await make_record(session, every_hours=settings.checkpoint_hours)
    if made is None:
        return None
    await ship(settings, made[0], made[1], client)
    return made[0]


@dataclass
class Problem:
    case_id: int | None
    seq: int | None
    why: str
    checkpoint: int | None = None  # a problem of the checkpoints themselves (case_id None)

    def describe(self) -> str:
        if self.case_id is None:
            return f"checkpoint {self.checkpoint}: {self.why}"
        return f"case {self.case_id}: {self.why}" + (f" (seq {self.seq})" if self.seq is not None else "")


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class CheckpointFile:
    """What a checkpoint file holds: every record's header (each verified) and the heads of the last one."""

    headers: list[dict[str, Any]]
    heads: dict[int, tuple[int, str]]


def _check_header(header: dict[str, Any], digest: str) -> None:
    at = datetime.fromisoformat(header["at"])
    prev = header.get("prev_signature")
    seq = int(header["seq"]) if prev is not None else None
    expected = sign(at, int(header["cases"]), int(header["events"]), header["digest"], seq=seq, prev=prev)
    if digest != header["digest"] or not hmac.compare_digest(expected, str(header["signature"])):
        raise ValueError("the checkpoint file is not signed with this service's chain key or was altered")


def _records(path: Path) -> Iterator[tuple[dict[str, Any], list[str]]]:
    header: dict[str, Any] | None = None
    lines: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("{"):
                if header is not None:
                    yield header, lines
                header, lines = json.loads(line), []
            elif line.strip():
                lines.append(line if line.endswith("\n") else line + "\n")
    if header is None:
        raise ValueError("the checkpoint file holds no checkpoint")
    yield header, lines


def read_file(path: Path) -> CheckpointFile:
    """A checkpoint file (one record written by `checkpoint --out`, or the records appended to CHECKPOINT_FILE);
    ValueError if any record's signature or digest does not hold."""
    headers: list[dict[str, Any]] = []
    heads: dict[int, tuple[int, str]] = {}
    for header, lines in _records(path):
        _check_header(header, hashlib.sha256("".join(lines).encode()).hexdigest())
        headers.append(header)
        heads = {}
        for line in lines:
            case_id, count, head = line.rstrip("\n").split(":")
            heads[int(case_id)] = (int(count), head)
    return CheckpointFile(headers=headers, heads=heads)


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[int, tuple[int, str]]]:
    """The header and the heads of a checkpoint file's last record; ValueError if a signature or digest does not
    hold."""
    read = read_file(path)
    return read.headers[-1], read.heads


async def verify_checkpoints(
    session: AsyncSession,
    totals: tuple[int, int] | None = None,
    file_headers: Sequence[dict[str, Any]] = (),
) -> list[Problem]:
    """The checkpoints in the database: numbered 1, 2, … without a gap, each signed, each chaining to the one
    before; none recording more cases or events than the next (or than `totals`, the cases and events found
    now); and every checkpoint a file holds still there, unchanged."""
    problems: list[Problem] = []
    rows = (await session.scalars(sa.select(ChainCheckpoint).order_by(ChainCheckpoint.seq))).all()
    previous: ChainCheckpoint | None = None
    chained = False
    for row in rows:
        expected = previous.seq + 1 if previous is not None else 1
        if row.seq != expected:
            missing = f"{expected}" if row.seq == expected + 1 else f"{expected}–{row.seq - 1}"
            problems.append(Problem(None, None, f"checkpoint {missing} missing (deleted)", row.seq))
        if not _signed(row):
            problems.append(Problem(None, None, "signature does not hold (altered, or not this chain key)", row.seq))
        if row.prev_signature is None:
            if chained:
                problems.append(Problem(None, None, "not chained to the checkpoint before it", row.seq))
        else:
            chained = True
            before = previous.signature if previous is not None else GENESIS_SIGNATURE
            if not hmac.compare_digest(row.prev_signature, before):
                problems.append(
                    Problem(None, None, "does not chain to the checkpoint before it (deleted or altered)", row.seq)
                )
        if previous is not None and (row.cases < previous.cases or row.events < previous.events):
            problems.append(Problem(None, None, "records fewer cases or events than the checkpoint before", row.seq))
        previous = row
    if previous is not None and totals is not None and (totals[0] < previous.cases or totals[1] < previous.events):
        problems.append(
            Problem(
                None,
                None,
                f"recorded {previous.cases} cases and {previous.events} events; the database now holds "
                f"{totals[0]} and {totals[1]} (events or cases deleted)",
                previous.seq,
            )
        )
    by_seq = {row.seq: row for row in rows}
    for header in file_headers:
        if header.get("prev_signature") is None:
            continue  # written before checkpoints were numbered
        seq = int(header["seq"])
        row = by_seq.get(seq)
        if row is None:
            problems.append(Problem(None, None, "in the checkpoint file but no longer in the database", seq))
        elif not hmac.compare_digest(row.signature, str(header["signature"])):
            problems.append(Problem(None, None, "differs from the checkpoint file", seq))
    session.expunge_all()
    return problems


_CASE_COLUMNS = (
    Case.id,
    Case.event_count,
    Case.event_head,
    *(getattr(Case, f) for f in dict.fromkeys(trail.STATE_CASE_FIELDS_V2 + trail.STATE_FLAGS)),  # every version's
)


async def _check_cases(
    session: AsyncSession,
    cases: Sequence[Any],
    report: Report,
    checkpoint: dict[int, tuple[int, str]] | None,
    vault: Vault | None,
) -> None:
    """Every chain of these case rows (_CASE_COLUMNS) under the key and against its anchor, the rows and their
    parties against the state their chains recorded, their sealed texts (with a vault), and the checkpoint."""
    ids = [c.id for c in cases]
    by_case: dict[int, list[CaseEvent]] = {i: [] for i in ids}
    for event in (
        await session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.case_id, CaseEvent.seq)
        )
    ).all():
        by_case[event.case_id].append(event)
    parties: dict[int, list[CaseParty]] = {i: [] for i in ids}
    handlers: dict[int, list[int]] = {i: [] for i in ids}
    for a_case, a_user in (
        await session.execute(
            sa.select(CaseAssignment.case_id, CaseAssignment.user_id).where(CaseAssignment.case_id.in_(ids))
        )
    ).all():
        handlers[a_case].append(a_user)
    for party in (await session.scalars(sa.select(CaseParty).where(CaseParty.case_id.in_(ids)))).all():
        parties[party.case_id].append(party)
    dialogues: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    other: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}  # other sealed texts: (what, token)
    if vault is not None:
        for c_id, c_sealed in (
            await session.execute(
                sa.select(Case.id, Case.sealed_text).where(Case.id.in_(ids), Case.sealed_text.is_not(None))
            )
        ).all():
            other[c_id].append(("sealed title and content", c_sealed))
        for a_id, a_case, a_sealed in (
            await session.execute(
                sa.select(Attachment.id, Attachment.case_id, Attachment.sealed).where(Attachment.case_id.in_(ids))
            )
        ).all():
            other[a_case].append((f"attachment {a_id}: sealed name", a_sealed))
        for d_id, d_case, d_sealed in (
            await session.execute(
                sa.select(CaseDialogue.id, CaseDialogue.case_id, CaseDialogue.sealed).where(
                    CaseDialogue.case_id.in_(ids), CaseDialogue.sealed.is_not(None)
                )
            )
        ).all():
            dialogues[d_case].append((d_id, d_sealed))
    for case in cases:
        chain = by_case[case.id]
        report.cases += 1
        report.events += len(chain)
        problems = report.problems
        valid, bad = trail.verify(chain, (case.event_count, case.event_head))
        if not valid:
            problems.append(Problem(case.id, bad, "chain or anchor does not hold"))
        state_bad = trail.check_state(chain, case, parties[case.id], handlers[case.id])
        if state_bad is not None:
            problems.append(
                Problem(
                    case.id,
                    state_bad,
                    "the case row or its parties (status, version, outcome, units, parties, accused links, "
                    "assigned officers) differ from the state its chain recorded",
                )
            )
        if vault is not None:
            problems.extend(_sealed_problems(vault, case.id, chain, parties[case.id], dialogues[case.id]))
            for what, token in other[case.id]:
                try:
                    vault.open(token)
                except SealedDataError as exc:
                    problems.append(Problem(case.id, None, f"{what} {exc.why}"))
        if checkpoint is not None and case.id in checkpoint:
            count, head = checkpoint[case.id]
            if len(chain) < count:
                problems.append(
                    Problem(case.id, len(chain) + 1, f"the chain is shorter than the checkpoint says ({count} events)")
                )
            elif count > 0 and chain[count - 1].hash != head:
                problems.append(Problem(case.id, count, "its event at the checkpoint is no longer the one signed"))
    session.expunge_all()


def _sealed_problems(
    vault: Vault, case_id: int, chain: Sequence[CaseEvent], parties: Iterable[CaseParty], dialogues: Iterable[Any]
) -> Iterator[Problem]:
    """Every sealed text of the case opens under the identity keys and, where its event recorded a keyed digest
    (event free text, dialogues), opens to that text."""
    for party in parties:
        if party.sealed is not None:
            try:
                vault.open(party.sealed)
            except SealedDataError as exc:
                yield Problem(case_id, None, f"party {party.id}: sealed identity {exc.why}")
    digests: dict[int, str] = {}
    for event in chain:
        if event.action == "dialogue" and "sealed_digest" in event.payload:
            digests[int(event.payload.get("dialogue_id") or 0)] = str(event.payload["sealed_digest"])
        if event.sealed is not None:
            try:
                trail.open_event_text(vault.open, event)
            except SealedDataError as exc:
                yield Problem(case_id, event.seq, f"event {event.seq}: sealed text {exc.why}")
    for dialogue_id, sealed in dialogues:
        try:
            trail.check_sealed(vault.open(sealed), digests.get(dialogue_id))
        except SealedDataError as exc:
            yield Problem(case_id, None, f"dialogue {dialogue_id}: sealed record {exc.why}")


async def verify_case(session: AsyncSession, case_id: int, vault: Vault | None) -> Report:
    """One case: its chain, anchor, state and sealed texts (GET /cases/{id}/events/verify)."""
    report = Report()
    rows = (await session.execute(sa.select(*_CASE_COLUMNS).where(Case.id == case_id))).all()
    await _check_cases(session, rows, report, None, vault)
    return report


async def verify_all(
    session: AsyncSession,
    checkpoint: dict[int, tuple[int, str]] | None = None,
    progress: Callable[[int], object] | None = None,
    *,
    vault: Vault | None = None,
    file_headers: Sequence[dict[str, Any]] = (),
) -> Report:
    """Every chain under the key and against its anchor, every case row against the state its chain recorded,
    every sealed text (given the `vault`), the checkpoints in the database; with a checkpoint's heads, every case
    it lists must still be there with the event it had then. `progress` is told how many cases each batch
    checked."""
    report = Report()
    seen: set[int] = set()
    after = 0
    while True:
        rows = (
            await session.execute(sa.select(*_CASE_COLUMNS).where(Case.id > after).order_by(Case.id).limit(BATCH // 4))
        ).all()
        if not rows:
            break
        seen.update(r.id for r in rows)
        await _check_cases(session, rows, report, checkpoint, vault)
        if progress is not None:
            progress(len(rows))
        after = rows[-1].id
    for case_id in sorted(set(checkpoint or {}) - seen):
        report.problems.append(Problem(case_id, None, "in the checkpoint but no longer in the database"))
    report.problems.extend(await verify_checkpoints(session, (report.cases, report.events), file_headers))
    return report


async def due(session: AsyncSession, now: datetime, every_hours: float) -> bool:
    latest = await session.scalar(sa.select(sa.func.max(ChainCheckpoint.at)))
    return latest is None or (now - latest).total_seconds() >= every_hours * 3600
