"""Officers' accounts: create, change (roles, unit, name, password, activation; what widens access waits
for `grants.approve`), list."""

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.unit import Unit
from api.models.user import Role, User, UserIn, UserUpdate
from api.pagination import by_id
from api.security import Passwords
from api.services import audit
from api.services.users.grants import clear_pending, has_pending, pending_summary, widening
from api.services.users.lookup import get
from api.services.users.system import SYSTEM_PREFIX, is_system, refuse_system


async def ensure_unit(session: AsyncSession, unit_id: int) -> None:
    if await session.get(Unit, unit_id) is None:
        raise DomainError(Code.unit_not_found, details={"field": "unit_id"})


async def create(session: AsyncSession, passwords: Passwords, actor_id: int | None, data: UserIn) -> User:
    """`actor_id` None: the operator's act on the server (bootstrap, create-admin): the roles take effect at once.
    Through the API (an administrator's id) the account is made without roles, its roles pending."""
    if data.username.lower().startswith(SYSTEM_PREFIX):
        await refuse_system(session, actor_id, data.username.lower(), "create", {"username": data.username})
    await ensure_unit(session, data.unit_id)
    taken = await session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == data.username.lower()))
    if taken is not None:
        raise DomainError(Code.duplicate_username, details={"field": "username"})
    roles = sorted({r.value for r in data.roles})
    direct = actor_id is None
    user = User(
        username=data.username,
        password_hash=await asyncio.to_thread(passwords.hash, data.password),  # argon2 off the event loop
        full_name=data.full_name,
        unit_id=data.unit_id,
        roles=roles if direct else [],
        is_active=True,
        pending_roles=None if direct else roles,
        pending_by_id=actor_id,
        pending_at=None if direct else sa.func.clock_timestamp(),
        must_change_password=not direct,  # the administrator chose it: one-time (see `change_password`)
    )
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="create",
        payload={**data.model_dump(mode="json", exclude={"password"}), "pending": not direct},
    )
    await session.commit()
    await session.refresh(user)
    return user


async def _active_admins_other_than(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.is_active, User.roles.any(Role.admin.value), User.id != user_id)
        )
        or 0
    )


async def update(session: AsyncSession, passwords: Passwords, actor_id: int, user_id: int, data: UserUpdate) -> User:
    user = await get(session, user_id, for_update=True)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if is_system(user):
        await refuse_system(session, actor_id, user.id, "deactivate" if changes == {"is_active": False} else "update",
                             changes)  # fmt: skip
    loses_admin = changes.get("is_active") is False or ("roles" in changes and Role.admin.value not in changes["roles"])
    if loses_admin and Role.admin.value in user.roles and await _active_admins_other_than(session, user_id) == 0:
        raise DomainError(Code.last_admin)
    if "unit_id" in changes:
        await ensure_unit(session, changes["unit_id"])
    wide = widening(user, actor_id, changes)
    payload: dict[str, Any] = {k: ("changed" if k == "password" else v) for k, v in changes.items()}
    # A new request replaces what waits: the same administrator's earlier request part by part, another's whole
    # (an approval always approves one administrator's request, never someone else's). Audited.
    if wide and has_pending(user) and user.pending_by_id != actor_id:
        payload["replaced_pending"] = {"by_id": user.pending_by_id, **pending_summary(user)}
        clear_pending(user)
    if "roles" in changes:
        if user.pending_roles is not None:
            payload["replaced_pending_roles"] = list(user.pending_roles)
        # Roles taken away go at once; the whole requested set waits if it adds any.
        user.roles = (
            sorted(set(user.roles) & set(changes["roles"])) if "roles" in wide else sorted(set(changes["roles"]))
        )
        user.pending_roles = wide.get("roles")
    if "unit_id" in changes:
        if user.pending_unit_id is not None:
            payload["replaced_pending_unit_id"] = user.pending_unit_id
        if "unit_id" in wide:
            user.pending_unit_id = changes["unit_id"]
        else:
            user.unit_id, user.pending_unit_id = changes["unit_id"], None
    if "full_name" in changes:
        user.full_name = changes["full_name"]
    if "is_active" in changes:
        if "is_active" in wide:
            user.pending_activation = True
        elif changes["is_active"] is False:
            if user.is_active:
                user.token_version += 1
            user.is_active = False
            if user.pending_activation:
                payload["replaced_pending_activation"] = True
            user.pending_activation = False
        else:
            user.is_active = True  # nothing to see: an account without roles
    if data.password is not None:
        hashed = await asyncio.to_thread(passwords.hash, data.password)
        if user.pending_password_hash is not None:
            payload["replaced_pending_password"] = True
        if "password" in wide:
            user.pending_password_hash = hashed
        else:
            user.password_hash, user.pending_password_hash = hashed, None
            user.must_change_password = user.id != actor_id  # set for someone else: one-time
            user.token_version += 1  # a new password ends every session opened with the old one
    if has_pending(user):
        if wide:
            user.pending_by_id, user.pending_at = actor_id, sa.func.clock_timestamp()  # each request its own moment
        payload["pending"] = pending_summary(user)
    else:
        user.pending_by_id, user.pending_at = None, None
    user.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user.id, action="update", payload=payload)
    await session.commit()
    await session.refresh(user)
    return user


async def list_users(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    unit_id: int | None,
    role: str | None,
    active: bool | None,
    pending: bool | None = None,
) -> tuple[list[User], str | None]:
    stmt = sa.select(User)
    if pending is not None:
        waiting = sa.or_(
            User.pending_roles.is_not(None),
            User.pending_unit_id.is_not(None),
            User.pending_password_hash.is_not(None),
            User.pending_activation,
        )
        stmt = stmt.where(waiting if pending else sa.not_(waiting))
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    if role:
        stmt = stmt.where(User.roles.any(role))
    if active is not None:
        stmt = stmt.where(User.is_active == active)
    return await by_id(User.id).fetch(session, stmt, limit=limit, cursor=cursor)
