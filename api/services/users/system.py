"""System accounts: the names reserved for the service's own accounts, which nobody signs in as or changes."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.user import User
from api.services import audit

# System accounts: the citizen channel's own (public.CHANNEL_USERNAME, "he-thong.cong-dan") and any other the
# service acts as. Their names are reserved; nobody signs in as one or changes one (409 system_account, audited).
SYSTEM_PREFIX = "he-thong."


def is_system(user: User) -> bool:
    return bool(user.is_system) or user.username.lower().startswith(SYSTEM_PREFIX)


async def refuse_system(
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
