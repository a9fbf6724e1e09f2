"""Naming the accused after intake (issue 21, F5): a denunciation that came in through the register or the citizen
channel names nobody's account, so the desk or head of the unit holding the case adds (or removes) an accused link
later. An officer named does not find the case, nor its register entry, from that moment (access.readable); the
rules of intake hold (at most a few officers, a head only where the unit above settles the case: LTC art. 13), and
a case always keeps an overseer (`confidentiality.oversight`: an escalation the naming causes is on the step). Each
change is a chained step under If-Match (the state digest covers the party rows and their links) and audited."""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case, CaseParty
from api.models.cases.schemas import AccusedIn, AccusedRemoveIn, CaseOut
from api.models.unit import Unit
from api.models.user import User
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.cases import access, intake, queries, trail
from api.vault import Vault
from workflows.cases import Role

ACCUSED = "accused"


def _officers(parties: list[CaseParty]) -> list[int]:
    """Every officer ever named on the case (removed links included: they stay excluded from it)."""
    return [p.officer_id for p in parties if p.officer_id is not None]


def _named_now(parties: list[CaseParty]) -> list[int]:
    return [p.officer_id for p in parties if p.officer_id is not None and p.removed_at is None]


def _ensure_head(principal: Officer, case: Case) -> None:
    """Removing an accused link is for the head of the unit holding the case (the desk names, it does not unname)."""
    if Role.unit_head.value not in access.acting_roles(principal, case):
        raise DomainError(Code.accused_removal_head_only)


async def _finish(
    session: AsyncSession,
    principal: Officer,
    loaded: queries.Loaded,
    action: str,
    party: CaseParty,
    reason: str | None,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    case = loaded.case
    assert case.id is not None
    oversight = await access.oversight_of(session, frozenset(_officers(loaded.parties)), access.holding_unit(case))
    payload = {
        "party_id": party.id,
        "officer_id": party.officer_id,
        **({"oversight_escalated": oversight.reason} if oversight.escalated else {}),
    }
    audit.record(session, actor_id=principal.id, entity="case", entity_id=case.id, action=action, payload=payload)
    step = trail.Step(action, today, reason, payload)
    out = await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)
    return out.model_copy(update={"oversight_escalated": oversight.escalated, "oversight_reason": oversight.reason})


async def add(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    if_match: int,
    data: AccusedIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """Name an accused party (an officer's account, or a person by name) on the case."""
    loaded = await queries.locked(session, principal, case_id, if_match, access.ensure_desk_or_head)
    case = loaded.case
    full_name = data.full_name
    if data.officer_id is not None:
        if data.officer_id in _named_now(loaded.parties):
            raise DomainError(Code.already_accused, details={"field": "officer_id", "officer_id": data.officer_id})
        name = await session.scalar(sa.select(User.full_name).where(User.id == data.officer_id))
        if name is None:
            raise DomainError(Code.user_not_found, details={"field": "officer_id"})
        competent_path = await session.scalar(sa.select(Unit.path).where(Unit.id == case.competent_unit_id))
        assert competent_path is not None
        named = [*_named_now(loaded.parties), data.officer_id]
        await intake.check_accused_officers(session, named, competent_path, once_named=_officers(loaded.parties))
        full_name = full_name or name
    assert full_name
    party = CaseParty(
        case_id=case.id, role=ACCUSED, full_name=full_name, address=data.address, officer_id=data.officer_id
    )
    session.add(party)
    await session.flush()
    loaded.parties.append(party)
    return await _finish(
        session, principal, loaded, "accused_added", party, data.reason, today=today, env=env, vault=vault
    )


async def remove(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    party_id: int,
    if_match: int,
    data: AccusedRemoveIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """Remove an accused party: the holding unit's head only, with a reason (chained, sealed with the case's free
    text where the case is protected, and audited). The link is kept, marked removed (audit 2, #1/#8): the party
    leaves the case's party list, but an officer once named never reads the case, its register line or its
    identities again, and the case is never transferred to a unit they head. Only an accused party: the other
    parties are the letter's own."""
    loaded = await queries.locked(session, principal, case_id, if_match, _ensure_head)
    party = next((p for p in loaded.parties if p.id == party_id and p.role == ACCUSED and p.removed_at is None), None)
    if party is None:
        raise DomainError(Code.party_not_found, details={"field": "party_id"})
    party.removed_at = datetime.now(UTC)
    party.removed_by_id = principal.id
    session.add(party)
    await session.flush()
    return await _finish(
        session, principal, loaded, "accused_removed", party, data.reason.strip(), today=today, env=env, vault=vault
    )
