"""The remembered officer of the intake path: the one piece of cleverness that lets a letter skip reading its
officer.

Why: every request signs in by reading the officer, their unit and the calendar's cache version (one query,
api/deps.py). On `POST /cases` that read was a round trip per letter on top of the letter's own statement. So the
lean lane (api/routers/cases/intake.py, `lean_create`) serves a letter with the officer as this process signed them
in a moment ago, without reading them again, and lets the letter's own INSERT check that they still are who they
were.

What it caches: per API process (`app.state.signed_in`, at most MAX entries, cleared whole when full), keyed by
(user id, token version), a `SignedIn`: the `Officer` (id, username, roles, unit, its path and remoteness), the
calendar's cache version read with them, and the officer row's fingerprint. A recall also needs the deadline
calendar of that version, which the process holds in its calendar cache (api/services/calendar.py, `cached_env`);
if it holds another, the officer is read afresh.

What the fingerprint covers (`FINGERPRINT`, computed by PostgreSQL at sign-in and again at the write): the
officer's username, roles, unit id, the unit's path and remoteness, and the token version. With it, the write also
checks that the officer is still active and that the calendar's version is still the one remembered.

What invalidates it: nothing is trusted on the memory's word alone. A letter served with a remembered officer is
marked with their `Signer` (`Signing`), and the statement that writes it re-checks everything above (`STILL_SIGNED`,
the `g` step of INSERT_MANY in api/services/cases/writer.py); if anything changed (roles, unit, the unit's place, a
password change or sign-out — the token version is in the fingerprint —, deactivation, a calendar override),
nothing is written and the writer raises `SignerChanged`. Then, as after any refusal judged on a remembered
officer (a DomainError), the entry is `forget`-ten and the request served afresh by FastAPI's handler, which reads
the officer (a role taken away is then 403, a deactivation 401) and remembers them again. A token that no longer
decodes (expired, bad signature) is never recalled.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from api import security
from api.auth import Officer
from api.services.calendar import DeadlineEnv, cached_env
from api.settings import Settings

if TYPE_CHECKING:
    from api.services.cases.row import CaseRow
    from api.services.cases.writer import Writer

# What the officer row and their unit were when they signed in (SQL over `users u JOIN units un`): read with the
# officer at sign-in (api/deps.py) and again by the write.
FINGERPRINT = "md5(row(u.username, u.roles, u.unit_id, un.path, un.remote_area, u.token_version)::text)"

# Whether a letter row `v` may be written: it names no remembered officer (read in its own request), or the
# officer is still active with the same fingerprint and the calendar's version is the one remembered.
STILL_SIGNED = f"""v.signer_fingerprint IS NULL OR (
        EXISTS (SELECT FROM users u JOIN units un ON un.id = u.unit_id
                WHERE u.id = v.received_by_id AND u.is_active AND {FINGERPRINT} = v.signer_fingerprint)
        AND (SELECT version FROM cache_versions WHERE name = 'calendar') = v.calendar_version)"""  # noqa: S608

MAX = 10_000

Key = tuple[int, int]  # (user id, token version)
Memory = dict[Key, "SignedIn"]  # app.state.signed_in


@dataclass(frozen=True, slots=True)
class SignedIn:
    """An officer as signed in a moment ago."""

    officer: Officer
    calendar_version: int
    fingerprint: str


class Signer(NamedTuple):
    """What a letter written with a remembered officer carries for its write to check (`STILL_SIGNED`)."""

    fingerprint: str
    calendar_version: int


class SignerChanged(Exception):
    """The letter was written with an officer remembered from an earlier sign-in, and the officer (their roles,
    unit, token) or the calendar has changed since: nothing was written; serve the request afresh."""


@dataclass(frozen=True, slots=True)
class Recalled:
    """A remembered officer with the deadline environment of their calendar version."""

    key: Key
    officer: Officer
    env: DeadlineEnv
    signer: Signer


def remember(memory: Memory, token_version: int, signed: SignedIn) -> None:
    """Called by every sign-in (api/deps.py)."""
    if len(memory) >= MAX:
        memory.clear()
    memory[(signed.officer.id, token_version)] = signed


def recall(memory: Memory, settings: Settings, session: AsyncSession, token: str) -> Recalled | None:
    """The officer a valid token names, as this process signed them in earlier, with the calendar of that sign-in
    (no query); None if the token is not valid, the officer not remembered or that calendar no longer held."""
    try:
        key = security.subject_of(security.decode_access_token(settings, token))
    except security.InvalidToken:
        return None
    signed = memory.get(key)
    if signed is None:
        return None
    env = cached_env(session, settings, signed.calendar_version)
    if env is None:
        return None
    return Recalled(key, signed.officer, env, Signer(signed.fingerprint, signed.calendar_version))


def forget(memory: Memory, key: Key) -> None:
    memory.pop(key, None)


class Signing:
    """A writer whose letters carry the remembered officer's `Signer`, for their write to check (`STILL_SIGNED`);
    such a letter is not written if it no longer holds, and the write raises SignerChanged."""

    def __init__(self, writer: "Writer", signer: Signer) -> None:
        self._writer, self._signer = writer, signer

    async def next_id(self) -> int:
        return await self._writer.next_id()

    async def write(self, letter: "CaseRow") -> list[int] | None:
        letter.signer = self._signer
        return await self._writer.write(letter)
