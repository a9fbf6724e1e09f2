"""The rules of a letter at intake: who may take it in, its dates, the competent unit, a second round or a further
denunciation and the earlier case it names, a repeat letter, the officers it names as accused, the filing window's
warning, and what the Idempotency-Key's fingerprint covers. `judge` applies them in order (the first refusal is
the answer) and returns what they derive, for the row the letter becomes (api/services/cases/row.py)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError, UnitNotFound
from api.models.cases import Case
from api.models.cases.schemas import CaseIn
from api.models.unit import Unit
from api.models.user import User
from api.services.calendar import DeadlineEnv
from api.services.cases import access, domain, presenters, sealed_text
from api.settings import Settings
from workflows.cases import Kind, Role, Status
from workflows.deadlines import CaseFacts, Timer, filing_window_due

OPEN_STATUSES = (Status.accepted, Status.in_progress, Status.suspended)
MAX_ACCUSED_OFFICERS = 3  # naming many officers would hide a case from them all


@dataclass(frozen=True, slots=True)
class Judged:
    """What the rules derive from a letter accepted by them."""

    competent_unit_id: int
    level_skipping: bool  # sent to a higher level than the competent one (vượt cấp)
    remote_area: bool
    remote_area_explicit: bool
    identity_protected: bool
    disciplinary: bool
    accused_officer_ids: list[int]
    oversight_escalated: str | None  # why a case naming these officers is overseen higher up (H2, issue 21)
    warnings: list[dict[str, Any]]


async def judge(
    session: AsyncSession, principal: Officer, settings: Settings, data: CaseIn, *, today: date, env: DeadlineEnv
) -> Judged:
    """Every rule of a letter, in order; a DomainError for the first it breaks."""
    if not principal.has(Role.desk_officer, Role.unit_head):
        raise DomainError(Code.intake_forbidden)
    if data.received_at > today:
        raise DomainError(Code.date_in_future, details={"field": "received_at"})
    if data.received_at < settings.received_floor:
        raise DomainError(
            Code.date_too_early, details={"field": "received_at", "floor": settings.received_floor.isoformat()}
        )
    competent_id, competent_path, competent_remote = principal.unit_id, principal.unit_path, principal.unit_remote_area
    if data.competent_unit_id and data.competent_unit_id != principal.unit_id:
        competent = await session.get(Unit, data.competent_unit_id)
        if competent is None:
            raise UnitNotFound("competent_unit_id")
        assert competent.id is not None
        competent_id, competent_path, competent_remote = competent.id, competent.path, competent.remote_area
    remote = competent_remote if data.remote_area is None else data.remote_area
    explicit_remote = data.remote_area is not None
    previous = await _previous(session, principal, data, competent_id, env)
    if previous is not None and data.kind is Kind.complaint:
        await _check_second_round(session, data, previous, competent_id, env)
        if data.remote_area is None:
            remote = previous.remote_area  # remoteness follows the matter from the first round
            explicit_remote = True
    original = None
    if data.repeat_of_case_id is not None:
        original = await session.scalar(
            sa.select(Case).where(Case.id == data.repeat_of_case_id, access.readable(principal))
        )
        if original is None or original.status not in (Status.resolved, Status.closed):
            raise DomainError(Code.repeat_target_not_decided, details={"field": "repeat_of_case_id"})
    accused_officer_ids = await _validate_parties(session, data, competent_path)
    # A case always keeps an overseer (H2, issue 21): an escalation caused by the naming is on the create event.
    oversight = await access.oversight_of(session, frozenset(accused_officer_ids), principal.unit_id)
    return Judged(
        competent_unit_id=competent_id,
        level_skipping=competent_id != principal.unit_id and competent_path.startswith(principal.unit_path),
        remote_area=remote,
        remote_area_explicit=explicit_remote,
        # Audit 2 #7: protection asked for earlier follows the matter into its second round (or further
        # denunciation) and into a repeat letter, as it does through a transfer.
        identity_protected=data.identity_protection_requested
        or (previous is not None and previous.identity_protected)
        or (original is not None and original.identity_protected),
        # LKN art. 46–51 (H7, issue 22): a second round keeps the first round's flag.
        disciplinary=data.disciplinary or (previous is not None and previous.disciplinary),
        accused_officer_ids=accused_officer_ids,
        oversight_escalated=oversight.reason if oversight.escalated else None,
        warnings=_filing_warnings(data, remote, env, previous),
    )


async def _previous(
    session: AsyncSession, principal: Officer, data: CaseIn, competent_id: int, env: DeadlineEnv
) -> Case | None:
    """The earlier case a letter names (`previous_case_id`): visible to the caller, or a first round settled
    directly below the caller's unit (the second round's desk); anything else answers exactly like an id that
    does not exist."""
    if data.previous_case_id is None:
        return None
    below = sa.select(Unit.id).where(Unit.parent_id == principal.unit_id)
    previous = await session.scalar(
        sa.select(Case).where(
            Case.id == data.previous_case_id,
            sa.or_(
                access.readable(principal),
                sa.and_(Case.competent_unit_id.in_(below), access.not_named_accused(principal)),
            ),
        )
    )
    if data.kind is Kind.denunciation:  # a further denunciation, LTC art. 38.1 (H7, issue 22)
        await domain.check_further_denunciation(session, previous, competent_id, data.received_at, env.cal)
    elif previous is None or previous.kind != Kind.complaint or (previous.complaint_round or 1) != 1:
        raise DomainError(Code.first_round_not_found, details={"field": "previous_case_id"})
    return previous


def _first_round_end(previous: Case, env: DeadlineEnv) -> date | None:
    due = [Timer.from_dict(t).due_date(env.cal) for t in previous.timers if t["name"] == "resolution"]
    return due[0] if due else None


async def _check_second_round(
    session: AsyncSession, data: CaseIn, previous: Case, competent_id: int, env: DeadlineEnv
) -> None:
    """LKN art. 7, 18–21, 33, 37: a second round follows a first-round decision, or a first-round period that
    ran out without one, and goes to the direct superior of the first-round resolver."""
    decided = previous.decision_date is not None and previous.status in (Status.resolved, Status.closed)
    end = _first_round_end(previous, env)
    if not decided and (end is None or data.received_at <= end or previous.status not in OPEN_STATUSES):
        raise DomainError(
            Code.first_round_not_settled,
            details={
                "field": "previous_case_id",
                "status": previous.status,
                "first_round_due_date": end.isoformat() if end else None,
            },
        )
    superior = await session.scalar(sa.select(Unit.parent_id).where(Unit.id == previous.competent_unit_id))
    if competent_id != superior:
        raise DomainError(
            Code.second_round_wrong_unit, details={"field": "competent_unit_id", "required_unit_id": superior}
        )
    if decided:
        if data.decision_known_date is None:
            raise DomainError(
                Code.missing_field,
                details={
                    "field": "decision_known_date",
                    "hint": "Ngày người khiếu nại nhận được quyết định giải quyết lần đầu",
                },
            )
        assert previous.decision_date is not None
        if data.decision_known_date < previous.decision_date:
            raise DomainError(
                Code.date_before_previous_step,
                details={"field": "decision_known_date", "previous_step_date": previous.decision_date.isoformat()},
            )


def _filing_warnings(data: CaseIn, remote: bool, env: DeadlineEnv, previous: Case | None) -> list[dict[str, Any]]:
    """The filing window (thời hiệu) is a warning to the officer, never a silent refusal."""
    if data.kind is not Kind.complaint:
        return []
    round_ = data.complaint_round or 1
    disciplinary = data.disciplinary or (previous is not None and previous.disciplinary)  # LKN art. 48 (H7)
    facts_ = CaseFacts(kind="complaint", complaint_round=round_, remote_area=remote, disciplinary=disciplinary)
    start: date | None = None
    if round_ == 2 and previous is not None:
        # LKN art. 33: from the day the complainant received the first decision, or from the end of the
        # first-round period when no decision came.
        start = data.decision_known_date if previous.decision_date else _first_round_end(previous, env)
    elif data.decision_known_date:
        start = data.decision_known_date
    if start is None:
        return []
    last_day, basis = filing_window_due(facts_, start, env.cal, env.rules)
    if data.received_at > last_day:
        return [
            {
                "code": "filing_window_passed",
                "last_day": last_day.isoformat(),
                "legal_basis": basis,
                "message": f"Đơn nhận sau hạn khiếu nại ({last_day:%d/%m/%Y}, {basis}); "
                "xem xét lý do khách quan trước khi không thụ lý.",
            }
        ]
    return []


async def check_accused_officers(
    session: AsyncSession, officer_ids: list[int], competent_path: str, *, once_named: Sequence[int] = ()
) -> None:
    """An officer named as accused may not see the case, so naming one must not hide it from those who should
    settle or oversee it: a head (or a supervising head) may be accused only where the case is settled above
    their unit (LTC art. 13: by the head of the direct superior), and a case names at most a few officers (the
    inspectorate's other officers always see it). `once_named`: officers whose link was removed — not counted,
    but they stay excluded from the case, so the rule on heads holds for them too (a transfer never brings the
    case to a unit they head)."""
    if len(officer_ids) > MAX_ACCUSED_OFFICERS:
        raise DomainError(Code.too_many_accused_officers, details={"field": "parties", "max": MAX_ACCUSED_OFFICERS})
    for officer_id in dict.fromkeys([*officer_ids, *once_named]):
        row = (
            await session.execute(
                sa.select(User.roles, User.is_active, Unit.path, Unit.parent_id)
                .join(Unit, Unit.id == User.unit_id)
                .where(User.id == officer_id)
            )
        ).first()
        if officer_id not in officer_ids and (row is None or not row.is_active):
            continue  # a removed link's officer who left the service heads nothing
        if row is None or not row.is_active:
            raise DomainError(Code.user_not_found, details={"field": "parties.officer_id"})
        if Role.unit_head.value in row.roles and competent_path.startswith(row.path):
            raise DomainError(
                Code.accused_head_competence,
                details={
                    "field": "parties.officer_id",
                    "officer_id": officer_id,
                    "competent_unit_above": row.parent_id,
                },
            )


async def _validate_parties(session: AsyncSession, data: CaseIn, competent_path: str) -> list[int]:
    officer_ids = []
    for i, party in enumerate(data.parties):
        if party.officer_id is None:
            continue
        if party.role.value != "accused":
            raise DomainError(Code.officer_link_not_accused, details={"field": f"parties.{i}.officer_id"})
        officer_ids.append(party.officer_id)
    await check_accused_officers(session, officer_ids, competent_path)
    return officer_ids


_IDENTITY_EXCLUDED = {"parties": {"__all__": set(presenters.IDENTITY_FIELDS)}}


def fingerprint_input(data: CaseIn) -> bytes:
    """What the Idempotency-Key fingerprint is made of: the letter without its parties' identities (names, ID
    numbers, phones, addresses — a public submission's contact is its party). Two bodies that differ only there are
    the same letter (a retry with a corrected name replays the case made first)."""
    return data.model_dump_json(exclude=_IDENTITY_EXCLUDED).encode()


def idempotency_fingerprint(settings: Settings, data: CaseIn, contact_mac: str | None) -> str:
    """The fingerprint stored with a letter taken in under an Idempotency-Key; with a public submission's
    `contact_mac` (its sender's contact), 128 bits of each in the one 64-character column."""
    fingerprint = sealed_text.keys_for(settings).idempotency(fingerprint_input(data))
    return fingerprint if contact_mac is None else fingerprint[:32] + contact_mac[:32]
