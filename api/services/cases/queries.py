"""Reading cases: one case with what its view needs (in one query), the list with every filter and
accent-insensitive search, the event trail and its verification. Reads never change a case; reading a
protected identity is recorded (one commit, in `read`)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import CaseNotFound, Code, DomainError, UnitNotFound, VersionStale
from api.models.cases import Case, CaseAssignment, CaseEvent, CaseParty
from api.models.cases.schemas import CaseFilters, CaseOut
from api.models.unit import Unit
from api.pagination import Keyset
from api.services import search
from api.services.calendar import DeadlineEnv
from api.services.cases import access, presenters, sealed_text, trail
from api.vault import Vault
from workflows import confidentiality
from workflows.confidentiality import MULTI_PERSON_SIGNERS

_T = TypeVar("_T")


@dataclass
class Loaded:
    """A case with what its view needs, and the head of its event chain (for appending under the lock)."""

    case: Case
    handler_ids: list[int]
    repeat_count: int
    chain_head: tuple[int, str]
    parties: list[CaseParty] = field(default_factory=list)
    last_step_on: date | None = None  # the date of the latest step an officer recorded (intake included)
    # Loaded for a command (locked): whether the row and its parties are still the state the chain last recorded.
    state_holds: bool = True


_Repeat = sa.orm.aliased(Case)
_HANDLERS = (
    sa.select(
        sa.func.coalesce(
            sa.func.array_agg(aggregate_order_by(CaseAssignment.user_id, CaseAssignment.user_id)),
            sa.text("'{}'::int[]"),
        )
    )
    .where(CaseAssignment.case_id == Case.id)
    .scalar_subquery()
)
_REPEATS = sa.select(sa.func.count()).select_from(_Repeat).where(_Repeat.repeat_of_case_id == Case.id).scalar_subquery()
_HEAD_SEQ = sa.select(CaseEvent.seq).where(CaseEvent.case_id == Case.id).order_by(CaseEvent.seq.desc()).limit(1)
_HEAD_HASH = sa.select(CaseEvent.hash).where(CaseEvent.case_id == Case.id).order_by(CaseEvent.seq.desc()).limit(1)
# Officers' steps only: the sweep's alerts and identity reads are dated by the clock, not by a document.
_LAST_STEP = sa.select(sa.func.max(CaseEvent.effective_date)).where(
    CaseEvent.case_id == Case.id, CaseEvent.actor_id.is_not(None), CaseEvent.action != "identity_viewed"
)


async def _in_scope(
    session: AsyncSession, stmt: sa.Select[Any], principal: Officer, case_id: int, *, lock: bool
) -> tuple[Any, ...]:
    """`stmt`'s row for the case if the caller may read it (locked for a command), else 404 whether it exists or
    not: the one "load in scope or 404" of cases."""
    stmt = stmt.where(Case.id == case_id, access.readable(principal))
    if lock:
        stmt = stmt.with_for_update(of=Case)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise CaseNotFound()
    return tuple(row)


async def get_readable(session: AsyncSession, principal: Officer, case_id: int, *, lock: bool = False) -> Case:
    """The case if the caller may read it (404 otherwise, whether it exists or not)."""
    case: Case = (await _in_scope(session, sa.select(Case), principal, case_id, lock=lock))[0]
    return case


async def load(session: AsyncSession, principal: Officer, case_id: int, *, lock: bool = False) -> Loaded:
    """The readable case with its handlers, repeat count and chain head in one query, and its parties."""
    stmt = sa.select(
        Case,
        _HANDLERS,
        _REPEATS,
        _HEAD_SEQ.scalar_subquery(),
        _HEAD_HASH.scalar_subquery(),
        _LAST_STEP.scalar_subquery(),
    )
    case, handlers, repeats, seq, head, last_step = await _in_scope(session, stmt, principal, case_id, lock=lock)
    parties = await load_parties(session, case_id)
    return Loaded(
        case=case,
        handler_ids=list(handlers),
        repeat_count=int(repeats),
        chain_head=(seq, head) if seq is not None else (0, trail.GENESIS),
        parties=list(parties),
        last_step_on=last_step,
        state_holds=not lock or await _state_holds(session, case, parties, handlers),
    )


async def locked(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    if_match: int,
    ensure: Callable[[Officer, Case], None] | None = None,
) -> Loaded:
    """The case locked for a command at the version the caller saw (If-Match): 404 outside the caller's scope,
    then `ensure`'s refusal (who may do this), then 412 with the current version."""
    loaded = await load(session, principal, case_id, lock=True)
    if ensure is not None:
        ensure(principal, loaded.case)
    if loaded.case.version != if_match:
        raise VersionStale(loaded.case.version)
    return loaded


async def _state_holds(
    session: AsyncSession, case: Case, parties: Sequence[CaseParty], handlers: Sequence[int]
) -> bool:
    """Whether the case row and its parties are the state its chain last recorded (a case from before the chain
    recorded states: yes). A command on a case changed outside the service is refused (chain_step), so that its
    new state does not launder the change out of verify-events' sight."""
    recorded = await session.scalar(
        sa.select(CaseEvent.payload[trail.STATE_KEY].astext)
        .where(CaseEvent.case_id == case.id, CaseEvent.payload.has_key(trail.STATE_KEY))
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    return recorded is None or trail.state_matches(recorded, case, parties, handlers)


async def load_parties(session: AsyncSession, case_id: int) -> Sequence[CaseParty]:
    return (
        await session.scalars(sa.select(CaseParty).where(CaseParty.case_id == case_id).order_by(CaseParty.id))
    ).all()


def record_identity_read(session: AsyncSession, principal: Officer, loaded: Loaded, head: tuple[int, str]) -> None:
    """If the view about to be returned reveals protected identities, add the `identity_viewed` event after
    `head` to the caller's transaction (the caller commits)."""
    protected = presenters.protected_party_ids(loaded.case, loaded.parties)
    if protected and access.sees_identity(principal, loaded.case):
        viewed = trail.Step("identity_viewed", payload={"party_ids": protected})
        session.add(trail.build(viewed, case_id=loaded.case.id, head=head, actor_id=principal.id))


def view(principal: Officer, loaded: Loaded, *, today: date, env: DeadlineEnv, vault: Vault) -> CaseOut:
    """The loaded case as this officer may see it."""
    return presenters.case_out(
        principal,
        loaded.case,
        loaded.parties,
        handler_ids=loaded.handler_ids,
        repeat_count=loaded.repeat_count,
        today=today,
        env=env,
        vault=vault,
    )


def seal_free_text(
    case: Case, vault: Vault, reason: str | None, payload: dict[str, Any]
) -> tuple[str | None, dict[str, Any], str | None]:
    """An event's (reason, payload, sealed text): on a case with protected parties its free text is sealed."""
    if not confidentiality.seals_free_text(case.kind, case.identity_protected):
        return reason, payload, None
    return trail.seal_free_text(vault.seal, reason, payload)


async def open_sealed(
    session: AsyncSession,
    principal: Officer,
    case: Case,
    sealed_ids: dict[str, list[int]],
    present: Callable[[bool], _T],
) -> _T:
    """`present(reveal)`: the rows as the caller may see them, with their sealed free text (`{"event_seqs": [...]}`
    or `{"dialogue_ids": [...]}`, the sealed ones) opened if the caller may see it. Opening it is a read of
    protected data: an `identity_viewed` event, committed under the case lock together with the read — the text is
    opened first (if that fails nothing is recorded), and if the event cannot be committed nothing is returned."""
    reveal = access.sees_identity(principal, case)
    if not (reveal and any(sealed_ids.values())):
        return present(reveal)
    assert case.id is not None
    locked = await load(session, principal, case.id, lock=True)
    out = present(True)
    viewed = trail.Step("identity_viewed", payload=sealed_ids)
    session.add(trail.build(viewed, case_id=case.id, head=locked.chain_head, actor_id=principal.id))
    await session.commit()
    return out


def chain_step(session: AsyncSession, principal: Officer, loaded: Loaded, step: trail.Step, *, vault: Vault) -> None:
    """Add a command's step to a locked, changed case (the caller commits): bump its version, chain the event
    with its free text sealed where the case has protected parties, and the identity read the response makes."""
    case = loaded.case
    if not loaded.state_holds:  # changed outside the service since its last step: verify-events reports it
        raise DomainError(Code.record_altered)
    case.version += 1
    case.updated_at = datetime.now(UTC)
    reason, payload, sealed = seal_free_text(case, vault, step.reason, step.payload)
    # What verify-events proves (`loaded.handler_ids`: as assigned by this step).
    payload = {**payload, trail.STATE_KEY: trail.state_digest(case, loaded.parties, loaded.handler_ids)}
    sealed_step = replace(step, reason=reason, payload=payload)
    event = trail.build(sealed_step, case_id=case.id, head=loaded.chain_head, actor_id=principal.id, sealed=sealed)
    session.add(event)
    record_identity_read(session, principal, loaded, (event.seq, event.hash))


async def record_step(
    session: AsyncSession,
    principal: Officer,
    loaded: Loaded,
    step: trail.Step,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """Finish a command on a locked, changed case: its step chained, committed once, and the case as written."""
    chain_step(session, principal, loaded, step, vault=vault)
    out = view(principal, loaded, today=today, env=env, vault=vault)  # an identity it shows: read before the commit
    await session.commit()
    return out


async def read(
    session: AsyncSession, principal: Officer, case_id: int, *, today: date, env: DeadlineEnv, vault: Vault
) -> CaseOut:
    """GET one case. Revealing a protected identity is itself an event of the case, committed here."""
    loaded = await load(session, principal, case_id)
    case = loaded.case
    if presenters.protected_party_ids(case, loaded.parties) and access.sees_identity(principal, case):
        # Under the case lock, so the event chain stays serial.
        locked = await load(session, principal, case_id, lock=True)
        if not locked.state_holds:  # a party row changed behind the service (a sealed identity swapped): not shown
            raise DomainError(Code.record_altered)
        # The identity is opened first (a failure records nothing), then the event and the read are committed
        # together: if the event cannot be written, the identity is not returned.
        out = view(principal, locked, today=today, env=env, vault=vault)
        record_identity_read(session, principal, locked, locked.chain_head)
        await session.commit()
        return out
    return view(principal, loaded, today=today, env=env, vault=vault)


# The stored, indexed full-text vector of the folded title and content (migration 0006).
SEARCH_VECTOR: sa.ColumnElement[Any] = sa.literal_column("cases.search_vector")
TEXT_WINDOW = 2000
# Cases without a due date sort last. Not 9999-12-31: asyncpg sends date.max as 'infinity', which would put
# every such case before the cursor. A constant, so the expression matches the index ixx_cases_due_sort_received.
NO_DUE_DATE = date(9000, 1, 1)
_FAR: sa.ColumnElement[Any] = sa.literal_column("'9000-01-01'::date")
SORTS: dict[str, Keyset[Case]] = {
    "-received_at": Keyset(
        columns=(Case.received_at, Case.id), kinds=(date, int), key=lambda c: [c.received_at, c.id], descending=True
    ),
    "received_at": Keyset(columns=(Case.received_at, Case.id), kinds=(date, int), key=lambda c: [c.received_at, c.id]),
    "due_date": Keyset(  # the expression of index ixx_cases_due_sort_received (migration 0033)
        columns=(sa.func.coalesce(Case.next_due_date, _FAR), Case.id),
        kinds=(date, int),
        key=lambda c: [c.next_due_date or NO_DUE_DATE, c.id],
    ),
}

# Each list planned for its own values, never by a cached generic plan: after five runs of a prepared statement
# PostgreSQL may keep a plan made without the values, which cannot see that one unit holds a sixth of the cases or
# that a date range is narrow (5M cases, a commune's received range + field: 3 ms planned for it, 237 ms generic).
_CUSTOM_PLANS = sa.text("SET LOCAL plan_cache_mode = force_custom_plan")


async def list_cases(
    session: AsyncSession,
    principal: Officer,
    f: CaseFilters,
    *,
    today: date,
    limit: int,
    cursor: str | None,
    text_keys: sealed_text.TextKeys,
) -> tuple[list[Case], str | None]:
    """The caller's readable cases, filtered. `q`: whole words of the title and content (the clear full-text vector,
    and for a sealed denunciation the keyed MACs of its words, with `text_keys`) or a tracking code."""
    await session.execute(_CUSTOM_PLANS)
    stmt = sa.select(Case).where(access.readable(principal))
    if f.kind:
        stmt = stmt.where(Case.kind.in_([k.value for k in f.kind]))
    if f.status:
        stmt = stmt.where(Case.status.in_([s.value for s in f.status]))
    if f.field:
        stmt = stmt.where(Case.field.in_([x.value for x in f.field]))
    if f.unit_id is not None:
        unit = await session.get(Unit, f.unit_id)
        if unit is None:
            raise UnitNotFound("unit_id")
        stmt = stmt.where(
            Case.competent_unit_id.in_(access.subtree(unit.path))
            if f.include_subtree
            else Case.competent_unit_id == unit.id
        )
    if f.handler_id is not None:
        stmt = stmt.where(sa.exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.user_id == f.handler_id))
    if f.overdue is True:
        stmt = stmt.where(Case.next_due_date < today)
    elif f.overdue is False:
        stmt = stmt.where(sa.or_(Case.next_due_date.is_(None), Case.next_due_date >= today))
    if f.due_before is not None:
        stmt = stmt.where(Case.next_due_date <= f.due_before)
    if f.received_from is not None:
        stmt = stmt.where(Case.received_at >= f.received_from)
    if f.received_to is not None:
        stmt = stmt.where(Case.received_at <= f.received_to)
    if f.multi_person is not None:
        stmt = stmt.where((Case.signer_count >= MULTI_PERSON_SIGNERS) == f.multi_person)
    if f.level_skipping is not None:
        stmt = stmt.where(Case.level_skipping == f.level_skipping)
    keyset = SORTS[f.sort]
    if not f.q:
        return await keyset.fetch(session, stmt, limit=limit, cursor=cursor)
    code = f.q.strip().upper()
    query = f.q

    def sealed(column: Any) -> sa.ColumnElement[bool]:
        """A sealed denunciation's words (only within the scope above: `stmt` is the caller's readable cases)."""
        return sealed_text.matches_words(column, text_keys, query)

    # First the newest TEXT_WINDOW cases of the scope, in list order, then the words among them: when the words
    # are common (the planner often cannot tell) the page is found there at once. Otherwise the full search,
    # which the text index makes fast precisely when the words are rare.
    keys = [c.label(f"k{i}") for i, c in enumerate(keyset.columns)]
    window = keyset.apply(
        stmt.with_only_columns(*keys, SEARCH_VECTOR.label("sv"), Case.text_words, Case.tracking_code),
        limit=TEXT_WINDOW - 1,
        cursor=cursor,
    ).subquery()
    order = [window.c[k.name].desc() if keyset.descending else window.c[k.name].asc() for k in keys]
    found = (
        await session.scalars(
            sa.select(window.c[keys[-1].name])
            .where(
                sa.or_(
                    search.matches_words(window.c.sv, f.q), sealed(window.c.text_words), window.c.tracking_code == code
                )
            )
            .order_by(*order)
            .limit(limit + 1)
        )
    ).all()
    if len(found) > limit:
        by_id = {c.id: c for c in (await session.scalars(sa.select(Case).where(Case.id.in_(found)))).all()}
        return keyset.page([by_id[i] for i in found], limit)
    stmt = stmt.where(
        sa.or_(search.matches_words(SEARCH_VECTOR, f.q), sealed(Case.text_words), Case.tracking_code == code)
    )
    return await keyset.fetch(session, stmt, limit=limit, cursor=cursor)


_EVENTS: Keyset[CaseEvent] = Keyset(columns=(CaseEvent.seq,), kinds=(int,), key=lambda e: [e.seq])


async def events(
    session: AsyncSession, case_id: int, *, limit: int, cursor: str | None
) -> tuple[list[CaseEvent], str | None]:
    return await _EVENTS.fetch(
        session, sa.select(CaseEvent).where(CaseEvent.case_id == case_id), limit=limit, cursor=cursor
    )


async def verify_chain(session: AsyncSession, case_id: int) -> tuple[bool, int, int | None]:
    """The case's chain under the chain key, ending at the case's anchor (count and head of its events)."""
    anchor = (await session.execute(sa.select(Case.event_count, Case.event_head).where(Case.id == case_id))).one()
    rows = (
        await session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    ).all()
    valid, bad = trail.verify(rows, (anchor[0], anchor[1]))
    return valid, len(rows), bad
