"""Open311 GeoReport v2 on top of the citizen channel: kinds × fields as service codes, requests created through
the same submission service, listed without any personal data (no description, no contact, no denunciation),
and the spec's JSON and XML documents and error format."""

import hashlib
import secrets
import xml.etree.ElementTree as ET  # noqa: S405 - we only write XML, never parse it
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.models.cases import Case
from api.models.cases.schemas import CaseField
from api.models.public import ApiKey
from api.models.unit import Unit
from api.services import audit
from api.services.calendar import DeadlineEnv
from api.services.citizen.status import FIELD_NAMES, KIND_NAMES, due_date, public_status
from workflows.cases import Kind

WINDOW_DAYS = 90  # GET requests: the spec's default and largest window
MAX_RESULTS = 1000
LISTED_CHANNELS = ("mobile", "online")


class Open311Error(Exception):
    """An error in GeoReport v2's format: one `{code, description}` per problem (e.g. per wrong form field)."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status, self.descriptions = status, list(descriptions)


def service_codes() -> list[tuple[str, str, str]]:
    return [(f"{k.value}.{f.value}", k.value, f.value) for k in Kind for f in CaseField]


def service(code: str, kind: str, fld: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "service_name": f"{KIND_NAMES[kind]} – {FIELD_NAMES[fld]}",
        "description": f"{KIND_NAMES[kind]} về lĩnh vực {FIELD_NAMES[fld].lower()} gửi cơ quan nhà nước tỉnh Lào Cai",
        "metadata": True,
        "type": "realtime",
        "keywords": f"{kind}, {fld}",
        "group": KIND_NAMES[kind],
    }


def services() -> list[dict[str, Any]]:
    return [service(*s) for s in service_codes()]


def parse_code(code: str | None, unknown_status: int = 404) -> tuple[str, str]:
    """(kind, field) of a service code; an unknown code is 404 on its own path, 400 as a parameter."""
    for c, kind, fld in service_codes():
        if c == code:
            return kind, fld
    raise Open311Error(unknown_status if code else 400, "Mã dịch vụ (service_code) không tồn tại")


def definition(code: str) -> dict[str, Any]:
    """The attributes a client fills for `code`. `consent` is required of every service: each takes GeoReport's
    contact fields (first_name, last_name, phone, email), and personal data is processed only with the sender's
    consent (Law on Personal Data Protection 91/2025/QH15) — so a client that fills every required attribute and
    the contact fields is accepted (consent `true`), and one whose user says no (`false`) sends no contact."""
    kind, _ = parse_code(code)
    identity = kind in ("complaint", "denunciation")
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "id_number",
                "datatype": "string",
                "required": identity,
                "datatype_description": "Số định danh cá nhân / căn cước (12 chữ số)",
                "order": 1,
                "description": "Số định danh cá nhân của người gửi (bắt buộc với khiếu nại, tố cáo)",
            },
            {
                "variable": True,
                "code": "consent",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": "true hoặc false",
                "order": 2,
                "description": "Đồng ý cho cơ quan nhà nước xử lý dữ liệu cá nhân đã cung cấp (họ tên, điện thoại, "
                "email, số định danh). Phải là true khi gửi kèm các thông tin đó; false: gửi không kèm thông tin "
                "cá nhân",
                "values": [{"key": "true", "name": "Đồng ý"}, {"key": "false", "name": "Không đồng ý"}],
            },
            {
                "variable": True,
                "code": "title",
                "datatype": "string",
                "required": False,
                "datatype_description": "Tối đa 200 ký tự",
                "order": 3,
                "description": "Tiêu đề ngắn",
            },
        ],
    }


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_key(
    session: AsyncSession, admin_id: int, name: str, per_minute: int, per_day: int
) -> tuple[ApiKey, str]:
    """A new key with its quota (requests per minute and per day, counted per key: keyquota)."""
    key = "o311_" + secrets.token_urlsafe(24)
    row = ApiKey(name=name, key_hash=hash_key(key), created_by_id=admin_id, per_minute=per_minute, per_day=per_day)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_id=admin_id,
        entity="api_key",
        entity_id=row.id,
        action="create",
        payload={"name": name, "per_minute": per_minute, "per_day": per_day},
    )
    await session.commit()
    return row, key


async def revoke_key(session: AsyncSession, admin_id: int, key_id: int) -> ApiKey | None:
    row = await session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        audit.record(session, actor_id=admin_id, entity="api_key", entity_id=row.id, action="revoke")
        await session.commit()
    return row


async def app_for(session: AsyncSession, key: str | None) -> ApiKey:
    if not key:
        raise Open311Error(403, "Thiếu api_key")
    row: ApiKey | None = await session.scalar(
        sa.select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    if row is None:
        raise Open311Error(403, "api_key không hợp lệ hoặc đã bị thu hồi")
    return row


def _expected(due: date | None) -> str | None:
    return datetime.combine(due, time(17, 0), tzinfo=clock.VN).isoformat() if due else None


EXACT_POSITION_NEVER = ("complaint", "denunciation")  # their position may point to the person who wrote
POSITION_DECIMALS = 2  # petitions and feedback: rounded to 0.01° (about 1 km), the road or hamlet, not the house


def public_position(kind: str, loc: dict[str, Any]) -> tuple[float | None, float | None]:
    """The position the anonymous listing may show: none for a complaint or denunciation; a coarse one (rounded
    to POSITION_DECIMALS) for a petition or feedback, which usually concern a public place."""
    lat, long = loc.get("lat"), loc.get("long")
    if kind in EXACT_POSITION_NEVER or lat is None or long is None:
        return None, None
    return round(float(lat), POSITION_DECIMALS), round(float(long), POSITION_DECIMALS)


def request_doc(case: Case, unit_name: str, env: DeadlineEnv) -> dict[str, Any]:
    """One request as Open311 lists it: status, where (the commune, and for petitions and feedback a coarse
    position), when, who is responsible — never what the citizen wrote, who they are, nor where exactly."""
    label, is_open = public_status(case.status)
    loc = case.location or {}
    lat, long = public_position(case.kind, loc)
    assert case.created_at is not None
    return {
        "service_request_id": case.tracking_code,
        "status": "open" if is_open else "closed",
        "status_notes": label,
        "service_name": f"{KIND_NAMES[case.kind]} – {FIELD_NAMES[case.field]}",
        "service_code": f"{case.kind}.{case.field}",
        "description": None,
        "agency_responsible": unit_name,
        "service_notice": None,
        "requested_datetime": case.created_at.isoformat(),
        "updated_datetime": (case.updated_at or case.created_at).isoformat(),
        "expected_datetime": _expected(due_date(case, env)) if is_open else None,
        "address": unit_name,
        "address_id": loc.get("commune_code"),
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": None,
    }


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} phải theo định dạng W3C (ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _listed() -> Any:
    # Like a denunciation, a case whose sender asked for identity protection is not listed (issue 21, F2).
    return sa.and_(Case.channel.in_(LISTED_CHANNELS), Case.kind != "denunciation", ~Case.identity_protected)


async def list_requests(session: AsyncSession, params: dict[str, str], env: DeadlineEnv) -> list[dict[str, Any]]:
    stmt = sa.select(Case, Unit.name).join(Unit, Unit.id == Case.competent_unit_id).where(_listed())
    ids = params.get("service_request_id")
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()][:MAX_RESULTS]
        stmt = stmt.where(Case.tracking_code.in_(wanted))
    else:
        end = _parse_time(params.get("end_date"), "end_date") or datetime.now(UTC)
        start = _parse_time(params.get("start_date"), "start_date") or end - timedelta(days=WINDOW_DAYS)
        if start > end:
            raise Open311Error(400, "start_date sau end_date")
        if end - start > timedelta(days=WINDOW_DAYS):
            raise Open311Error(400, f"Khoảng thời gian tối đa {WINDOW_DAYS} ngày")
        stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
        if params.get("service_code"):
            codes = [c.strip() for c in params["service_code"].split(",")]
            pairs = [parse_code(c, 400) for c in codes]
            stmt = stmt.where(sa.or_(*(sa.and_(Case.kind == k, Case.field == f) for k, f in pairs)))
        if params.get("status"):
            wanted_status = {s.strip() for s in params["status"].split(",")}
            if not wanted_status <= {"open", "closed"}:
                raise Open311Error(400, "status là open hoặc closed")
            open_statuses = ["received", "accepted", "in_progress", "suspended"]
            if wanted_status == {"open"}:
                stmt = stmt.where(Case.status.in_(open_statuses))
            elif wanted_status == {"closed"}:
                stmt = stmt.where(Case.status.not_in(open_statuses))
    rows = (await session.execute(stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS))).all()
    return [request_doc(c, name, env) for c, name in rows]


async def one_request(session: AsyncSession, code: str, env: DeadlineEnv) -> dict[str, Any]:
    row = (
        await session.execute(
            sa.select(Case, Unit.name)
            .join(Unit, Unit.id == Case.competent_unit_id)
            .where(Case.tracking_code == code, _listed())
        )
    ).first()
    if row is None:
        raise Open311Error(404, "Không tìm thấy yêu cầu")
    return request_doc(row[0], row[1], env)


async def token(session: AsyncSession, value: str) -> dict[str, Any]:
    found = await session.scalar(sa.select(Case.tracking_code).where(Case.tracking_code == value, _listed()))
    if found is None:
        raise Open311Error(404, "Không tìm thấy token")
    return {"service_request_id": found, "token": value}


# ---- XML ----

_ROOTS = {"services": "service", "service_requests": "request", "errors": "error"}


def _add(parent: ET.Element, key: str, value: Any) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, list):
        item = "attribute" if key == "attributes" else "value"
        for v in value:
            child = ET.SubElement(el, item)
            for k, w in v.items():
                _add(child, k, w)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)


def to_xml(root: str, items: list[dict[str, Any]] | dict[str, Any]) -> str:
    if isinstance(items, dict):  # a service definition
        top = ET.Element("service_definition")
        for k, v in items.items():
            _add(top, k, v)
    else:
        top = ET.Element(root)
        for item in items:
            el = ET.SubElement(top, _ROOTS[root])
            for k, v in item.items():
                _add(el, k, v)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode")
