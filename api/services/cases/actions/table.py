"""`POST /cases/{id}/actions/{action}`: one transaction per action — lock the case, check the version (If-Match),
consult the transition table, apply the action's rule (`processing`, `settlement`), set the milestones the
statistics count by, record the event and its outbox messages."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import ActionNotAllowed
from api.models.cases import Case
from api.models.cases.schemas import ActionIn, CaseOut
from api.services import outbox
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import access, domain, queries, trail
from api.services.cases.actions import processing, settlement
from api.services.cases.actions.context import Ctx
from api.services.citizen.status import public_event, public_status
from api.vault import Vault
from workflows import deadlines as dl
from workflows.cases import PREVIOUS, TRANSITIONS, Action, Status, allowed_actions, transition


def _milestones(
    case: Case, action: Action, status: Status, next_status: str, on: date, timers: list[dl.Timer], env: DeadlineEnv
) -> None:
    """The dates the statistics forms count by: the letter's processing (its first step out of `received`) and
    the end of its settlement, with whether the resolution period had run out by then."""
    if status is Status.received and next_status != Status.received and case.processed_on is None:
        case.processed_on, case.processed_as = on, action.value
    if next_status in (Status.resolved, Status.terminated) and status.value != next_status and case.settled_on is None:
        case.settled_on = on
        case.resolution_late = any(
            t.name == "resolution" and t.completed_on is not None and t.status(env.cal, on) is dl.TimerStatus.met_late
            for t in timers
        )


HANDLERS: dict[Action, Callable[[Ctx], Awaitable[None]]] = {
    Action.accept: processing.accept,
    Action.reject: processing.reject,
    Action.transfer: processing.transfer,
    Action.guide: processing.guide,
    Action.store: processing.store,
    Action.assign: settlement.assign,
    Action.extend: settlement.extend,
    Action.suspend: settlement.suspend,
    Action.resume: settlement.resume,
    Action.withdraw: settlement.withdraw,
    Action.terminate: settlement.terminate,
    Action.resolve: settlement.resolve,
    Action.close: settlement.close,
}


async def perform(
    session: AsyncSession,
    principal: Officer,
    case_id: int,
    action: Action,
    if_match: int,
    body: ActionIn,
    *,
    today: date,
    env: DeadlineEnv,
    vault: Vault,
) -> CaseOut:
    """One action, one transaction: lock, check version and table, apply, record, commit; the response is
    built from what was written (and a protected identity shown in it is recorded in the same commit)."""
    loaded = await queries.locked(session, principal, case_id, if_match)
    case = loaded.case
    status = Status(case.status)
    t = transition(status, action, set(principal.roles))
    if t is None:
        exists = TRANSITIONS.get((status, action))
        raise ActionNotAllowed(
            action=action.value,
            status=status.value,
            allowed_actions=allowed_actions(status, access.acting_roles(principal, case)),
            required_roles=sorted(r.value for r in exists.roles) if exists else None,
        )
    access.ensure_may_act(principal, case, t)
    on = body.effective_date or today
    domain.validate_effective_date(on, received_at=case.received_at, today=today, previous=loaded.last_step_on)
    ctx = Ctx(
        session=session, principal=principal, case=case, body=body, on=on, env=env, timers=domain.load_timers(case)
    )
    await HANDLERS[action](ctx)
    loaded.handler_ids = ctx.payload.get("handler_ids", loaded.handler_ids)  # the state chained below covers them
    next_status = ctx.next_status or (t.to if t.to != PREVIOUS else status.value)
    store_timers(case, ctx.timers, env)
    case.status = next_status
    _milestones(case, action, status, next_status, on, ctx.timers, env)
    body_payload = body.model_dump(
        mode="json", exclude_none=True, exclude_defaults=True, exclude={"effective_date", "reason"}
    )
    payload = {**body_payload, **ctx.payload}
    step = trail.Step(action.value, on, body.reason, payload, from_status=status.value, to_status=next_status)
    queries.chain_step(session, principal, loaded, step, vault=vault)
    events: list[tuple[str, int | None, dict[str, Any]]] = [
        (
            "case.action",
            case_id,
            {
                "case_id": case_id,
                "tracking_code": case.tracking_code,
                "kind": case.kind,
                "action": action.value,
                "from_status": status.value,
                "to_status": next_status,
                "effective_date": on.isoformat(),
                "competent_unit_id": case.competent_unit_id,
                "version": case.version,
            },
        )
    ]
    if public_status(status.value) != public_status(next_status):
        # For citizen apps: the tracking code and the public status only.
        events.append(("case.public_status", case_id, public_event(case, next_status)))
    await outbox.enqueue_many(session, events)
    # The response (with any protected identity it shows) is built before the commit that records its reading.
    out = queries.view(principal, loaded, today=today, env=env, vault=vault)
    await session.commit()
    return out
