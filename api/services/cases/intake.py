"""Case intake (tiếp nhận): the desk (and later the citizen channel) records a letter. The hot path: after
the officer is known, a plain intake is one row of one INSERT statement (case, parties, first event, outbox row and
webhook deliveries together, with the letters taken in at the same moment: api/services/cases/writer.py) and the
response is built from what was written, not re-read."""

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.db import driver
from api.errors import Code, DomainError, UnitNotFound
from api.models.cases import Case, CaseParty
from api.models.cases.schemas import CaseCreate, CaseCreated
from api.models.unit import Unit
from api.models.user import User
from api.services.calendar import DeadlineEnv, store_timers
from api.services.cases import access, domain, presenters, queries, sealed_text, trail
from api.services.cases.writer import PARTY_FIELDS, IntakeWriter, SignerChanged, reserve_ids, write
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows.cases import Kind, Role, Status
from workflows.confidentiality import is_protected
from workflows.deadlines import CaseFacts, Timer, filing_window_due, intake_timers

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no look-alikes (0/O, 1/I/L, U)
IDENTITY_FIELDS = presenters.IDENTITY_FIELDS


def new_tracking_code(year: int) -> str:
    """LCyy- and ten characters drawn uniformly from the alphabet (one draw from the system's CSPRNG)."""
    n, chars = secrets.randbelow(len(_CODE_ALPHABET) ** 10), []
    for _ in range(10):
        n, digit = divmod(n, len(_CODE_ALPHABET))
        chars.append(_CODE_ALPHABET[digit])
    return f"LC{year % 100:02d}-" + "".join(chars)


def access_key(settings: Settings, tracking_code: str) -> str:
    """The citizen's key, derived (HMAC) so a retried intake can hand it out again; stored as a hash."""
    mac = hmac.new(settings.jwt_secret().encode(), f"access:{tracking_code}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_CASE_NONE = dict.fromkeys(Case.model_fields)


def _case_draft(**values: Any) -> SimpleNamespace:
    return SimpleNamespace(**{**_CASE_NONE, **values})


def _party_draft(vault: Vault, kind: str, data: dict[str, Any], identity_protected: bool = False) -> CaseParty:
    """A party row as a plain draft (cheaper than the SQLModel) for the INSERT below: a protected identity is
    sealed and its clear columns left empty."""
    id_number = data.get("id_number")
    protected = is_protected(data["role"], kind, identity_protected)
    draft = SimpleNamespace(
        id=None,
        role=data["role"],
        full_name=data["full_name"],
        id_number=id_number,
        phone=data.get("phone"),
        address=data.get("address"),
        officer_id=data.get("officer_id"),
        sealed=None,
        id_number_hash=vault.fingerprint(id_number, protected=protected) if id_number else None,
    )
    if protected:
        draft.sealed = vault.seal({k: data.get(k) for k in IDENTITY_FIELDS})
        draft.full_name, draft.id_number, draft.phone, draft.address = "", None, None, None
    return cast(CaseParty, draft)


class IdBlock:
    """Case ids reserved a block at a time (one query per block, not per intake), per database, for intake
    without a writer (the writer keeps a block of its own)."""

    SIZE = 32

    def __init__(self) -> None:
        self._free: dict[object, list[int]] = {}

    async def next(self, session: AsyncSession, conn: asyncpg.Connection) -> int:
        key = session.get_bind().engine  # one pool of ids per database engine
        free = self._free.setdefault(key, [])
        if not free:
            free.extend(await reserve_ids(conn, self.SIZE))
        return free.pop()


IDS = IdBlock()


def _first_round_end(previous: Case, env: DeadlineEnv) -> date | None:
    due = [Timer.from_dict(t).due_date(env.cal) for t in previous.timers if t["name"] == "resolution"]
    return due[0] if due else None


async def _check_second_round(
    session: AsyncSession, data: CaseCreate, previous: Case, competent_id: int, env: DeadlineEnv
) -> None:
    """LKN art. 7, 18–21, 33, 37: a second round follows a first-round decision, or a first-round period that
    ran out without one, and goes to the direct superior of the first-round resolver."""
    decided = previous.decision_date is not None and previous.status in (Status.resolved, Status.closed)
    end = _first_round_end(previous, env)
    if not decided and (end is None or data.received_at <= end or previous.status not in OPEN_STATUSES):
        raise DomainError(
            Code.first_round_not_settled,
            details={
                "field": "previous_case_id",
                "status": previous.status,
                "first_round_due_date": end.isoformat() if end else None,
            },
        )
    superior = await session.scalar(sa.select(Unit.parent_id).where(Unit.id == previous.competent_unit_id))
    if competent_id != superior:
        raise DomainError(
            Code.second_round_wrong_unit, details={"field": "competent_unit_id", "required_unit_id": superior}
        )
    if decided:
        if data.decision_known_date is None:
            raise DomainError(
                Code.missing_field,
                details={
                    "field": "decision_known_date",
                    "hint": "Ngày người khiếu nại nhận được quyết định giải quyết lần đầu",
                },
            )
        assert previous.decision_date is not None
        if data.decision_known_date < previous.decision_date:
            raise DomainError(
                Code.date_before_previous_step,
                details={"field": "decision_known_date", "previous_step_date": previous.decision_date.isoformat()},
            )


OPEN_STATUSES = (Status.accepted, Status.in_progress, Status.suspended)


async def _filing_warnings(
    session: AsyncSession, data: CaseCreate, remote: bool, env: DeadlineEnv, previous: Case | None
) -> list[dict[str, Any]]:
    """The filing window (thời hiệu) is a warning to the officer, never a silent refusal."""
    if data.kind is not Kind.complaint:
        return []
    round_ = data.complaint_round or 1
    disciplinary = data.disciplinary or (previous is not None and previous.disciplinary)  # LKN art. 48 (H7)
    facts_ = CaseFacts(kind="complaint", complaint_round=round_, remote_area=remote, disciplinary=disciplinary)
    start: date | None = None
    if round_ == 2 and previous is not None:
        # LKN art. 33: from the day the complainant received the first decision, or from the end of the
        # first-round period when no decision came.
        start = data.decision_known_date if previous.decision_date else _first_round_end(previous, env)
    elif data.decision_known_date:
        start = data.decision_known_date
    if start is None:
        return []
    last_day, basis = filing_window_due(facts_, start, env.cal, env.rules)
    if data.received_at > last_day:
        return [
            {
                "code": "filing_window_passed",
                "last_day": last_day.isoformat(),
                "legal_basis": basis,
                "message": f"Đơn nhận sau hạn khiếu nại ({last_day:%d/%m/%Y}, {basis}); "
                "xem xét lý do khách quan trước khi không thụ lý.",
            }
        ]
    return []


MAX_ACCUSED_OFFICERS = 3  # naming many officers would hide a case from them all


async def check_accused_officers(
    session: AsyncSession, officer_ids: list[int], competent_path: str, *, once_named: Sequence[int] = ()
) -> None:
    """An officer named as accused may not see the case, so naming one must not hide it from those who should
    settle or oversee it: a head (or a supervising head) may be accused only where the case is settled above
    their unit (LTC art. 13: by the head of the direct superior), and a case names at most a few officers (the
    inspectorate's other officers always see it). `once_named`: officers whose link was removed — not counted,
    but they stay excluded from the case, so the rule on heads holds for them too (a transfer never brings the
    case to a unit they head)."""
    if len(officer_ids) > MAX_ACCUSED_OFFICERS:
        raise DomainError(Code.too_many_accused_officers, details={"field": "parties", "max": MAX_ACCUSED_OFFICERS})
    for officer_id in dict.fromkeys([*officer_ids, *once_named]):
        row = (
            await session.execute(
                sa.select(User.roles, User.is_active, Unit.path, Unit.parent_id)
                .join(Unit, Unit.id == User.unit_id)
                .where(User.id == officer_id)
            )
        ).first()
        if officer_id not in officer_ids and (row is None or not row.is_active):
            continue  # a removed link's officer who left the service heads nothing
        if row is None or not row.is_active:
            raise DomainError(Code.user_not_found, details={"field": "parties.officer_id"})
        if Role.unit_head.value in row.roles and competent_path.startswith(row.path):
            raise DomainError(
                Code.accused_head_competence,
                details={
                    "field": "parties.officer_id",
                    "officer_id": officer_id,
                    "competent_unit_above": row.parent_id,
                },
            )


async def _validate_parties(session: AsyncSession, data: CaseCreate, competent_path: str) -> list[int]:
    officer_ids = []
    for i, party in enumerate(data.parties):
        if party.officer_id is None:
            continue
        if party.role.value != "accused":
            raise DomainError(Code.officer_link_not_accused, details={"field": f"parties.{i}.officer_id"})
        officer_ids.append(party.officer_id)
    await check_accused_officers(session, officer_ids, competent_path)
    return officer_ids


_IDENTITY_EXCLUDED = {"parties": {"__all__": set(IDENTITY_FIELDS)}}
# The citizen channel's letters: their stored Idempotency-Key is the client's key scoped by its device (or
# address), so it is erased with the fingerprint when the window ends.
PUBLIC_CHANNELS = ("mobile", "online")


def fingerprint_input(data: CaseCreate) -> bytes:
    """What the Idempotency-Key fingerprint is made of: the letter without its parties' identities (names, ID
    numbers, phones, addresses — a public submission's contact is its party). Two bodies that differ only there are
    the same letter (a retry with a corrected name replays the case made first)."""
    return data.model_dump_json(exclude=_IDENTITY_EXCLUDED).encode()


async def purge_idempotency(session: AsyncSession, settings: Settings) -> int:
    """Erase the fingerprints whose window (IDEMPOTENCY_HOURS) has ended, with the citizen channel's keys; the
    desk's keys stay (they name no device), and a retry with one is then 422 idempotency_key_expired. Committed;
    how many cases."""
    result = await session.execute(
        sa.text(
            "UPDATE cases SET idempotency_fingerprint = NULL, idempotency_key = CASE WHEN channel = ANY(:public) "
            "THEN NULL ELSE idempotency_key END "
            "WHERE idempotency_fingerprint IS NOT NULL AND created_at < now() - make_interval(hours => :hours)"
        ),
        {"public": list(PUBLIC_CHANNELS), "hours": settings.idempotency_hours},
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def _existing(session: AsyncSession, principal: Officer, idempotency_key: str) -> Case | None:
    return await session.scalar(
        sa.select(Case).where(Case.received_by_id == principal.id, Case.idempotency_key == idempotency_key)
    )


async def create(
    session: AsyncSession,
    principal: Officer,
    settings: Settings,
    data: CaseCreate,
    *,
    today: date,
    env: DeadlineEnv,
    idempotency_key: str | None = None,
    writer: IntakeWriter | None = None,
    remembered: tuple[str, int] | None = None,
    commit: bool = True,
    replay_ttl: timedelta | None = None,
    location: dict[str, Any] | None = None,
    contact_mac: str | None = None,
) -> CaseCreated:
    """Record a letter. A retry with the same Idempotency-Key (even racing the first) returns the case made
    the first time. The officer who just typed the parties in reads nothing new: no identity_viewed event.
    With a `writer` the letter is written, and committed, with the others taken in at the same moment
    (api/services/cases/writer.py); without one, on the session's connection — with `commit=False` in the
    session's open transaction, for a caller that writes more with it (a register entry) and commits everything
    together. `remembered`: the officer was not read in this request but remembered from an earlier sign-in, with
    this fingerprint and calendar version; the letter is written only if both still hold, else SignerChanged is
    raised and nothing is written. `replay_ttl`: a key older than this is refused (422 idempotency_key_expired)
    rather than replayed; `location`: where a public submission says the matter is, written with the case;
    `contact_mac`: a public submission's keyed MAC of its sender's contact (submissions.contact_binding), kept beside
    the fingerprint (its second half) so that a replay with another contact is refused, erased with it."""
    if not principal.has(Role.desk_officer, Role.unit_head):
        raise DomainError(Code.intake_forbidden)
    if data.received_at > today:
        raise DomainError(Code.date_in_future, details={"field": "received_at"})
    if data.received_at < settings.received_floor:
        raise DomainError(
            Code.date_too_early, details={"field": "received_at", "floor": settings.received_floor.isoformat()}
        )
    competent_id, competent_path, competent_remote = principal.unit_id, principal.unit_path, principal.unit_remote_area
    if data.competent_unit_id and data.competent_unit_id != principal.unit_id:
        competent = await session.get(Unit, data.competent_unit_id)
        if competent is None:
            raise UnitNotFound("competent_unit_id")
        assert competent.id is not None
        competent_id, competent_path, competent_remote = competent.id, competent.path, competent.remote_area
    # Sent to a higher level than the competent one (vượt cấp).
    level_skipping = competent_id != principal.unit_id and competent_path.startswith(principal.unit_path)
    remote = competent_remote if data.remote_area is None else data.remote_area
    explicit_remote = data.remote_area is not None
    previous = None
    if data.previous_case_id is not None:
        # Visible to the caller, or a first round settled directly below the caller's unit (the second round's
        # desk); anything else answers exactly like an id that does not exist.
        below = sa.select(Unit.id).where(Unit.parent_id == principal.unit_id)
        previous = await session.scalar(
            sa.select(Case).where(
                Case.id == data.previous_case_id,
                sa.or_(
                    access.readable(principal),
                    sa.and_(Case.competent_unit_id.in_(below), access.not_named_accused(principal)),
                ),
            )
        )
        if data.kind is Kind.denunciation:  # a further denunciation, LTC art. 38.1 (H7, issue 22)
            await domain.check_further_denunciation(session, previous, competent_id, data.received_at, env.cal)
        elif previous is None or previous.kind != Kind.complaint or (previous.complaint_round or 1) != 1:
            raise DomainError(Code.first_round_not_found, details={"field": "previous_case_id"})
    if previous is not None and data.kind is Kind.complaint:
        await _check_second_round(session, data, previous, competent_id, env)
        if data.remote_area is None:
            remote = previous.remote_area  # remoteness follows the matter from the first round
            explicit_remote = True
    original = None
    if data.repeat_of_case_id is not None:
        original = await session.scalar(
            sa.select(Case).where(Case.id == data.repeat_of_case_id, access.readable(principal))
        )
        if original is None or original.status not in (Status.resolved, Status.closed):
            raise DomainError(Code.repeat_target_not_decided, details={"field": "repeat_of_case_id"})
    accused_officer_ids = await _validate_parties(session, data, competent_path)
    # A case always keeps an overseer (H2, issue 21): an escalation caused by the naming is on the create event.
    oversight = await access.oversight_of(session, frozenset(accused_officer_ids), principal.unit_id)
    keys = sealed_text.keys_for(settings)
    fingerprint = keys.idempotency(fingerprint_input(data)) if idempotency_key else None
    if fingerprint is not None and contact_mac is not None:  # 128 bits of each, in the one 64-character column
        fingerprint = fingerprint[:32] + contact_mac[:32]
    conn = None if writer is not None else await driver(session)
    case_id = await writer.next_id() if writer is not None else await IDS.next(session, conn)
    tracking_code = new_tracking_code(today.year)
    key = access_key(settings, tracking_code)
    at = datetime.now(UTC)
    # A draft with the attributes of a Case row (constructing the SQLModel itself costs more than the rest of
    # intake); it is written by the INSERT below and presented as it is.
    case = cast(
        Case,
        _case_draft(
            id=case_id,
            tracking_code=tracking_code,
            access_key_hash=hash_key(key),
            kind=data.kind.value,
            field=data.field.value,
            channel=data.channel.value,
            title=data.title,
            content=data.content,
            received_at=data.received_at,
            receiving_unit_id=principal.unit_id,
            competent_unit_id=competent_id,
            received_by_id=principal.id,
            complaint_round=data.complaint_round,
            previous_case_id=data.previous_case_id,
            decision_known_date=data.decision_known_date,
            complexity=data.complexity.value,
            remote_area=remote,
            remote_area_explicit=explicit_remote,
            signer_count=data.signer_count,
            is_anonymous=data.is_anonymous,
            multi_place_verification=data.multi_place_verification,
            # Audit 2 #7: protection asked for earlier follows the matter into its second round (or further
            # denunciation) and into a repeat letter, as it does through a transfer.
            identity_protected=data.identity_protection_requested
            or (previous is not None and previous.identity_protected)
            or (original is not None and original.identity_protected),
            # LKN art. 46–51 (H7, issue 22): a second round keeps the first round's flag.
            disciplinary=data.disciplinary or (previous is not None and previous.disciplinary),
            level_skipping=level_skipping,
            repeat_of_case_id=data.repeat_of_case_id,
            status=Status.received.value,
            version=1,
            remedies={},
            extension_count=0,
            idempotency_key=idempotency_key,
            created_at=at,
            updated_at=at,
            warnings=await _filing_warnings(session, data, remote, env, previous),
        ),
    )
    store_timers(case, intake_timers(domain.facts(case), data.received_at, env.rules), env)
    clear = [p.model_dump() for p in data.parties]
    vault = vault_for(settings)
    # A denunciation's title and content go to disk sealed, with the keyed MACs of their words (sealed_text.py);
    # the draft keeps them in clear for the response to the officer who typed them.
    protected = case.identity_protected
    # The index holds no word of a protected party's name, ID number or phone (the letter names its author).
    hidden = [p for p in clear if is_protected(p["role"], case.kind, protected)]
    sealing = sealed_text.seals(case.kind, protected)
    text = sealed_text.seal(vault, keys, data.title, data.content, hidden) if sealing else None
    parties = [_party_draft(vault, case.kind, p, protected) for p in clear]
    roles: dict[str, int] = {}
    for p in data.parties:
        roles[p.role.value] = roles.get(p.role.value, 0) + 1
    event_payload = {
        "kind": case.kind,
        "field": case.field,
        "channel": case.channel,
        "receiving_unit_id": case.receiving_unit_id,
        "competent_unit_id": competent_id,
        "parties_by_role": roles,
        "level_skipping": level_skipping,
        "warnings": [w["code"] for w in case.warnings],
        # Linking officers as accused is on the record the supervising units read.
        **({"accused_officer_ids": accused_officer_ids} if accused_officer_ids else {}),
        **({"oversight_escalated": oversight.reason} if oversight.escalated else {}),
        # The case row and its parties as written: verify-events proves them against this (H5, issue 21).
        trail.STATE_KEY: trail.state_digest(case, parties),
    }
    event_hash = trail.digest_of(
        trail.GENESIS,
        case_id=case_id,
        seq=1,
        at=at,
        actor_id=principal.id,
        action="create",
        from_status=None,
        to_status=case.status,
        effective_date=data.received_at,
        reason=None,
        payload=event_payload,
    )
    outbox_payload = {
        "case_id": case_id,
        "tracking_code": tracking_code,
        "kind": case.kind,
        "field": case.field,
        "channel": case.channel,
        "competent_unit_id": competent_id,
        "received_at": case.received_at,
    }
    values = {
        "id": case_id,
        "tracking_code": tracking_code,
        "access_key_hash": case.access_key_hash,
        "kind": case.kind,
        "field": case.field,
        "channel": case.channel,
        "title": text.title if text else case.title,
        "content": text.content if text else case.content,
        "sealed_text": text.sealed_text if text else None,
        "text_words": text.words if text else None,
        "received_at": case.received_at,
        "receiving_unit_id": case.receiving_unit_id,
        "competent_unit_id": competent_id,
        "received_by_id": principal.id,
        "complaint_round": case.complaint_round,
        "previous_case_id": case.previous_case_id,
        "decision_known_date": case.decision_known_date,
        "complexity": case.complexity,
        "remote_area": remote,
        "remote_area_explicit": explicit_remote,
        "signer_count": case.signer_count,
        "is_anonymous": case.is_anonymous,
        "multi_place_verification": case.multi_place_verification,
        "identity_protected": case.identity_protected,
        "disciplinary": case.disciplinary,
        "level_skipping": level_skipping,
        "repeat_of_case_id": case.repeat_of_case_id,
        "status": case.status,
        "warnings": json.dumps(case.warnings, ensure_ascii=False),
        "timers": json.dumps(case.timers),
        "next_due_date": case.next_due_date,
        "next_alert_date": case.next_alert_date,
        "max_due_date": case.max_due_date,
        "idempotency_key": idempotency_key,
        "idempotency_fingerprint": fingerprint,
        "location": json.dumps(location) if location is not None else None,
        "at": at,
        "parties": [{name: getattr(p, name) for name in PARTY_FIELDS} for p in parties],
        "event_payload": json.dumps(event_payload, ensure_ascii=False),
        "prev_hash": trail.GENESIS,
        "hash": event_hash,
        "outbox_payload": json.dumps(outbox_payload, default=str, ensure_ascii=False),
        "signer_fingerprint": remembered[0] if remembered else None,
        "calendar_version": remembered[1] if remembered else None,
    }
    if writer is not None:
        party_ids = await writer.write(values)
    else:
        assert conn is not None
        outcome = (await write(conn, [values]))[case_id]
        if isinstance(outcome, SignerChanged):
            raise outcome
        party_ids = outcome
    if party_ids is None:
        # Nothing written: the same Idempotency-Key won first (perhaps a parallel retry), or — once in
        # 10^14 — the tracking code was taken; either way nothing of this attempt remains.
        existing = await _existing(session, principal, idempotency_key) if idempotency_key else None
        if existing is None:
            return await create(
                session,
                principal,
                settings,
                data,
                today=today,
                env=env,
                idempotency_key=idempotency_key,
                writer=writer,
                remembered=remembered,
                commit=commit,
                replay_ttl=replay_ttl,
                location=location,
                contact_mac=contact_mac,
            )
        # No fingerprint: erased when the key's window ended (purge_idempotency), or never made (before 0021).
        expired = existing.idempotency_fingerprint is None
        if replay_ttl is not None and existing.created_at is not None and existing.created_at < at - replay_ttl:
            expired = True
        if expired:
            raise DomainError(Code.idempotency_key_expired, details={"field": "Idempotency-Key"})
        if not hmac.compare_digest(existing.idempotency_fingerprint or "", fingerprint or ""):
            raise DomainError(Code.idempotency_key_reused, details={"field": "Idempotency-Key"})
        # A replay is a read: only for a caller who may still read the case, as it is now, audited as a read.
        assert existing.id is not None
        out = await queries.read(session, principal, existing.id, today=today, env=env, vault=vault)
        return CaseCreated(**out.model_dump(), access_key=access_key(settings, existing.tracking_code))
    if commit and conn is not None and conn.is_in_transaction():  # an ORM read (or a test) opened one
        await session.commit()
    for p, party_id in zip(parties, party_ids, strict=True):
        p.id = party_id
    return presenters.case_created(principal, case, parties, clear, access_key=key, today=today, env=env)
