"""A citizen's letter in: a submission (from the public routes or Open311) lands as a `received` case at the
commune it concerns (by commune code, or by the commune named in the address) or at the province's reception
office, which routes it, through the same intake as the desk, under the channel's own user. The same
Idempotency-Key from the same device or address with the same letter and contact gives the same case; the exact
position is sealed (`seal`)."""

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.db import Statement, driver
from api.errors import Code, DomainError
from api.models.cases.schemas import CaseIn, Channel
from api.models.public import Contact, SubmissionCreatedOut, SubmissionIn
from api.ratelimit import idempotency_scope_key
from api.services import calendar as calendar_service
from api.services.cases import intake
from api.services.cases.writer import IntakeWriter
from api.services.citizen import seal
from api.services.citizen.status import DUE_ORDER, FIELD_NAMES, KIND_NAMES, public_status
from api.settings import Settings
from api.vault import vault_for
from workflows.cases import Kind

CHANNEL_USERNAME = "he-thong.cong-dan"  # the intake's `received_by` for the citizen channel; cannot sign in


def scoped_key(settings: Settings, scope: str, key: str) -> str:
    """An Idempotency-Key is the client's own: two devices (or addresses) sending the same key never meet. Keyed
    (HMAC under a key derived from the identity keys, not in the database): the stored value cannot be tried
    against a list of addresses or device ids."""
    return hmac.new(idempotency_scope_key(settings), f"{scope}\x00{key}".encode(), hashlib.sha256).hexdigest()


def contact_binding(settings: Settings, contact: Contact | None) -> str:
    """What binds a public Idempotency-Key to its sender, kept beside the letter's fingerprint (which leaves the
    identity out, issue 21): a keyed MAC (HMAC under a key derived from the identity keys, never stored) of the
    normalised contact — name, address and e-mail without case or extra spaces (NFC), the ID number, the phone's
    digits — or of none. A replay with another contact is refused, so that nobody who learns a device's key and
    the letter gets its sender's access key; erased with the fingerprint when the key's window ends."""
    if contact is None:
        text = "anonymous"
    else:

        def norm(value: str | None) -> str:
            return " ".join(unicodedata.normalize("NFC", value or "").casefold().split())

        phone = "".join(ch for ch in contact.phone or "" if ch.isdigit())
        fields = (norm(contact.full_name), contact.id_number or "", phone, norm(contact.email), norm(contact.address))
        text = "contact\x00" + "\x00".join(fields)
    key = hmac.new(idempotency_scope_key(settings), b"tiepdan-contact-binding", hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


async def channel_user(session: AsyncSession, unit_id: int) -> int:
    """The citizen channel's own user (no roles, never active: nobody signs in as it), made on first use."""
    found = await session.scalar(sa.text("SELECT id FROM users WHERE username = :u"), {"u": CHANNEL_USERNAME})
    if found is not None:
        return int(found)
    made = await session.scalar(
        sa.text(
            "INSERT INTO users (username, password_hash, full_name, unit_id, roles, is_active, is_system) "
            "VALUES (:u, '!', 'Cổng tiếp nhận trực tuyến', :unit, '{}', false, true) "
            "ON CONFLICT (username) DO NOTHING RETURNING id"
        ),
        {"u": CHANNEL_USERNAME, "unit": unit_id},
    )
    if made is None:  # a parallel first submission made it
        made = await session.scalar(sa.text("SELECT id FROM users WHERE username = :u"), {"u": CHANNEL_USERNAME})
    return int(made)


# The commune named in an address, accent- and case-insensitively, as whole words: "xã Khao Mang" before a bare
# "Khao Mang", longer names before shorter; the province's own name ("tỉnh Lào Cai") is not a commune.
_BY_ADDRESS = sa.text(r"""
    WITH a AS (
        SELECT ' ' || regexp_replace(
            regexp_replace(f_unaccent(lower(:address)), '[^a-z0-9]+', ' ', 'g'), 'tinh lao cai', ' ', 'g') || ' ' AS t
    ), u AS (
        SELECT id, ' ' || regexp_replace(f_unaccent(lower(name)), '[^a-z0-9]+', ' ', 'g') || ' ' AS full_name
        FROM units WHERE level = 'commune' AND is_active
    ), n AS (
        SELECT id, full_name, regexp_replace(full_name, '^ (xa|phuong|thi tran) ', ' ') AS bare FROM u
    )
    SELECT n.id FROM n, a
    WHERE a.t LIKE '%' || n.bare || '%'
    ORDER BY (a.t LIKE '%' || n.full_name || '%') DESC, length(n.bare) DESC, n.id
    LIMIT 1
""")


@dataclass(frozen=True)
class Landing:
    """Where a submission lands, with what its intake needs, read in one statement: the unit, the channel's user
    and the calendar's cache version."""

    unit_id: int
    code: str
    name: str
    path: str
    remote_area: bool
    user_id: int | None
    calendar_version: int


_LANDING = """
    SELECT u.id, u.code, u.name, u.path, u.remote_area,
           (SELECT id FROM users WHERE username = :user),
           (SELECT version FROM cache_versions WHERE name = 'calendar')
    FROM units u WHERE {where} AND u.is_active
"""
_BY_CODE = Statement(_LANDING.format(where="u.code = :code AND u.level = 'commune'"))  # asyncpg: the hot path
_BY_ID = sa.text(_LANDING.format(where="u.id = :id"))
_PROVINCE = sa.text(_LANDING.format(where="u.level = 'province' AND u.parent_id IS NULL") + " ORDER BY u.id LIMIT 1")


async def route(session: AsyncSession, data: SubmissionIn, hot: asyncpg.Connection | None = None) -> Landing:
    """The commune the submission concerns (by code, or by its name in the address, accent-insensitively), or the
    province's reception office. By commune code in one statement, on `hot` when given (no transaction) or on
    the session's connection."""
    loc = data.location
    row: Any = None
    if loc.commune_code:
        conn = hot or await driver(session)
        row = await conn.fetchrow(_BY_CODE.sql, *_BY_CODE.args({"code": loc.commune_code, "user": CHANNEL_USERNAME}))
        if row is None:
            raise DomainError(Code.unknown_commune, details={"field": "location.commune_code"})
    else:
        for text in (loc.address, data.contact.address if data.contact else None):
            if text and row is None:
                found = await session.scalar(_BY_ADDRESS, {"address": text})
                if found is not None:
                    row = (await session.execute(_BY_ID, {"id": found, "user": CHANNEL_USERNAME})).first()
        if row is None:
            row = (await session.execute(_PROVINCE, {"user": CHANNEL_USERNAME})).first()
    if row is None:
        raise DomainError(Code.no_such_unit)
    return Landing(*row)


_ROLE = {Kind.complaint: "complainant", Kind.denunciation: "denouncer"}


@dataclass(frozen=True)
class Outcome:
    created: SubmissionCreatedOut


async def submit(
    session: AsyncSession,
    settings: Settings,
    data: SubmissionIn,
    *,
    channel: Channel,
    scope: str,
    idempotency_key: str | None,
    today: date,
    writer: IntakeWriter | None = None,
    landing: Landing | None = None,
) -> Outcome:
    """One submission, one case, however often it is retried with the same Idempotency-Key (concurrently too);
    the same key with another body is refused. Lands as a `received` case through the desk's intake; `landing`:
    where `route` has already said it lands."""
    unit = landing or await route(session, data)
    user_id = unit.user_id
    if user_id is None:
        user_id = await channel_user(session, unit.unit_id)
        if writer is not None:  # the writer's statement runs on a connection of its own: the user must be there
            await session.commit()
    # The calendar this process built for the overrides' current version (read with the unit), not rebuilt.
    env = await calendar_service.env(session, settings, version=unit.calendar_version)
    desk = Officer(
        id=user_id,
        username=CHANNEL_USERNAME,
        unit_id=unit.unit_id,
        unit_path=unit.path,
        unit_remote_area=unit.remote_area,
        roles=frozenset({"desk_officer"}),
    )
    parties = []
    if data.contact is not None:
        c = data.contact
        parties.append(
            {
                "role": _ROLE.get(data.kind, "petitioner"),
                "full_name": c.full_name,
                "id_number": c.id_number,
                "phone": c.phone,
                "address": c.address,
            }
        )
    title = data.title or f"{KIND_NAMES[data.kind.value]} về {FIELD_NAMES[data.field.value].lower()}"
    request = CaseIn(
        kind=data.kind,
        field=data.field,
        channel=channel,
        title=title,
        content=data.content,
        received_at=today,
        is_anonymous=data.contact is None,
        parties=parties,
    )
    key = scoped_key(settings, scope, idempotency_key) if idempotency_key else None
    location = {
        k: v
        for k, v in {"lat": data.location.lat, "long": data.location.long, "commune_code": unit.code}.items()
        if v is not None
    }
    # The exact position sealed; a coarse one in clear only where the sender is not protected (seal).
    location = seal.seal_position(vault_for(settings), data.kind.value, location)
    created = await intake.create(
        session,
        desk,
        settings,
        request,
        today=today,
        env=env,
        options=intake.Options(
            idempotency_key=key,
            contact_mac=contact_binding(settings, data.contact) if key else None,
            replay_ttl=timedelta(hours=settings.idempotency_hours),
            location=location,
            writer=writer,
        ),
    )
    label, _ = public_status(created.status)
    due = {t.name: t.due_date for t in created.timers if t.status in ("running", "overdue")}
    return Outcome(
        SubmissionCreatedOut(
            tracking_code=created.tracking_code,
            access_key=created.access_key,
            status=created.status,
            public_status=label,
            received_at=created.received_at,
            unit_code=unit.code,
            unit_name=unit.name,
            due_date=next((due[n] for n in DUE_ORDER if n in due), None),
        )
    )
