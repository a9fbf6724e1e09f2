"""Case intake (tiếp nhận), reading, listing, search and the views the API returns."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal
from api.errors import Forbidden, Invalid, NotFound
from api.models.case import Case, CaseAssignment, CaseEvent, CaseParty
from api.models.case_schemas import CaseCreate, CaseListItem, CaseOut, PartyOut, TimerOut
from api.models.unit import Unit
from api.models.user import User
from api.services import case_access, case_events, outbox, search
from api.services.calendar import DeadlineEnv, store_timers
from api.settings import Settings
from api.vault import Vault, vault_for
from workflows.cases import Kind, Role, Status, allowed_actions
from workflows.deadlines import CaseFacts, Timer, filing_window_due, intake_timers

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no look-alikes (0/O, 1/I/L, U)


def new_tracking_code(year: int) -> str:
    return f"LC{year % 100:02d}-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def access_key(settings: Settings, tracking_code: str) -> str:
    """The citizen's key, derived (HMAC) so a retried intake can hand it out again; stored as a hash."""
    mac = hmac.new(settings.jwt_secret().encode(), f"access:{tracking_code}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def facts(case: Case) -> CaseFacts:
    return CaseFacts(kind=case.kind, complaint_round=case.complaint_round or 1, complexity=case.complexity,
                     remote_area=case.remote_area, multi_place_verification=case.multi_place_verification,
                     competent_elsewhere=case.competent_unit_id != case.receiving_unit_id)


def load_timers(case: Case) -> list[Timer]:
    return [Timer.from_dict(t) for t in case.timers]


def validate_effective_date(value: date, *, received_at: date, today: date, field: str = "effective_date") -> None:
    if value > today:
        raise Invalid("Ngày hiệu lực không được ở tương lai", code="date_in_future", details={"field": field})
    if value < received_at:
        raise Invalid("Ngày hiệu lực không được trước ngày nhận đơn", code="date_before_receipt",
                      details={"field": field})


async def _unit(session: AsyncSession, unit_id: int, field: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise Invalid("Đơn vị không tồn tại", code="unit_not_found", details={"field": field})
    return unit


async def _filing_warnings(session: AsyncSession, data: CaseCreate, remote: bool, env: DeadlineEnv,
                           previous: Case | None) -> list[dict[str, Any]]:
    """The filing window (thời hiệu) is a warning to the officer, never a silent refusal."""
    if data.kind is not Kind.complaint:
        return []
    round_ = data.complaint_round or 1
    facts_ = CaseFacts(kind="complaint", complaint_round=round_, remote_area=remote)
    start: date | None = None
    if round_ == 2 and previous is not None:
        if previous.decision_date:
            start = previous.decision_date
        else:
            due = [Timer.from_dict(t).due_date(env.cal) for t in previous.timers if t["name"] == "resolution"]
            start = due[0] if due else None
    elif data.decision_known_date:
        start = data.decision_known_date
    if start is None:
        return []
    last_day, basis = filing_window_due(facts_, start, env.cal, env.rules)
    if data.received_at > last_day:
        return [{"code": "filing_window_passed", "last_day": last_day.isoformat(), "legal_basis": basis,
                 "message": f"Đơn nhận sau hạn khiếu nại ({last_day:%d/%m/%Y}, {basis}); "
                            "xem xét lý do khách quan trước khi không thụ lý."}]
    return []


async def _validate_parties(session: AsyncSession, data: CaseCreate) -> None:
    for i, party in enumerate(data.parties):
        if party.officer_id is None:
            continue
        if party.role.value != "accused":
            raise Invalid("Chỉ người bị tố cáo / bị khiếu nại mới gắn với cán bộ", code="officer_link_not_accused",
                          details={"field": f"parties.{i}.officer_id"})
        if await session.get(User, party.officer_id) is None:
            raise Invalid("Cán bộ không tồn tại", code="user_not_found", details={"field": f"parties.{i}.officer_id"})


async def create(session: AsyncSession, principal: Principal, settings: Settings, data: CaseCreate, *,
                 today: date, env: DeadlineEnv, idempotency_key: str | None = None) -> tuple[Case, str]:
    if not principal.has(Role.desk_officer, Role.unit_head):
        raise Forbidden("Chỉ cán bộ tiếp dân hoặc thủ trưởng được tiếp nhận đơn", code="intake_forbidden")
    if idempotency_key:
        existing = await session.scalar(sa.select(Case).where(
            Case.received_by_id == principal.id, Case.idempotency_key == idempotency_key))
        if existing is not None:
            return existing, access_key(settings, existing.tracking_code)
    if data.received_at > today:
        raise Invalid("Ngày nhận đơn không được ở tương lai", code="date_in_future", details={"field": "received_at"})
    receiving = principal.unit
    competent = await _unit(session, data.competent_unit_id, "competent_unit_id") \
        if data.competent_unit_id else receiving
    # Sent to a higher level than the competent one (vượt cấp).
    level_skipping = competent.id != receiving.id and competent.path.startswith(receiving.path)
    remote = competent.remote_area if data.remote_area is None else data.remote_area
    previous = None
    if data.previous_case_id is not None:
        previous = await session.get(Case, data.previous_case_id)
        if previous is None or previous.kind != Kind.complaint or (previous.complaint_round or 1) != 1:
            raise Invalid("Không tìm thấy vụ việc khiếu nại lần đầu tương ứng", code="first_round_not_found",
                          details={"field": "previous_case_id"})
    if data.repeat_of_case_id is not None:
        original = await session.get(Case, data.repeat_of_case_id)
        if original is None or original.status not in (Status.resolved, Status.closed):
            raise Invalid("Vụ việc bị lặp lại phải là vụ việc đã có quyết định", code="repeat_target_not_decided",
                          details={"field": "repeat_of_case_id"})
    await _validate_parties(session, data)
    tracking_code = new_tracking_code(today.year)
    key = access_key(settings, tracking_code)
    case = Case(
        tracking_code=tracking_code, access_key_hash=hash_key(key), kind=data.kind.value, field=data.field.value,
        channel=data.channel.value, title=data.title, content=data.content, received_at=data.received_at,
        receiving_unit_id=receiving.id, competent_unit_id=competent.id, received_by_id=principal.id,
        complaint_round=data.complaint_round, previous_case_id=data.previous_case_id,
        decision_known_date=data.decision_known_date, complexity=data.complexity.value, remote_area=remote,
        signer_count=data.signer_count, is_anonymous=data.is_anonymous,
        multi_place_verification=data.multi_place_verification, level_skipping=level_skipping,
        repeat_of_case_id=data.repeat_of_case_id, status=Status.received.value, version=1, remedies={},
        extension_count=0, idempotency_key=idempotency_key,
        warnings=await _filing_warnings(session, data, remote, env, previous))
    store_timers(case, intake_timers(facts(case), data.received_at, env.rules), env)
    session.add(case)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # The same Idempotency-Key raced in from a parallel retry: hand back the case that won.
        existing = await session.scalar(sa.select(Case).where(
            Case.received_by_id == principal.id, Case.idempotency_key == idempotency_key))
        if idempotency_key is None or existing is None:
            raise
        return existing, access_key(settings, existing.tracking_code)
    assert case.id is not None
    for party in data.parties:
        session.add(new_party(vault_for(settings), case.id, case.kind, party.model_dump()))
    roles: dict[str, int] = {}
    for party in data.parties:
        roles[party.role.value] = roles.get(party.role.value, 0) + 1
    await case_events.append(session, case_id=case.id, actor_id=principal.id, action="create",
                             to_status=case.status, effective_date=data.received_at, payload={
                                 "kind": case.kind, "field": case.field, "channel": case.channel,
                                 "receiving_unit_id": case.receiving_unit_id,
                                 "competent_unit_id": case.competent_unit_id, "parties_by_role": roles,
                                 "level_skipping": level_skipping, "warnings": [w["code"] for w in case.warnings]})
    await outbox.enqueue(session, "case.created", case.id, {
        "case_id": case.id, "tracking_code": case.tracking_code, "kind": case.kind, "field": case.field,
        "channel": case.channel, "competent_unit_id": case.competent_unit_id, "received_at": case.received_at})
    await session.commit()
    return case, key


async def get_readable(session: AsyncSession, principal: Principal, case_id: int, *, lock: bool = False) -> Case:
    stmt = sa.select(Case).where(Case.id == case_id, case_access.readable(principal))
    if lock:
        stmt = stmt.with_for_update(of=Case)
    case = await session.scalar(stmt)
    if case is None:
        raise NotFound("Không tìm thấy hồ sơ", code="case_not_found")
    return case


IDENTITY_FIELDS = ("full_name", "id_number", "phone", "address")


def new_party(vault: Vault, case_id: int, kind: str, data: dict[str, Any]) -> CaseParty:
    """A party row; a secret identity is sealed and its clear columns left empty."""
    id_number = data.get("id_number")
    party = CaseParty(case_id=case_id, role=data["role"], full_name=data["full_name"], id_number=id_number,
                      phone=data.get("phone"), address=data.get("address"), officer_id=data.get("officer_id"),
                      id_number_hash=vault.fingerprint(id_number) if id_number else None)
    if case_access.is_secret(party.role, kind):
        party.sealed = vault.seal({k: data.get(k) for k in IDENTITY_FIELDS})
        party.full_name, party.id_number, party.phone, party.address = "", None, None, None
    return party


def _party_out(party: CaseParty, kind: str, reveal: bool, vault: Vault) -> PartyOut:
    assert party.id is not None
    if case_access.is_secret(party.role, kind):
        if not reveal or party.sealed is None:
            return PartyOut(id=party.id, role=party.role, full_name="(được giữ bí mật)", id_number=None, phone=None,
                            address=None, masked=True)
        return PartyOut(id=party.id, role=party.role, **vault.open(party.sealed))
    return PartyOut(id=party.id, role=party.role, full_name=party.full_name, id_number=party.id_number,
                    phone=party.phone, address=party.address, officer_id=party.officer_id)


async def view(session: AsyncSession, principal: Principal, case: Case, *, today: date, env: DeadlineEnv,
               vault: Vault, audit_identity: bool = True) -> CaseOut:
    """The case as this officer may see it. Revealing a denouncer's identity is itself an audited event."""
    assert case.id is not None
    parties = (await session.scalars(sa.select(CaseParty).where(CaseParty.case_id == case.id)
                                     .order_by(CaseParty.id))).all()
    reveal = case_access.sees_identity(principal, case)
    secret = [p.id for p in parties if case_access.is_secret(p.role, case.kind)]
    if reveal and secret and audit_identity:
        await session.execute(sa.select(Case.id).where(Case.id == case.id).with_for_update())
        await case_events.append(session, case_id=case.id, actor_id=principal.id, action="identity_viewed",
                                 payload={"party_ids": secret})
        await session.commit()
    handler_ids = (await session.scalars(sa.select(CaseAssignment.user_id).where(
        CaseAssignment.case_id == case.id).order_by(CaseAssignment.user_id))).all()
    repeat_count = await session.scalar(sa.select(sa.func.count()).select_from(Case).where(
        Case.repeat_of_case_id == case.id)) or 0
    timers = [TimerOut(**Timer.from_dict(t).view(env.cal, today)) for t in case.timers]
    acting = case_access.acting_roles(principal, case)
    return CaseOut(
        **{k: getattr(case, k) for k in CaseOut.model_fields if hasattr(case, k) and k not in (
            "parties", "timers", "handler_ids", "repeat_count", "allowed_actions", "is_multi_person")},
        is_multi_person=case.signer_count >= 5, handler_ids=list(handler_ids), repeat_count=int(repeat_count),
        parties=[_party_out(p, case.kind, reveal, vault) for p in parties], timers=timers,
        allowed_actions=allowed_actions(Status(case.status), acting))


def list_item(case: Case, today: date) -> CaseListItem:
    assert case.id is not None
    return CaseListItem(
        id=case.id, tracking_code=case.tracking_code, kind=case.kind, field=case.field, title=case.title,
        status=case.status, version=case.version, received_at=case.received_at,
        receiving_unit_id=case.receiving_unit_id, competent_unit_id=case.competent_unit_id,
        is_multi_person=case.signer_count >= 5, level_skipping=case.level_skipping,
        next_due_date=case.next_due_date, overdue=case.next_due_date is not None and case.next_due_date < today)


# Must be the very expression of the trigram index ixx_cases_search (migration 0002).
SEARCH_TEXT = search.folded(
    sa.type_coerce(Case.title, sa.Text).op("||")(sa.literal_column("' '")).op("||")(Case.content))
SORTS = {"-received_at": (Case.received_at, True), "received_at": (Case.received_at, False),
         "due_date": (sa.func.coalesce(Case.next_due_date, sa.cast(sa.literal("9999-12-31"), sa.Date)), False)}


async def list_cases(session: AsyncSession, principal: Principal, *, today: date, limit: int,
                     after: list[Any] | None, sort: str, filters: dict[str, Any]) -> Sequence[Case]:
    key, descending = SORTS[sort]
    stmt = sa.select(Case).where(case_access.readable(principal))
    f = filters
    if f.get("kind"):
        stmt = stmt.where(Case.kind.in_([k.value for k in f["kind"]]))
    if f.get("status"):
        stmt = stmt.where(Case.status.in_([s.value for s in f["status"]]))
    if f.get("field"):
        stmt = stmt.where(Case.field.in_([x.value for x in f["field"]]))
    if f.get("unit_id") is not None:
        unit = await session.get(Unit, f["unit_id"])
        if unit is None:
            raise Invalid("Đơn vị không tồn tại", code="unit_not_found", details={"field": "unit_id"})
        if f.get("include_subtree"):
            subtree = sa.select(Unit.id).where(Unit.path.startswith(unit.path))
            stmt = stmt.where(Case.competent_unit_id.in_(subtree))
        else:
            stmt = stmt.where(Case.competent_unit_id == unit.id)
    if f.get("handler_id") is not None:
        stmt = stmt.where(sa.exists().where(CaseAssignment.case_id == Case.id,
                                            CaseAssignment.user_id == f["handler_id"]))
    if f.get("overdue") is True:
        stmt = stmt.where(Case.next_due_date < today)
    elif f.get("overdue") is False:
        stmt = stmt.where(sa.or_(Case.next_due_date.is_(None), Case.next_due_date >= today))
    if f.get("due_before") is not None:
        stmt = stmt.where(Case.next_due_date <= f["due_before"])
    if f.get("received_from") is not None:
        stmt = stmt.where(Case.received_at >= f["received_from"])
    if f.get("received_to") is not None:
        stmt = stmt.where(Case.received_at <= f["received_to"])
    if f.get("multi_person") is not None:
        stmt = stmt.where((Case.signer_count >= 5) == f["multi_person"])
    if f.get("level_skipping") is not None:
        stmt = stmt.where(Case.level_skipping == f["level_skipping"])
    if f.get("q"):
        stmt = stmt.where(sa.or_(search.all_words(SEARCH_TEXT, f["q"]), Case.tracking_code == f["q"].strip().upper()))
    if after is not None:
        cmp = sa.tuple_(key, Case.id) < sa.tuple_(after[0], after[1]) if descending else \
            sa.tuple_(key, Case.id) > sa.tuple_(after[0], after[1])
        stmt = stmt.where(cmp)
    order = (key.desc(), Case.id.desc()) if descending else (key.asc(), Case.id.asc())
    return (await session.scalars(stmt.order_by(*order).limit(limit + 1))).all()


def cursor_of(case: Case, sort: str) -> list[Any]:
    if sort == "due_date":
        return [(case.next_due_date or date(9999, 12, 31)).isoformat(), case.id]
    return [case.received_at.isoformat(), case.id]


async def events(session: AsyncSession, case_id: int, *, after_seq: int, limit: int) -> Sequence[CaseEvent]:
    return (await session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq > after_seq)
                                  .order_by(CaseEvent.seq).limit(limit + 1))).all()


async def verify_chain(session: AsyncSession, case_id: int) -> tuple[bool, int, int | None]:
    rows = (await session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id)
                                  .order_by(CaseEvent.seq))).all()
    valid, bad = case_events.verify(rows)
    return valid, len(rows), bad
