"""Open311 GeoReport v2 (`/open311/v2`, `.json` or `.xml`) and the admins' API keys for it
(`/api/v1/open311/api-keys`). Errors follow the spec: `[{"code", "description"}]` / `<errors>`."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ValidationError

from api import clock, errors
from api.deps import AdminOfficer, IntakeWriterDep, SessionDep
from api.errors import AppError
from api.models.cases.schemas import Channel
from api.models.public import ApiKeyCreated, ApiKeyIn, SubmissionIn
from api.ratelimit import client_address
from api.services import calendar as calendar_service
from api.services.citizen import open311 as service
from api.services.citizen import submissions
from api.services.citizen.open311 import Open311Error
from api.types import Id32


class Open311ErrorItem(BaseModel):
    code: int
    description: str


# GeoReport v2's own error format (a list), in JSON or XML, for the errors the routes answer themselves.
OPEN311_ERRORS: dict[int | str, dict[str, Any]] = {
    status_code: {"model": list[Open311ErrorItem], "description": "GeoReport v2 errors: [{code, description}]"}
    for status_code in (400, 403, 404, 429)
}
router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=OPEN311_ERRORS)
keys_router = APIRouter(prefix="/open311/api-keys", tags=["open311"])
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _render(fmt: str, root: str, doc: list[dict[str, Any]] | dict[str, Any], code: int = 200) -> Response:
    if fmt == "xml":
        return Response(service.to_xml(root, doc), status_code=code, media_type=MEDIA["xml"])
    import json

    return Response(json.dumps(doc, ensure_ascii=False), status_code=code, media_type=MEDIA["json"])


async def _answer(fmt: str, root: str, make: Callable[[], Awaitable[Any]], code: int = 200) -> Response:
    """The document, or the spec's error list in the same format."""
    if fmt not in MEDIA:
        return _render("json", "errors", [{"code": 404, "description": "Định dạng phải là .json hoặc .xml"}], 404)
    try:
        return _render(fmt, root, await make(), code)
    except Open311Error as exc:
        return _render(fmt, "errors", [{"code": exc.status, "description": exc.description}], exc.status)
    except AppError as exc:
        status_code = 400 if exc.status_code == 422 else exc.status_code
        described = f"{exc.message} ({exc.code})"
        headers = exc.headers or {}
        response = _render(fmt, "errors", [{"code": status_code, "description": described}], status_code)
        response.headers.update(headers)
        return response


async def _limit(request: Request, device: str | None = None) -> None:
    """The citizen channel's limits, by keyed daily hashes of the client address and the device (no address is
    kept: api/ratelimit.py)."""
    tagger = request.app.state.tagger
    keys = [f"a:{tagger.tag('ip', client_address(request))}"]
    if device:
        keys.append(f"d:{tagger.tag('dev', device[:64])}")
    await request.app.state.public_limits.hit(*keys)


@router.get("/services.{fmt}", summary="Open311: danh sách dịch vụ (loại đơn × lĩnh vực)")
async def services(fmt: str, request: Request) -> Response:
    async def make() -> Any:
        await _limit(request)
        return service.services()

    return await _answer(fmt, "services", make)


@router.get("/services/{code}.{fmt}", summary="Open311: định nghĩa một dịch vụ")
async def definition(code: str, fmt: str, request: Request) -> Response:
    async def make() -> Any:
        await _limit(request)
        return service.definition(code)

    return await _answer(fmt, "service_definition", make)


@router.get("/requests.{fmt}", summary="Open311: các yêu cầu (không có dữ liệu cá nhân; 90 ngày)")
async def list_requests(fmt: str, request: Request, session: SessionDep) -> Response:
    async def make() -> Any:
        await _limit(request)
        env = await calendar_service.env(session, request.app.state.settings)
        return await service.list_requests(session, dict(request.query_params), env)

    return await _answer(fmt, "service_requests", make)


@router.get("/requests/{request_id}.{fmt}", summary="Open311: một yêu cầu")
async def get_request(request_id: str, fmt: str, request: Request, session: SessionDep) -> Response:
    async def make() -> Any:
        await _limit(request)
        env = await calendar_service.env(session, request.app.state.settings)
        return [await service.one_request(session, request_id, env)]

    return await _answer(fmt, "service_requests", make)


@router.get("/tokens/{token}.{fmt}", summary="Open311: mã yêu cầu theo token")
async def get_token(token: str, fmt: str, request: Request, session: SessionDep) -> Response:
    async def make() -> Any:
        await _limit(request)
        return [await service.token(session, token)]

    return await _answer(fmt, "service_requests", make)


def _submission(form: dict[str, str], kind: str, fld: str) -> SubmissionIn:
    name = " ".join(p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p)
    id_number = form.get("attribute[id_number]") or None
    contact = None
    if name or id_number or form.get("phone") or form.get("email"):
        contact = {
            "full_name": name or "(không ghi tên)",
            "phone": form.get("phone") or None,
            "email": form.get("email") or None,
            "id_number": id_number,
        }
    location: dict[str, Any] = {}
    if form.get("lat") or form.get("long"):
        try:
            location["lat"], location["long"] = float(form.get("lat", "")), float(form.get("long", ""))
        except ValueError:
            raise Open311Error(400, "lat và long phải là số") from None
    if form.get("address_string"):
        location["address"] = form["address_string"]
    if form.get("address_id"):
        location["commune_code"] = form["address_id"]
    if not location:
        raise Open311Error(400, "Cần lat/long, address_string hoặc address_id")
    try:
        return SubmissionIn(
            kind=kind,
            field=fld,
            title=form.get("attribute[title]") or None,
            content=form.get("description", ""),
            location=location,
            contact=contact,
            consent=form.get("attribute[consent]", "").lower() in ("yes", "true", "1"),
        )
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "request" for e in exc.errors())
        raise Open311Error(400, f"Dữ liệu không hợp lệ: {fields}") from None


@router.post("/requests.{fmt}", summary="Open311: gửi yêu cầu (form-encoded, api_key)")
async def create_request(fmt: str, request: Request, session: SessionDep, writer: IntakeWriterDep) -> Response:
    async def make() -> Any:
        form = {k: str(v) for k, v in (await request.form()).items()}
        device = form.get("device_id") or form.get("account_id") or None
        await _limit(request, device)
        app = await service.app_for(session, form.get("api_key"))
        kind, fld = service.parse_code(form.get("service_code"), 400)
        data = _submission(form, kind, fld)
        settings = request.app.state.settings
        outcome = await submissions.submit(
            session,
            settings,
            data,
            channel=Channel.mobile,
            scope=f"app:{app.id}:{device or ''}",
            idempotency_key=request.headers.get("Idempotency-Key"),
            today=clock.today(),
            writer=writer,
        )
        made = outcome.created
        return [
            {
                "service_request_id": made.tracking_code,
                "token": made.tracking_code,
                "service_notice": f"Đã tiếp nhận tại {made.unit_name}; hạn xử lý đơn {made.due_date:%d/%m/%Y}"
                if made.due_date
                else f"Đã tiếp nhận tại {made.unit_name}",
                "account_id": form.get("account_id") or None,
                # Not in GeoReport v2: the citizen's key to follow the case (GET /api/v1/public/submissions/…).
                "access_key": made.access_key,
            }
        ]

    return await _answer(fmt, "service_requests", make, code=status.HTTP_201_CREATED)


@keys_router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Cấp khóa API Open311 cho một ứng dụng (quản trị)",
    responses=errors.responses(403, 422),
)
async def issue_key(data: ApiKeyIn, session: SessionDep, admin: AdminOfficer) -> ApiKeyCreated:
    row, key = await service.issue_key(session, admin.id, data.name)
    assert row.id is not None
    return ApiKeyCreated(id=row.id, name=row.name, api_key=key)


@keys_router.post(
    "/{key_id}/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Thu hồi khóa API",
    responses=errors.responses(404),
)
async def revoke_key(key_id: Id32, session: SessionDep, admin: AdminOfficer) -> Response:
    if await service.revoke_key(session, admin.id, key_id) is None:
        raise errors.DomainError(errors.Code.not_found)
    return Response(status_code=204)
