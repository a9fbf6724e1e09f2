"""What a citizen is shown of their case, and their rating: the case of a tracking code and access key (404
alike for an unknown code and a wrong key), its public status and timeline (the steps a citizen may see, never an
officer, a note or another party), the date they wait for next, the rating once it is settled (its comment
sealed), and the body of a public status change's webhook. The names of kinds, fields, statuses and outcomes the
channel shows are workflows/vocabulary.py's (Open311 uses them too)."""

import hmac
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.cases import Case, CaseEvent
from api.models.public import CaseRating, SubmissionStatusOut, TimelineItemOut
from api.models.unit import Unit
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.cases import intake
from api.services.citizen import seal
from api.vault import Vault
from workflows import vocabulary
from workflows.cases import Status
from workflows.deadlines import Timer

# The names a citizen reads are the one table's (workflows/vocabulary.py); a status is "still being handled" (True)
# until the case leaves the unit's hands.
FIELD_NAMES = vocabulary.FIELD
KIND_NAMES = vocabulary.KIND
_STILL_HANDLED = {"received", "accepted", "in_progress", "suspended"}
PUBLIC_STATUS = {status: (name, status in _STILL_HANDLED) for status, name in vocabulary.STATUS_PUBLIC.items()}
# The steps a citizen sees on their timeline; everything else (assignments, identity reads, notes, urging) is
# internal.
PUBLIC_STEPS = {
    "create": "Đơn đã được tiếp nhận",
    "accept": "Đơn đã được thụ lý giải quyết",
    "reject": "Đơn không được thụ lý",
    "transfer": "Đơn đã được chuyển đến cơ quan có thẩm quyền",
    "guide": "Công dân được hướng dẫn gửi đơn đến cơ quan có thẩm quyền",
    "store": "Đơn được lưu",
    "extend": "Thời hạn giải quyết được gia hạn",
    "suspend": "Việc giải quyết tạm đình chỉ",
    "resume": "Việc giải quyết được tiếp tục",
    "withdraw": "Công dân rút đơn",
    "terminate": "Việc giải quyết bị đình chỉ",
    "resolve": "Đã có quyết định / kết luận giải quyết",
    "close": "Hồ sơ đã kết thúc",
}


def public_status(status: str) -> tuple[str, bool]:
    return PUBLIC_STATUS.get(status, ("Đang xử lý", True))


async def find(session: AsyncSession, tracking_code: str, access_key: str | None) -> Case:
    """The case of this tracking code if the access key is its own; 404 alike for an unknown code and a wrong
    key (no oracle)."""
    case: Case | None = await session.scalar(sa.select(Case).where(Case.tracking_code == tracking_code))
    given = intake.hash_key(access_key or "")
    if case is None or not access_key or not hmac.compare_digest(given, case.access_key_hash):
        raise DomainError(Code.submission_not_found)
    return case


DUE_ORDER = ("resolution", "acceptance", "processing")  # the date a citizen waits for next


def due_date(case: Case, env: DeadlineEnv) -> date | None:
    open_ = [Timer.from_dict(t) for t in case.timers if t.get("completed_on") is None]
    for name in DUE_ORDER:
        for t in open_:
            if t.name == name:
                return t.due_date(env.cal)
    return None


async def status(session: AsyncSession, case: Case, env: DeadlineEnv) -> SubmissionStatusOut:
    steps = await session.execute(
        sa.select(CaseEvent.action, CaseEvent.effective_date, CaseEvent.at)
        .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(PUBLIC_STEPS))
        .order_by(CaseEvent.seq)
    )
    unit = await session.get(Unit, case.competent_unit_id if case.status != Status.received else case.receiving_unit_id)
    rating = await session.scalar(sa.select(CaseRating.score).where(CaseRating.case_id == case.id))
    label, is_open = public_status(case.status)
    settled = case.status in (Status.resolved, Status.closed)
    return SubmissionStatusOut(
        tracking_code=case.tracking_code,
        kind=case.kind,
        field=case.field,
        status=case.status,
        public_status=label,
        open=is_open,
        received_at=case.received_at,
        unit_name=unit.name if unit else "",
        due_date=due_date(case, env) if is_open else None,
        timeline=[
            TimelineItemOut(date=eff or at.date(), event=PUBLIC_STEPS[action]) for action, eff, at in steps.tuples()
        ],
        outcome=vocabulary.outcome_name(case.kind, case.outcome) if settled and case.outcome else None,
        rating=rating,
    )


async def rate(
    session: AsyncSession, case: Case, score: int, comment: str | None, today: date, *, vault: Vault
) -> None:
    """The citizen's rating, once; its comment (which may name them) sealed under the identity keys."""
    if case.status not in (Status.resolved, Status.closed):
        raise DomainError(Code.not_settled_yet, details={"status": case.status})
    assert case.id is not None
    inserted = await session.scalar(
        sa.text(
            "INSERT INTO case_ratings (case_id, score, comment, rated_on) VALUES (:c, :s, :m, :d) "
            "ON CONFLICT (case_id) DO NOTHING RETURNING case_id"
        ),
        {"c": case.id, "s": score, "m": seal.seal_comment(vault, comment), "d": today},
    )
    if inserted is None:
        raise DomainError(Code.already_rated)
    audit.record(session, actor_id=None, entity="case", entity_id=case.id, action="rated", payload={"score": score})
    await session.commit()


def public_event(case: Case, status_: str) -> dict[str, Any]:
    """The webhook body of a public status change: the tracking code and the public status, nothing else."""
    label, is_open = public_status(status_)
    return {"tracking_code": case.tracking_code, "status": "open" if is_open else "closed", "public_status": label}
