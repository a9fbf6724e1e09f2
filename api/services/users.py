"""Officers: create, change roles / unit / password, deactivate, list; sign-in; bootstrap admin."""

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import locks
from api.errors import Code, DomainError, unauthenticated
from api.models.audit import AuditEvent
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


# System accounts: the citizen channel's own (public.CHANNEL_USERNAME, "he-thong.cong-dan") and any other the
# service acts as. Their names are reserved; nobody signs in as one or changes one (409 system_account, audited).
SYSTEM_PREFIX = "he-thong."


def is_system(user: User) -> bool:
    return bool(user.is_system) or user.username.lower().startswith(SYSTEM_PREFIX)


async def _refuse_system(
    session: AsyncSession, actor_id: int | None, entity_id: object, attempt: str, change: dict[str, Any]
) -> None:
    """The attempt is committed to the audit log, then refused."""
    shown = {k: ("set" if k == "password" else v) for k, v in change.items()}  # never the password tried
    audit.record(
        session,
        actor_id=actor_id,
        entity="user",
        entity_id=entity_id,
        action="refused",
        payload={"attempt": attempt, "change": shown, "reason": Code.system_account.value},
    )
    await session.commit()
    raise DomainError(Code.system_account)


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


def _pending_summary(user: User) -> dict[str, Any]:
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


def _clear_pending(user: User) -> None:
    user.pending_roles = None
    user.pending_unit_id = None
    user.pending_password_hash = None
    user.pending_activation = False
    user.pending_by_id = None
    user.pending_at = None


async def create(session: AsyncSession, passwords: Passwords, actor_id: int | None, data: UserCreate) -> User:
    """`actor_id` None: the operator's act on the server (bootstrap, create-admin): the roles take effect at once.
    Through the API (an administrator's id) the account is made without roles, its roles pending."""
    if data.username.lower().startswith(SYSTEM_PREFIX):
        await _refuse_system(session, actor_id, data.username.lower(), "create", {"username": data.username})
    await _ensure_unit(session, data.unit_id)
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


def _widening(user: User, actor_id: int, changes: dict[str, Any]) -> dict[str, Any]:
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


async def update(session: AsyncSession, passwords: Passwords, actor_id: int, user_id: int, data: UserUpdate) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise DomainError(Code.no_such_user)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if is_system(user):
        await _refuse_system(session, actor_id, user.id, "deactivate" if changes == {"is_active": False} else "update",
                             changes)  # fmt: skip
    loses_admin = changes.get("is_active") is False or ("roles" in changes and Role.admin.value not in changes["roles"])
    if loses_admin and Role.admin.value in user.roles and await _active_admins_other_than(session, user_id) == 0:
        raise DomainError(Code.last_admin)
    if "unit_id" in changes:
        await _ensure_unit(session, changes["unit_id"])
    wide = _widening(user, actor_id, changes)
    payload: dict[str, Any] = {k: ("changed" if k == "password" else v) for k, v in changes.items()}
    # A new request replaces what waits: the same administrator's earlier request part by part, another's whole
    # (an approval always approves one administrator's request, never someone else's). Audited.
    if wide and has_pending(user) and user.pending_by_id != actor_id:
        payload["replaced_pending"] = {"by_id": user.pending_by_id, **_pending_summary(user)}
        _clear_pending(user)
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
        payload["pending"] = _pending_summary(user)
    else:
        user.pending_by_id, user.pending_at = None, None
    user.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user.id, action="update", payload=payload)
    await session.commit()
    await session.refresh(user)
    return user


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
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise DomainError(Code.no_such_user)
    if is_system(user):
        await _refuse_system(session, actor_id, user.id, "approve", {})
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
    summary = _pending_summary(user)
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
    _clear_pending(user)
    user.updated_at = sa.func.now()
    audit.record(session, actor_id=actor_id, entity="user", entity_id=user.id, action="approve", payload=payload)
    await session.commit()
    await session.refresh(user)
    return user, one_time


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


async def _check_password(
    session: AsyncSession,
    passwords: Passwords,
    settings: Settings,
    username: str,
    password: str,
    client: str,
    failed: str = "login_failed",
) -> tuple[User, str]:
    """The account this username and password open (counted, limited, failures audited), and its key."""
    key = username.strip().lower()[:64]
    pair, address = f"u:{key}|a:{client[:64]}", f"a:{client[:64]}"
    await _reserve(session, settings, pair, address)
    user = await session.scalar(sa.select(User).where(sa.func.lower(User.username) == key))
    # argon2 is deliberately slow: off the event loop, so sign-ins never stall other requests.
    ok = await asyncio.to_thread(passwords.verify, user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active or is_system(user):
        if user is not None:  # unknown usernames are only counted (bounded per address), never audited one by one
            audit.record(
                session, actor_id=None, entity="auth", entity_id=key, action=failed, payload={"client": client}
            )
            await session.commit()
        # One answer for unknown user, wrong password and deactivated account.
        raise unauthenticated(Code.invalid_credentials)
    # The right password clears the account's count from this address, and gives the address its attempt back.
    await session.execute(sa.delete(LoginAttempt).where(LoginAttempt.key == pair))
    await session.execute(
        sa.update(LoginAttempt)
        .where(LoginAttempt.key == address)
        .values(count=sa.func.greatest(LoginAttempt.count - 1, 0))
    )
    return user, key


async def authenticate(
    session: AsyncSession, passwords: Passwords, settings: Settings, username: str, password: str, client: str = ""
) -> User:
    user, key = await _check_password(session, passwords, settings, username, password, client)
    if user.must_change_password:
        # A one-time password (another person chose it): right, but it opens nothing until the owner sets their
        # own (`change_password`). Said only to whoever knows it; everyone else gets the 401 above.
        audit.record(
            session,
            actor_id=user.id,
            entity="auth",
            entity_id=key,
            action="password_change_required",
            payload={"client": client},
        )
        await session.commit()
        raise DomainError(Code.password_change_required)
    audit.record(session, actor_id=user.id, entity="auth", entity_id=key, action="sign_in", payload={"client": client})
    await session.commit()
    return user


async def change_password(
    session: AsyncSession,
    passwords: Passwords,
    settings: Settings,
    username: str,
    old_password: str,
    new_password: str,
    client: str = "",
) -> User:
    """The account's owner replaces its password (POST /auth/password): counted and limited like a sign-in, the
    same 401 for a wrong password, an unknown, deactivated or system account. The one-time mark goes, every
    earlier token ends, audited (never a password). A one-time password is used once: of two changes racing with
    it, one wins and the other is 401."""
    if new_password == old_password:
        raise DomainError(Code.same_password, details={"field": "new_password"})
    user, key = await _check_password(
        session, passwords, settings, username, old_password, client, failed="password_change_failed"
    )
    was_one_time, old_hash = bool(user.must_change_password), user.password_hash
    hashed = await asyncio.to_thread(passwords.hash, new_password)
    changed = await session.execute(
        sa.update(User)
        .where(User.id == user.id, User.password_hash == old_hash)  # unchanged since it was checked
        .values(
            password_hash=hashed,
            must_change_password=False,
            token_version=User.token_version + 1,  # a new password ends every session opened with the old one
            updated_at=sa.func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):
        await session.commit()
        raise unauthenticated(Code.invalid_credentials)
    audit.record(
        session,
        actor_id=user.id,
        entity="user",
        entity_id=user.id,
        action="password_changed",
        payload={"client": client, "one_time": was_one_time},
    )
    await session.commit()
    await session.refresh(user)
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


async def _root_unit(session: AsyncSession) -> int:
    unit = await session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None:
        unit = Unit(code="ROOT", name="Hệ thống", level="province", path="/", remote_area=False, is_active=True)
        session.add(unit)
        await session.flush()
        unit.path = f"/{unit.id}/"
    await session.flush()
    assert unit.id is not None
    return unit.id


async def _make_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> None:
    """The operator's act on the server: an administrator at once (no pending)."""
    unit_id = await _root_unit(session)
    await create(
        session,
        passwords,
        None,
        UserCreate(
            username=username, password=password, full_name="Quản trị viên", unit_id=unit_id, roles=[Role.admin]
        ),
    )


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
    await _make_admin(session, passwords, username, password)
    return True


async def ensure_named_admin(session: AsyncSession, passwords: Passwords, username: str, password: str) -> bool:
    """Create this administrator unless an account of that name exists (BOOTSTRAP_APPROVER_*, `create-admin`:
    the second administrator two-person grants need). Returns True when one was made."""

    async def exists() -> bool:
        found = await session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower()))
        return found is not None

    if await exists():
        return False
    await locks.hold(session, locks.Lock.bootstrap_admin)  # concurrent starts make it once
    if await exists():
        await session.rollback()
        return False
    await _make_admin(session, passwords, username, password)
    return True


ensure_bootstrap_approver = ensure_named_admin
