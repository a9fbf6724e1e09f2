"""Case intake (tiếp nhận): the desk (and the citizen channel through it) records a letter. `create` orchestrates:
the rules of a letter (api/services/cases/letter.py), the row it becomes (row.py), its write (writer.py: one row of
one INSERT with the letters taken in at the same moment — case, parties, first event, outbox row and webhook
deliveries together) and the answer, built from the row written, not re-read."""

import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.db import driver
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.cases.schemas import CaseCreatedOut, CaseIn
from api.services.calendar import DeadlineEnv
from api.services.cases import letter, presenters, queries, row
from api.services.cases.letter import MAX_ACCUSED_OFFICERS, OPEN_STATUSES, check_accused_officers, fingerprint_input
from api.services.cases.row import access_key, hash_key, new_tracking_code
from api.services.cases.writer import SignerChanged, Writer, reserve_ids, write
from api.settings import Settings
from api.vault import vault_for

__all__ = [
    "IDENTITY_FIELDS",
    "IDS",
    "MAX_ACCUSED_OFFICERS",
    "OPEN_STATUSES",
    "PUBLIC_CHANNELS",
    "access_key",
    "check_accused_officers",
    "create",
    "fingerprint_input",
    "hash_key",
    "new_tracking_code",
    "purge_idempotency",
]

IDENTITY_FIELDS = presenters.IDENTITY_FIELDS
# The citizen channel's letters: their stored Idempotency-Key is the client's key scoped by its device (or
# address), so it is erased with the fingerprint when the window ends.
PUBLIC_CHANNELS = ("mobile", "online")


class IdBlock:
    """Case ids reserved a block at a time (one query per block, not per intake), per database, for intake
    without a writer (the writer keeps a block of its own)."""

    SIZE = 32

    def __init__(self) -> None:
        self._free: dict[object, list[int]] = {}

    async def next(self, session: AsyncSession, conn: asyncpg.Connection) -> int:
        key = session.get_bind().engine  # one pool of ids per database engine
        free = self._free.setdefault(key, [])
        if not free:
            free.extend(await reserve_ids(conn, self.SIZE))
        return free.pop()


IDS = IdBlock()


async def purge_idempotency(session: AsyncSession, settings: Settings) -> int:
    """Erase the fingerprints whose window (IDEMPOTENCY_HOURS) has ended, with the citizen channel's keys; the
    desk's keys stay (they name no device), and a retry with one is then 422 idempotency_key_expired. Committed;
    how many cases."""
    result = await session.execute(
        sa.text(
            "UPDATE cases SET idempotency_fingerprint = NULL, idempotency_key = CASE WHEN channel = ANY(:public) "
            "THEN NULL ELSE idempotency_key END "
            "WHERE idempotency_fingerprint IS NOT NULL AND created_at < now() - make_interval(hours => :hours)"
        ),
        {"public": list(PUBLIC_CHANNELS), "hours": settings.idempotency_hours},
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Options:
    """How a letter is taken in, beyond the letter itself (each optional).

    `idempotency_key`: a retry with it returns the case made the first time. With a `writer` the letter is written,
    and committed, with the others taken in at the same moment (api/services/cases/writer.py; an officer remembered
    from an earlier sign-in writes through remembered.Signing, and SignerChanged is raised, nothing written, if they
    changed); without one, on the session's connection — with `commit=False` in the session's open transaction, for
    a caller that writes more with it (a register entry) and commits everything together. `replay_ttl`: a key older
    than this is refused (422 idempotency_key_expired) rather than replayed; `location`: where a public submission
    says the matter is, written with the case; `contact_mac`: a public submission's keyed MAC of its sender's
    contact (submissions.contact_binding), kept beside the fingerprint so that a replay with another contact is
    refused, erased with it."""

    idempotency_key: str | None = None
    writer: Writer | None = None
    commit: bool = True
    replay_ttl: timedelta | None = None
    location: dict[str, Any] | None = None
    contact_mac: str | None = None


PLAIN = Options()  # a letter at the desk's own session, committed: no key, no writer


async def create(
    session: AsyncSession,
    principal: Officer,
    settings: Settings,
    data: CaseIn,
    *,
    today: date,
    env: DeadlineEnv,
    options: Options = PLAIN,
) -> CaseCreatedOut:
    """Record a letter, taken in as `options` say. A retry with the same Idempotency-Key (even racing the first)
    returns the case made the first time. The officer who just typed the parties in reads nothing new: no
    identity_viewed event."""
    idempotency_key, writer, commit = options.idempotency_key, options.writer, options.commit
    replay_ttl, location, contact_mac = options.replay_ttl, options.location, options.contact_mac
    judged = await letter.judge(session, principal, settings, data, today=today, env=env)
    fingerprint = letter.idempotency_fingerprint(settings, data, contact_mac) if idempotency_key else None
    conn = None if writer is not None else await driver(session)
    case_id = await writer.next_id() if writer is not None else await IDS.next(session, cast(asyncpg.Connection, conn))
    vault = vault_for(settings)
    case, key, clear = row.build(
        settings,
        vault,
        principal,
        data,
        judged,
        case_id=case_id,
        today=today,
        env=env,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint,
        location=location,
    )
    if writer is not None:
        party_ids = await writer.write(case)
    else:
        assert conn is not None
        outcome = (await write(conn, [case]))[case_id]
        if isinstance(outcome, SignerChanged):
            raise outcome
        party_ids = outcome
    if party_ids is None:
        # Nothing written: the same Idempotency-Key won first (perhaps a parallel retry), or — once in
        # 10^14 — the tracking code was taken; either way nothing of this attempt remains.
        existing = await _existing(session, principal, idempotency_key) if idempotency_key else None
        if existing is None:
            return await create(session, principal, settings, data, today=today, env=env, options=options)
        return await _replay(session, principal, settings, existing, case, replay_ttl, today=today, env=env)
    if commit and conn is not None and conn.is_in_transaction():  # an ORM read (or a test) opened one
        await session.commit()
    for p, party_id in zip(case.parties, party_ids, strict=True):
        p.id = party_id
    return presenters.case_created(
        principal, cast(Case, case), case.parties, clear, access_key=key, today=today, env=env
    )


async def _existing(session: AsyncSession, principal: Officer, idempotency_key: str) -> Case | None:
    return await session.scalar(
        sa.select(Case).where(Case.received_by_id == principal.id, Case.idempotency_key == idempotency_key)
    )


async def _replay(
    session: AsyncSession,
    principal: Officer,
    settings: Settings,
    existing: Case,
    attempt: row.CaseRow,
    replay_ttl: timedelta | None,
    *,
    today: date,
    env: DeadlineEnv,
) -> CaseCreatedOut:
    """The case an Idempotency-Key made first, for a retry of the same letter (`attempt`: this retry's row)."""
    # No fingerprint: erased when the key's window ended (purge_idempotency), or never made (before 0021).
    expired = existing.idempotency_fingerprint is None
    if (
        replay_ttl is not None
        and existing.created_at is not None
        and existing.created_at < attempt.created_at - replay_ttl
    ):
        expired = True
    if expired:
        raise DomainError(Code.idempotency_key_expired, details={"field": "Idempotency-Key"})
    if not hmac.compare_digest(existing.idempotency_fingerprint or "", attempt.idempotency_fingerprint or ""):
        raise DomainError(Code.idempotency_key_reused, details={"field": "Idempotency-Key"})
    # A replay is a read: only for a caller who may still read the case, as it is now, audited as a read.
    assert existing.id is not None
    out = await queries.read(session, principal, existing.id, today=today, env=env, vault=vault_for(settings))
    return CaseCreatedOut(**out.model_dump(), access_key=access_key(settings, existing.tracking_code))
