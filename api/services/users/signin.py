"""Signing in and out: attempts counted before the password is checked (per account and address, per address),
the one-time password that opens nothing until its owner changes it, the owner's password change, sign-out."""

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError, unauthenticated
from api.models.auth import LoginAttempt
from api.models.user import User
from api.security import Passwords
from api.services import audit
from api.services.users.system import is_system
from api.settings import Settings

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
