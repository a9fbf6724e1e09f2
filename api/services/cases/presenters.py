"""What each caller is shown of a case: protected identities masked unless the caller may see them,
timers with their derived status, the actions the caller may take now."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from api.auth import Officer
from api.models.cases import Case, CaseParty
from api.models.cases.schemas import CaseListItem, CaseOut, PartyOut, TimerOut
from api.services.calendar import DeadlineEnv
from api.services.cases import access
from api.vault import Vault
from workflows.cases import Status, allowed_actions
from workflows.confidentiality import MASK, is_multi_person, is_protected
from workflows.deadlines import Timer

IDENTITY_FIELDS = ("full_name", "id_number", "phone", "address")
_DERIVED = frozenset({"parties", "timers", "handler_ids", "repeat_count", "allowed_actions", "is_multi_person"})
_COPIED = tuple(k for k in CaseOut.model_fields if k not in _DERIVED)


def protected_party_ids(case: Case, parties: Sequence[CaseParty]) -> list[int]:
    return [p.id for p in parties if p.id is not None and is_protected(p.role, case.kind)]


def party(p: CaseParty, kind: str, reveal: bool, vault: Vault) -> PartyOut:
    assert p.id is not None
    if is_protected(p.role, kind):
        if not reveal or p.sealed is None:
            return PartyOut(id=p.id, role=p.role, full_name=MASK, id_number=None, phone=None, address=None, masked=True)
        return PartyOut(id=p.id, role=p.role, **vault.open(p.sealed))
    return PartyOut(
        id=p.id,
        role=p.role,
        full_name=p.full_name,
        id_number=p.id_number,
        phone=p.phone,
        address=p.address,
        officer_id=p.officer_id,
    )


def case_out(
    principal: Officer,
    case: Case,
    parties: Sequence[CaseParty],
    *,
    handler_ids: Sequence[int],
    repeat_count: int,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
    clear_parties: Sequence[dict[str, Any]] | None = None,
) -> CaseOut:
    """The full case for this officer. `clear_parties` (intake) are the identities as just typed in by
    the caller, used instead of unsealing what was sealed a moment ago."""
    reveal = access.sees_identity(principal, case)
    if clear_parties is not None:
        shown = [
            PartyOut(
                id=p.id or 0,
                role=p.role,
                masked=False,
                officer_id=p.officer_id,
                **{k: c.get(k) for k in IDENTITY_FIELDS},
            )
            if is_protected(p.role, case.kind) and reveal
            else party(p, case.kind, reveal, vault)
            for p, c in zip(parties, clear_parties, strict=True)
        ]
    else:
        shown = [party(p, case.kind, reveal, vault) for p in parties]
    timers = [TimerOut(**Timer.from_dict(t).view(env.cal, today)) for t in case.timers]
    return CaseOut(
        **{k: getattr(case, k) for k in _COPIED},
        is_multi_person=is_multi_person(case.signer_count),
        handler_ids=list(handler_ids),
        repeat_count=repeat_count,
        parties=shown,
        timers=timers,
        allowed_actions=allowed_actions(Status(case.status), access.acting_roles(principal, case)),
    )


def list_item(case: Case, today: date) -> CaseListItem:
    assert case.id is not None
    return CaseListItem(
        id=case.id,
        tracking_code=case.tracking_code,
        kind=case.kind,
        field=case.field,
        title=case.title,
        status=case.status,
        version=case.version,
        received_at=case.received_at,
        receiving_unit_id=case.receiving_unit_id,
        competent_unit_id=case.competent_unit_id,
        is_multi_person=is_multi_person(case.signer_count),
        level_skipping=case.level_skipping,
        next_due_date=case.next_due_date,
        overdue=case.next_due_date is not None and case.next_due_date < today,
    )
