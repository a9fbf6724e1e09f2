"""Open311 GeoReport v2 (`/open311/v2`, `.json` or `.xml`) and the admins' API keys for it
(`/api/v1/open311/api-keys`). Errors follow the spec: `[{"code", "description"}]` / `<errors>`; a 400 names each
wrong form field and says why in Vietnamese. A request that carries a valid `api_key` is limited by that key's
quota (per minute and per day, set when the key is issued: api/services/citizen/keyquota.py), not by its address:
an app's server posting for thousands of phones is one client. Without a key, by the (hashed) address."""

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, errors, http_errors, ratelimit
from api.deps import AdminOfficer, IntakeWriterDep, PublicReadSessionDep, SessionDep
from api.errors import AppError
from api.models.cases.schemas import Channel
from api.models.open311 import (
    Open311Created,
    Open311Definition,
    Open311ErrorItem,
    Open311Request,
    Open311RequestForm,
    Open311Service,
    Open311Token,
)
from api.models.public import ApiKey, ApiKeyCreatedOut, ApiKeyIn
from api.ratelimit import client_address
from api.services import calendar as calendar_service
from api.services.citizen import keyquota, submissions
from api.services.citizen import open311 as service
from api.services.citizen.open311 import Open311Error
from api.services.citizen.open311_form import submission
from api.types import Id32

MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_ERROR_TEXT = {
    400: "Bad request: one error per wrong form field or parameter, `<field>: <why>` in Vietnamese",
    403: "api_key missing, unknown or revoked",
    404: "Unknown service code, request, token or format (.json or .xml only)",
    429: "Over the key's quota (per minute, per day) or, without a key, the address's limit; header Retry-After",
}


# GeoReport v2's own error format (a list), in JSON or XML, for every error the routes answer.
OPEN311_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "model": list[Open311ErrorItem],
        "description": f"{text}. GeoReport v2 errors [{{code, description}}]; XML <errors><error>…",
        "content": {"text/xml": {"schema": {"type": "string"}}},
    }
    for code, text in _ERROR_TEXT.items()
}
router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=OPEN311_ERRORS)
keys_router = APIRouter(prefix="/open311/api-keys", tags=["open311"])

Format = Annotated[str, Path(description="json or xml", json_schema_extra={"enum": ["json", "xml"]})]
ApiKeyParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Optional on reads: with a valid key the request counts against the key's quota instead of "
        "the address's limit (an app's server reading for many phones)",
    ),
]


def _render(fmt: str, root: str, doc: list[dict[str, Any]] | dict[str, Any], code: int = 200) -> Response:
    if fmt == "xml":
        return Response(service.to_xml(root, doc), status_code=code, media_type=MEDIA["xml"])
    return Response(json.dumps(doc, ensure_ascii=False), status_code=code, media_type=MEDIA["json"])


def _errors(fmt: str, status_code: int, descriptions: list[str], headers: dict[str, str] | None = None) -> Response:
    items = [{"code": status_code, "description": d} for d in descriptions]
    response = _render(fmt, "errors", items, status_code)
    response.headers.update(headers or {})
    return response


# The form field a refusal of the submission service is about (its message says why).
_FIELD_OF_CODE = {
    "unknown_commune": "address_id",
    "idempotency_key_reused": "Idempotency-Key",
    "idempotency_key_expired": "Idempotency-Key",
}


async def _answer(fmt: str, root: str, make: Callable[[], Awaitable[Any]], code: int = 200) -> Response:
    """The document, or the spec's error list in the same format."""
    if fmt not in MEDIA:
        return _errors("json", 404, ["Định dạng phải là .json hoặc .xml"])
    try:
        return _render(fmt, root, await make(), code)
    except Open311Error as exc:
        return _errors(fmt, exc.status, exc.descriptions)
    except AppError as exc:
        status_code = 400 if exc.status_code == 422 else exc.status_code
        field = _FIELD_OF_CODE.get(exc.code)
        said = f"{field}: {exc.message} ({exc.code})" if field else f"{exc.message} ({exc.code})"
        return _errors(fmt, status_code, [said], exc.headers)


async def _by_address(request: Request, device: str | None = None) -> None:
    """The citizen channel's limits, by keyed daily hashes of the client address and the device (no address is
    kept: api/ratelimit.py)."""
    tagger = request.app.state.tagger
    keys = [f"a:{tagger.tag('ip', client_address(request))}"]
    if device:
        keys.append(f"d:{tagger.tag('dev', device[:64])}")
    await request.app.state.public_limits.hit(*keys)


async def _limit(
    request: Request, session: AsyncSession, api_key: str | None, *, required: bool = False, device: str | None = None
) -> ApiKey | None:
    """The caller's app (its key's quota counted), or None for a read without a key (counted by address). A wrong
    or missing key counts against the address, so keys cannot be guessed faster than the address's limit."""
    if not api_key and not required:
        await _by_address(request, device)
        return None
    try:
        app = await service.app_for(session, api_key)
    except Open311Error:
        await _by_address(request, device)
        raise
    limits = request.app.state.public_limits
    await keyquota.spend(session, app, partial(ratelimit.shared_window_count, limits))
    if device:  # one phone of the app still cannot flood on its own
        await limits.hit(f"d:{request.app.state.tagger.tag('dev', device[:64])}")
    return app


def _xml(description: str, root: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"{description}; `.xml`: the same document, GeoReport v2's element names (<{root}>)",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    }


# The routes write their documents themselves (JSON or XML); response_model documents the JSON one.
@router.get(
    "/services.{fmt}",
    summary="Open311: danh sách dịch vụ (loại đơn × lĩnh vực)",
    response_model=list[Open311Service],
    responses=_xml("Every service: kind × field", "services"),
)
async def services(fmt: Format, request: Request, session: SessionDep, api_key: ApiKeyParam = None) -> Response:
    async def make() -> Any:
        await _limit(request, session, api_key)
        return service.services()

    return await _answer(fmt, "services", make)


@router.get(
    "/services/{code}.{fmt}",
    summary="Open311: định nghĩa một dịch vụ",
    response_model=Open311Definition,
    responses=_xml("The attributes a client fills (attribute[code] in the form)", "service_definition"),
)
async def definition(
    code: str, fmt: Format, request: Request, session: SessionDep, api_key: ApiKeyParam = None
) -> Response:
    async def make() -> Any:
        await _limit(request, session, api_key)
        return service.definition(code)

    return await _answer(fmt, "service_definition", make)


@router.get(
    "/requests.{fmt}",
    summary="Open311: các yêu cầu (không có dữ liệu cá nhân; 90 ngày)",
    response_model=list[Open311Request],
    responses=_xml(f"At most {service.MAX_RESULTS}, newest first; no denunciation is ever listed", "service_requests"),
)
async def list_requests(
    fmt: Format,
    request: Request,
    session: SessionDep,  # the key's quota (written)
    read: PublicReadSessionDep,  # the listing: DATABASE_READ_URL's replica when set (no X-Data-As-Of: anonymous)
    service_request_id: Annotated[
        str | None, Query(max_length=25_000, description="Tracking codes, comma-separated (the other filters ignored)")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=2_000, description="Service codes, comma-separated")] = None,
    start_date: Annotated[
        str | None, Query(max_length=40, description="W3C date-time; default end_date minus 90 days")
    ] = None,
    end_date: Annotated[
        str | None, Query(max_length=40, description="W3C date-time; default now; at most 90 days after start_date")
    ] = None,
    status_filter: Annotated[
        str | None, Query(alias="status", max_length=20, description="open, closed or open,closed")
    ] = None,
    api_key: ApiKeyParam = None,
) -> Response:
    params = {
        k: v
        for k, v in {
            "service_request_id": service_request_id,
            "service_code": service_code,
            "start_date": start_date,
            "end_date": end_date,
            "status": status_filter,
        }.items()
        if v is not None
    }

    async def make() -> Any:
        await _limit(request, session, api_key)
        env = await calendar_service.env(read, request.app.state.settings)
        return await service.list_requests(read, params, env)

    return await _answer(fmt, "service_requests", make)


@router.get(
    "/requests/{request_id}.{fmt}",
    summary="Open311: một yêu cầu",
    response_model=list[Open311Request],
    responses=_xml("The request (a list of one, as GeoReport v2 has it)", "service_requests"),
)
async def get_request(
    request_id: str, fmt: Format, request: Request, session: SessionDep, api_key: ApiKeyParam = None
) -> Response:
    async def make() -> Any:
        await _limit(request, session, api_key)
        env = await calendar_service.env(session, request.app.state.settings)
        return [await service.one_request(session, request_id, env)]

    return await _answer(fmt, "service_requests", make)


@router.get(
    "/tokens/{token}.{fmt}",
    summary="Open311: mã yêu cầu theo token",
    response_model=list[Open311Token],
    responses=_xml("The request id of the token", "service_requests"),
)
async def get_token(
    token: str, fmt: Format, request: Request, session: SessionDep, api_key: ApiKeyParam = None
) -> Response:
    async def make() -> Any:
        await _limit(request, session, api_key)
        return [await service.token(session, token)]

    return await _answer(fmt, "service_requests", make)


_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": Open311RequestForm.model_json_schema(by_alias=True)}
        },
    }
}


@router.post(
    "/requests.{fmt}",
    summary="Open311: gửi yêu cầu (form-encoded, api_key)",
    status_code=status.HTTP_201_CREATED,
    response_model=list[Open311Created],
    openapi_extra=_FORM_BODY,
    responses={
        201: {
            "description": "Created; `.xml`: the same under <service_requests><request>",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    },
)
async def create_request(fmt: Format, request: Request, session: SessionDep, writer: IntakeWriterDep) -> Response:
    async def make() -> Any:
        form = {k: str(v) for k, v in (await request.form()).items()}
        device = form.get("device_id") or form.get("account_id") or None
        app = await _limit(request, session, form.get("api_key"), required=True, device=device)
        assert app is not None
        kind, fld = service.parse_code(form.get("service_code"), 400)
        data = submission(form, kind, fld)
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
    response_model=ApiKeyCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Cấp khóa API Open311 cho một ứng dụng, với hạn mức yêu cầu mỗi phút, mỗi ngày (quản trị)",
    responses=http_errors.responses(403, 422),
)
async def issue_key(data: ApiKeyIn, session: SessionDep, admin: AdminOfficer) -> ApiKeyCreatedOut:
    row, key = await service.issue_key(session, admin.id, data.name, data.per_minute, data.per_day)
    assert row.id is not None
    return ApiKeyCreatedOut(id=row.id, name=row.name, api_key=key, per_minute=row.per_minute, per_day=row.per_day)


@keys_router.post(
    "/{key_id}/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Thu hồi khóa API",
    responses=http_errors.responses(404),
)
async def revoke_key(key_id: Id32, session: SessionDep, admin: AdminOfficer) -> Response:
    if await service.revoke_key(session, admin.id, key_id) is None:
        raise errors.DomainError(errors.Code.not_found)
    return Response(status_code=204)
