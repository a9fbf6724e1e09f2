"""The citizen and mobile channel: a submission lands as a `received` case at the commune it concerns (or the
province's reception office, which routes it), through the same intake as the desk; the citizen follows it by
tracking code and access key, and rates it once it is settled. Nothing here shows an officer, a note or
another party."""

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
from api.models.cases import Case, CaseEvent
from api.models.cases.schemas import CaseCreate, Channel
from api.models.public import (
    CaseRating,
    Contact,
    SubmissionCreated,
    SubmissionIn,
    SubmissionStatus,
    TimelineItem,
)
from api.models.unit import Unit
from api.ratelimit import idempotency_scope_key
from api.services import audit
from api.services import calendar as calendar_service
from api.services.calendar import DeadlineEnv
from api.services.cases import citizen_seal, intake
from api.services.cases.writer import IntakeWriter
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows.cases import Kind, Status
from workflows.deadlines import Timer

CHANNEL_USERNAME = "he-thong.cong-dan"  # the intake's `received_by` for the citizen channel; cannot sign in
FIELD_NAMES = {
    "land": "Đất đai, nhà ở",
    "compensation": "Bồi thường, hỗ trợ, giải phóng mặt bằng",
    "policy": "Chế độ, chính sách xã hội",
    "civil_service": "Cán bộ, công chức, công vụ",
    "admin_other": "Hành chính khác",
    "judicial": "Tư pháp",
    "corruption": "Tham nhũng",
    "party": "Đảng",
    "other": "Lĩnh vực khác",
}
KIND_NAMES = {"complaint": "Khiếu nại", "denunciation": "Tố cáo", "petition": "Kiến nghị", "feedback": "Phản ánh"}
PUBLIC_STATUS = {
    "received": ("Đã tiếp nhận, đang xử lý đơn", True),
    "accepted": ("Đã thụ lý, đang giải quyết", True),
    "in_progress": ("Đang xác minh, giải quyết", True),
    "suspended": ("Tạm đình chỉ giải quyết", True),
    "transferred": ("Đã chuyển đến cơ quan có thẩm quyền", False),
    "guided": ("Đã hướng dẫn gửi đến cơ quan có thẩm quyền", False),
    "stored": ("Đơn được lưu, không xử lý", False),
    "rejected": ("Không thụ lý (đã thông báo lý do)", False),
    "resolved": ("Đã có kết quả giải quyết", False),
    "closed": ("Đã giải quyết xong", False),
    "terminated": ("Đã đình chỉ giải quyết", False),
}
# The steps a citizen sees on their timeline; everything else (assignments, identity reads, notes, urging) is
# internal.
PUBLIC_STEPS = {
    "create": "Đơn đã được tiếp nhận",
    "accept": "Đơn đã được thụ lý giải quyết",
    "reject": "Đơn không được thụ lý",
    "transfer": "Đơn đã được chuyển đến cơ quan có thẩm quyền",
    "guide": "Công dân được hướng dẫn gửi đơn đến cơ quan có thẩm quyền",
    "store": "Đơn được lưu",
    "extend": "Thời hạn giải quyết được gia hạn",
    "suspend": "Việc giải quyết tạm đình chỉ",
    "resume": "Việc giải quyết được tiếp tục",
    "withdraw": "Công dân rút đơn",
    "terminate": "Việc giải quyết bị đình chỉ",
    "resolve": "Đã có quyết định / kết luận giải quyết",
    "close": "Hồ sơ đã kết thúc",
}
OUTCOMES = {
    "correct": "Đúng",
    "partly_correct": "Đúng một phần",
    "wrong": "Sai",
    "false": "Sai sự thật",
    "upheld": "Công nhận quyết định lần đầu",
    "annulled": "Hủy quyết định lần đầu",
    "amended": "Sửa quyết định lần đầu",
    "addressed": "Đã xử lý",
    "explained": "Đã giải thích, trả lời",
}


def public_status(status: str) -> tuple[str, bool]:
    return PUBLIC_STATUS.get(status, ("Đang xử lý", True))


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
    created: SubmissionCreated


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
    request = CaseCreate(
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
    # The exact position sealed; a coarse one in clear only where the sender is not protected (citizen_seal).
    location = citizen_seal.seal_position(vault_for(settings), data.kind.value, location)
    created = await intake.create(
        session,
        desk,
        settings,
        request,
        today=today,
        env=env,
        idempotency_key=key,
        contact_mac=contact_binding(settings, data.contact) if key else None,
        replay_ttl=timedelta(hours=settings.idempotency_hours),
        location=location,
        writer=writer,
    )
    label, _ = public_status(created.status)
    due = {t.name: t.due_date for t in created.timers if t.status in ("running", "overdue")}
    return Outcome(
        SubmissionCreated(
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


async def find(session: AsyncSession, tracking_code: str, access_key: str | None) -> Case:
    """The case of this tracking code if the access key is its own; 404 alike for an unknown code and a wrong
    key (no oracle)."""
    case: Case | None = await session.scalar(sa.select(Case).where(Case.tracking_code == tracking_code))
    given = intake.hash_key(access_key or "")
    if case is None or not access_key or not hmac.compare_digest(given, case.access_key_hash):
        raise DomainError(Code.submission_not_found)
    return case


DUE_ORDER = ("resolution", "acceptance", "processing")  # the date a citizen waits for next


def due_date(case: Case, env: DeadlineEnv) -> date | None:
    open_ = [Timer.from_dict(t) for t in case.timers if t.get("completed_on") is None]
    for name in DUE_ORDER:
        for t in open_:
            if t.name == name:
                return t.due_date(env.cal)
    return None


async def status(session: AsyncSession, case: Case, env: DeadlineEnv) -> SubmissionStatus:
    steps = await session.execute(
        sa.select(CaseEvent.action, CaseEvent.effective_date, CaseEvent.at)
        .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(PUBLIC_STEPS))
        .order_by(CaseEvent.seq)
    )
    unit = await session.get(Unit, case.competent_unit_id if case.status != Status.received else case.receiving_unit_id)
    rating = await session.scalar(sa.select(CaseRating.score).where(CaseRating.case_id == case.id))
    label, is_open = public_status(case.status)
    settled = case.status in (Status.resolved, Status.closed)
    return SubmissionStatus(
        tracking_code=case.tracking_code,
        kind=case.kind,
        field=case.field,
        status=case.status,
        public_status=label,
        open=is_open,
        received_at=case.received_at,
        unit_name=unit.name if unit else "",
        due_date=due_date(case, env) if is_open else None,
        timeline=[
            TimelineItem(date=eff or at.date(), event=PUBLIC_STEPS[action]) for action, eff, at in steps.tuples()
        ],
        outcome=OUTCOMES.get(case.outcome or "") if settled else None,
        rating=rating,
    )


async def rate(
    session: AsyncSession, case: Case, score: int, comment: str | None, today: date, *, vault: Vault
) -> None:
    """The citizen's rating, once; its comment (which may name them) sealed under the identity keys."""
    if case.status not in (Status.resolved, Status.closed):
        raise DomainError(Code.not_settled_yet, details={"status": case.status})
    assert case.id is not None
    inserted = await session.scalar(
        sa.text(
            "INSERT INTO case_ratings (case_id, score, comment, rated_on) VALUES (:c, :s, :m, :d) "
            "ON CONFLICT (case_id) DO NOTHING RETURNING case_id"
        ),
        {"c": case.id, "s": score, "m": citizen_seal.seal_comment(vault, comment), "d": today},
    )
    if inserted is None:
        raise DomainError(Code.already_rated)
    audit.record(session, actor_id=None, entity="case", entity_id=case.id, action="rated", payload={"score": score})
    await session.commit()


def public_event(case: Case, status_: str) -> dict[str, Any]:
    """The webhook body of a public status change: the tracking code and the public status, nothing else."""
    label, is_open = public_status(status_)
    return {"tracking_code": case.tracking_code, "status": "open" if is_open else "closed", "public_status": label}
