"""What every action's handler is given (`Ctx`) and the checks they share: a field required, a reason code from
its table, a decision document where the law wants one, the processing periods ended."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.cases.schemas import ActionIn
from api.services.calendar import DeadlineEnv
from workflows import deadlines as dl
from workflows.cases import Kind

PROCESSING_TIMERS = {"processing", "acceptance", "transfer"}


@dataclass
class Ctx:
    session: AsyncSession
    principal: Officer
    case: Case
    body: ActionIn
    on: date
    env: DeadlineEnv
    timers: list[dl.Timer]
    payload: dict[str, Any] = field(default_factory=dict)
    next_status: str | None = None  # set by a handler when the table's target does not apply


def require(value: Any, field_name: str, message: str) -> Any:
    if value in (None, "", []):
        raise DomainError(Code.missing_field, details={"field": field_name, "hint": message})
    return value


def code_in(value: str | None, allowed: dict[str, str], field_name: str) -> str:
    require(value, field_name, "Thiếu mã lý do")
    if value not in allowed:
        raise DomainError(Code.invalid_reason_code, details={"field": field_name, "allowed": sorted(allowed)})
    assert value is not None
    return value


def decision_needed(ctx: Ctx) -> None:
    if ctx.case.kind in (Kind.complaint, Kind.denunciation):
        require(ctx.body.decision_number, "decision_number", "Thiếu số quyết định / văn bản")


def end_processing(ctx: Ctx) -> None:
    ctx.timers = dl.complete(ctx.timers, PROCESSING_TIMERS, ctx.on)
