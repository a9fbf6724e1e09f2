"""The full verification: every chain under the key and against its anchor, every case row against the state its
chain recorded, every sealed text, the checkpoints in the database (numbered, signed, chained) and, given a
checkpoint file, every case and checkpoint it holds."""

import hmac
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.cases import Case, CaseAssignment, CaseDialogue, CaseEvent, CaseParty, ChainCheckpoint
from api.models.public import Attachment
from api.services.cases import trail
from api.services.checkpoints.record import BATCH
from api.services.checkpoints.signing import GENESIS_SIGNATURE, signed
from api.vault import SealedDataError, Vault


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
        if not signed(row):
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
