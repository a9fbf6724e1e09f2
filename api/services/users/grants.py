"""Two-person grants: what widens an account's access waits (pending) until a second administrator approves it;
`approve` applies it and hands over a fresh one-time password where the account is not yet in its owner's hands."""

import asyncio
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.audit import AuditEvent
from api.models.user import Role, User
from api.security import Passwords
from api.services import audit
from api.services.users.lookup import get
from api.services.users.system import is_system, refuse_system

# Two-person grants. Every role either reveals protected identities in a unit (desk_officer, unit_head, handler,
# inspector: workflows/confidentiality) or gives such roles (admin). So a role gained through the API — on a new
# account, another's, the administrator's own — a move to another unit of an account holding a revealing role, a
# password set by an administrator on someone else's account that holds a role, and the re-activation of such an
# account wait until a second administrator approves them (`approve`). What reduces access (roles taken away,
# deactivation) and a new name take effect at once. The operator's acts on the server (BOOTSTRAP_ADMIN_*,
# BOOTSTRAP_APPROVER_*, `python -m api create-admin`, the demo seed) are direct.
REVEALING_ROLES = frozenset({Role.desk_officer.value, Role.unit_head.value, Role.handler.value, Role.inspector.value})
GUARDED_ROLES = REVEALING_ROLES | {Role.admin.value}


def has_pending(user: User) -> bool:
    return (
        user.pending_roles is not None
        or user.pending_unit_id is not None
        or user.pending_password_hash is not None
        or bool(user.pending_activation)
    )


def pending_summary(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if user.pending_roles is not None:
        out["roles"] = list(user.pending_roles)
    if user.pending_unit_id is not None:
        out["unit_id"] = user.pending_unit_id
    if user.pending_password_hash is not None:
        out["password"] = "set"  # noqa: S105 - says that one waits, never what
    if user.pending_activation:
        out["is_active"] = True
    return out


def clear_pending(user: User) -> None:
    user.pending_roles = None
    user.pending_unit_id = None
    user.pending_password_hash = None
    user.pending_activation = False
    user.pending_by_id = None
    user.pending_at = None


def widening(user: User, actor_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """What in this change would widen what the account may see, as {field: requested value}."""
    wide: dict[str, Any] = {}
    if "roles" in changes and set(changes["roles"]) - set(user.roles):
        wide["roles"] = sorted(set(changes["roles"]))
    # The roles the account holds or will hold once what waits is approved (a roles request replaces those).
    after = set(changes["roles"]) if "roles" in changes else set(user.roles) | set(user.pending_roles or [])
    if "unit_id" in changes and changes["unit_id"] != user.unit_id and after & REVEALING_ROLES:
        wide["unit_id"] = changes["unit_id"]
    if changes.get("password") is not None and user.id != actor_id and after & GUARDED_ROLES:
        wide["password"] = changes["password"]
    if changes.get("is_active") is True and not user.is_active and after & GUARDED_ROLES:
        wide["is_active"] = True
    return wide


ONE_TIME_BYTES = 18  # secrets.token_urlsafe: 24 characters


async def _never_handed_over(session: AsyncSession, user: User) -> bool:
    """The account was made through the API (an administrator chose its first password) and no approval has
    handed it a password since: whoever uses it may be its creator, even if that password has been changed."""
    events = sa.select(AuditEvent.id).where(AuditEvent.entity == "user", AuditEvent.entity_id == str(user.id))
    made_by_admin = events.where(AuditEvent.action == "create", AuditEvent.actor_id.is_not(None))
    handed = events.where(AuditEvent.action == "approve", AuditEvent.payload["one_time_password"].astext == "issued")
    return bool(await session.scalar(sa.select(sa.exists(made_by_admin) & ~sa.exists(handed))))


async def approve(
    session: AsyncSession, passwords: Passwords, actor_id: int, user_id: int, seen: datetime | None = None
) -> tuple[User, str | None]:
    """A second administrator approves what another asked for this account (two-person grants): it takes effect.
    Refused to the administrator who asked, to the one who made the account and to the one who would gain. Both
    outcomes are audited. `seen`: the
    `pending_at` of the request the approver looked at (refused if it has been replaced since).

    If the account is not yet in its owner's hands — it carries a one-time password (its creator's, or one an
    administrator set, including the one this approval would apply), or it was made through the API and has never
    been handed a password by an approval — the approval replaces its password with a fresh random one-time
    password, returned here once for the approver to hand to the person (never stored in clear, never audited);
    every earlier password and session ends. So the administrator who asked never holds the account the grant
    opens, and the approver holds only a password that must be changed at first use. An account already in use
    keeps its password (None)."""
    user = await get(session, user_id, for_update=True)
    if is_system(user):
        await refuse_system(session, actor_id, user.id, "approve", {})
    if not has_pending(user):
        raise DomainError(Code.nothing_pending)
    if seen is not None and seen != user.pending_at:
        raise DomainError(
            Code.pending_changed, details={"pending_at": user.pending_at.isoformat() if user.pending_at else None}
        )
    # The administrator who made the account is refused as its approver like the one who asked: an approval hands
    # over the account's one-time password, and its creator must never hold an account a grant opens.
    creator = await session.scalar(
        sa.select(AuditEvent.actor_id)
        .where(AuditEvent.entity == "user", AuditEvent.entity_id == str(user.id), AuditEvent.action == "create")
        .order_by(AuditEvent.id)
        .limit(1)
    )
    refusal = (
        Code.approval_by_requester
        if actor_id in (user.pending_by_id, creator)
        else Code.approval_of_own_grant
        if user.id == actor_id
        else None
    )
    summary = pending_summary(user)
    if refusal is not None:
        audit.record(
            session,
            actor_id=actor_id,
            entity="user",
            entity_id=user.id,
            action="approval_refused",
            payload={**summary, "requested_by_id": user.pending_by_id, "reason": refusal.value},
        )
        await session.commit()
        raise DomainError(refusal)
    payload: dict[str, Any] = {
        **summary,
        "requested_by_id": user.pending_by_id,
        "requested_at": user.pending_at.isoformat() if user.pending_at else None,
    }
    if user.pending_roles is not None:
        user.roles = sorted(set(user.pending_roles))
    if user.pending_unit_id is not None:
        user.unit_id = user.pending_unit_id
    if user.pending_activation:
        user.is_active = True
    one_time: str | None = None
    if (
        user.pending_password_hash is not None  # an administrator chose it for someone else: never applied as is
        or user.must_change_password
        or await _never_handed_over(session, user)
    ):
        one_time = secrets.token_urlsafe(ONE_TIME_BYTES)
        user.password_hash = await asyncio.to_thread(passwords.hash, one_time)
        user.must_change_password = True  # works once, for a change by the owner (`change_password`)
        user.token_version += 1  # a new password ends every session opened with the old one
        payload["one_time_password"] = "issued"  # noqa: S105 - that one was handed over, never which
    clear_pending(user)
    user.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user.id, action="approve", payload=payload)
    await session.commit()
    await session.refresh(user)
    return user, one_time
