"""Enforcement of a decision or conclusion (tổ chức thực hiện; form 05/KQTH): what was recovered, returned,
sanctioned and prosecuted, recorded on the case and its trail."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases.schemas import CaseOut, EnforcementIn
from api.services.calendar import DeadlineEnv
from api.services.cases import access, queries, trail
from api.vault import Vault


async def record(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    data: EnforcementIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    loaded = await queries.load(session, principal, case_id, lock=True)
    case = loaded.case
    access.ensure_desk_or_head(principal, case)
    if case.outcome is None or case.decision_date is None or case.kind not in ("complaint", "denunciation"):
        raise DomainError(Code.enforcement_not_allowed)
    if data.enforced_on > today:
        raise DomainError(Code.date_in_future, details={"field": "enforced_on"})
    if data.enforced_on < case.decision_date:
        raise DomainError(
            Code.date_before_previous_step,
            details={"field": "enforced_on", "previous_step_date": case.decision_date.isoformat()},
        )
    figures = data.model_dump(mode="json", exclude={"enforced_on", "note"})
    figures = {k: (int(v) if k.endswith("_vnd") else v) for k, v in figures.items()}
    for k in ("land_to_state_m2", "land_to_citizens_m2"):
        figures[k] = float(figures[k])
    case.enforced_on, case.enforcement = data.enforced_on, figures
    step = trail.Step("enforce", data.enforced_on, data.note, figures)
    return await queries.record_step(session, principal, loaded, step, today=today, env=env, vault=vault)
