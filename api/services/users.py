"""Officers: create, change roles / unit / password, deactivate, list; sign-in; bootstrap admin."""

import asyncio
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.errors import Code, DomainError, unauthenticated
from api.models.auth import LoginAttempt
from api.models.unit import Unit
from api.models.user import Role, User, UserCreate, UserUpdate
from api.pagination import by_id
from api.security import Passwords
from api.services import audit
from api.settings import Settings


async def get(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise DomainError(Code.no_such_user)
    return user


async def with_unit(session: AsyncSession, user_id: int) -> tuple[User, Unit]:
    user = await get(session, user_id)
    unit = await session.get(Unit, user.unit_id)
    assert unit is not None
    return user, unit


async def _ensure_unit(session: AsyncSession, unit_id: int) -> None:
    if await session.get(Unit, unit_id) is None:
        raise DomainError(Code.unit_not_found, details={"field": "unit_id"})


async def create(session: AsyncSession, passwords: Passwords, actor_id: int | None, data: UserCreate) -> User:
    await _ensure_unit(session, data.unit_id)
    taken = await session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == data.username.lower()))
    if taken is not None:
        raise DomainError(Code.duplicate_username, details={"field": "username"})
    user = User(
        username=data.username,
        password_hash=await asyncio.to_thread(passwords.hash, data.password),  # argon2 off the event loop
        full_name=data.full_name,
        unit_id=data.unit_id,
        roles=sorted({r.value for r in data.roles}),
        is_active=True,
    )
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=user.id,
        action="create",
        payload=data.model_dump(mode="json", exclude={"password"}),
    )
    await session.commit()
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


# Roles that may see a protected identity in their unit (workflows/confidentiality.may_see_identity).
REVEALING_ROLES = frozenset({Role.desk_officer.value, Role.unit_head.value})


def _reveals_more(user: User, changes: dict[str, Any]) -> bool:
    """Would this change let the user see protected identities they cannot see now: a revealing role gained, or
    a revealing role taken to another unit? An admin may not do that to themselves (a second admin must)."""
    roles = set(changes.get("roles", user.roles))
    gained = (roles - set(user.roles)) & REVEALING_ROLES
    moved = "unit_id" in changes and changes["unit_id"] != user.unit_id and roles & REVEALING_ROLES
    return bool(gained or moved)


async def update(session: AsyncSession, passwords: Passwords, actor_id: int, user_id: int, data: UserUpdate) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise DomainError(Code.no_such_user)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if actor_id == user_id and _reveals_more(user, changes):
        raise DomainError(Code.self_grant_refused, details={"field": "roles" if "roles" in changes else "unit_id"})
    loses_admin = changes.get("is_active") is False or ("roles" in changes and Role.admin.value not in changes["roles"])
    if loses_admin and Role.admin.value in user.roles and await _active_admins_other_than(session, user_id) == 0:
        raise DomainError(Code.last_admin)
    if "unit_id" in changes:
        await _ensure_unit(session, changes["unit_id"])
        user.unit_id = changes["unit_id"]
    if "roles" in changes:
        user.roles = sorted(set(changes["roles"]))
    if "full_name" in changes:
        user.full_name = changes["full_name"]
    if "is_active" in changes:
        user.is_active = changes["is_active"]
        if not user.is_active:
            user.token_version += 1
    if data.password is not None:
        user.password_hash = await asyncio.to_thread(passwords.hash, data.password)
        user.token_version += 1  # a new password ends every session opened with the old one
        changes["password"] = "changed"  # noqa: S105 - the audit says it changed, never what to
    user.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user.id, action="update", payload=changes)
    await session.commit()
    await session.refresh(user)
    return user


async def list_users(
    session: AsyncSession, *, limit: int, cursor: str | None, unit_id: int | None, role: str | None, active: bool | None
) -> tuple[list[User], str | None]:
    stmt = sa.select(User)
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    if role:
        stmt = stmt.where(User.roles.any(role))
    if active is not None:
        stmt = stmt.where(User.is_active == active)
    return await by_id(User.id).fetch(session, stmt, limit=limit, cursor=cursor)


_RESERVE = sa.text("""
    INSERT INTO login_attempts AS a (key, window_start, count)
    SELECT k, now(), 1 FROM unnest(CAST(:keys AS text[])) AS k
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN a.window_start < now() - CAST(:window AS interval) THEN 1 ELSE a.count + 1 END,
        window_start = CASE WHEN a.window_start < now() - CAST(:window AS interval) THEN now() ELSE a.window_start END
    RETURNING key, count, CEIL(EXTRACT(EPOCH FROM window_start + CAST(:window AS interval) - now()))::int AS wait
""")


async def _reserve(session: AsyncSession, settings: Settings, pair: str, address: str) -> None:
    """Count this attempt before the password is checked, atomically (one upsert, committed at once): of 40
    parallel guesses only the first `login_max_failures` reach the check. The pair (username, address) limit
    stops guessing one account without locking its owner out from elsewhere; the address limit stops password
    spraying across usernames."""
    window = timedelta(minutes=settings.login_window_minutes)
    rows = (await session.execute(_RESERVE, {"keys": [pair, address], "window": window})).all()
    await session.commit()
    limits = {pair: settings.login_max_failures, address: settings.login_max_per_address}
    over = [max(int(wait), 1) for key, count, wait in rows if count > limits[key]]
    if over:
        raise DomainError(Code.too_many_attempts, headers={"Retry-After": str(max(over))})


async def authenticate(
    session: AsyncSession, passwords: Passwords, settings: Settings, username: str, password: str, client: str = ""
) -> User:
    key = username.strip().lower()[:64]
    pair, address = f"u:{key}|a:{client[:64]}", f"a:{client[:64]}"
    await _reserve(session, settings, pair, address)
    user = await session.scalar(sa.select(User).where(sa.func.lower(User.username) == key))
    # argon2 is deliberately slow: off the event loop, so sign-ins never stall other requests.
    ok = await asyncio.to_thread(passwords.verify, user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        if user is not None:  # unknown usernames are only counted (bounded per address), never audited one by one
            audit.record(
                session, actor_id=None, entity="auth", entity_id=key, action="login_failed", payload={"client": client}
            )
            await session.commit()
        # One answer for unknown user, wrong password and deactivated account.
        raise unauthenticated(Code.invalid_credentials)
    # A success clears the account's count from this address, and gives the address its attempt back.
    await session.execute(sa.delete(LoginAttempt).where(LoginAttempt.key == pair))
    await session.execute(
        sa.update(LoginAttempt)
        .where(LoginAttempt.key == address)
        .values(count=sa.func.greatest(LoginAttempt.count - 1, 0))
    )
    audit.record(session, actor_id=user.id, entity="auth", entity_id=key, action="sign_in", payload={"client": client})
    await session.commit()
    return user


async def purge_login_attempts(session: AsyncSession, settings: Settings) -> int:
    """Counters of windows that have passed (the jobs loop runs this): the table stays small."""
    since = sa.func.now() - timedelta(minutes=settings.login_window_minutes)
    result = await session.execute(sa.delete(LoginAttempt).where(LoginAttempt.window_start < since))
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def sign_out(session: AsyncSession, user_id: int) -> None:
    """Every token issued to the officer so far stops working."""
    await session.execute(sa.update(User).where(User.id == user_id).values(token_version=User.token_version + 1))
    audit.record(session, actor_id=user_id, entity="auth", entity_id=str(user_id), action="sign_out")
    await session.commit()


async def ensure_bootstrap_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> bool:
    """Create the first admin when no active admin exists. Returns True when one was made."""
    admins = await session.scalar(sa.select(sa.func.count()).select_from(User).where(User.roles.any(Role.admin.value)))
    if admins:
        return False
    # Serialise concurrent starts: several processes may boot at once.
    await locks.hold(session, locks.Lock.bootstrap_admin)
    admins = await session.scalar(sa.select(sa.func.count()).select_from(User).where(User.roles.any(Role.admin.value)))
    if admins:
        await session.rollback()
        return False
    unit = await session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None:
        unit = Unit(code="ROOT", name="Hệ thống", level="province", path="/", remote_area=False, is_active=True)
        session.add(unit)
        await session.flush()
        unit.path = f"/{unit.id}/"
    await session.flush()
    assert unit.id is not None
    await create(
        session,
        passwords,
        None,
        UserCreate(
            username=username, password=password, full_name="Quản trị viên", unit_id=unit.id, roles=[Role.admin]
        ),
    )
    return True
