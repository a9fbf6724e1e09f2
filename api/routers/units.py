"""Organisation units: list (any officer), create / update / import (admin)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.clock import today
from api.deps import AdminOfficer, CurrentOfficer, SessionDep
from api.errors import Code, DomainError
from api.models.unit import Unit, UnitCreate, UnitImportResult, UnitLevel, UnitPublic, UnitUpdate
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import units as unit_service
from api.types import CleanStr, Id32

router = APIRouter(prefix="/units", tags=["units"])


def unit_public(unit: Unit) -> UnitPublic:
    return unit_service.to_public(unit, today())


@router.get("", response_model=Page[UnitPublic], summary="Danh sách đơn vị")
async def list_units(
    session: SessionDep,
    _: CurrentOfficer,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    level: UnitLevel | None = None,
    parent_id: Id32 | None = None,
    under: Annotated[Id32 | None, Query(description="Chỉ các đơn vị thuộc cây của đơn vị này")] = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
) -> Page[UnitPublic]:
    rows, next_cursor = await unit_service.list_units(
        session, limit=limit, cursor=cursor, level=level.value if level else None, parent_id=parent_id, under=under, q=q
    )
    return Page(items=[unit_public(u) for u in rows], next_cursor=next_cursor)


@router.get("/{unit_id}", response_model=UnitPublic, summary="Một đơn vị")
async def get_unit(unit_id: Id32, session: SessionDep, _: CurrentOfficer) -> UnitPublic:
    return unit_public(await unit_service.get(session, unit_id))


@router.post("", response_model=UnitPublic, status_code=status.HTTP_201_CREATED, summary="Tạo đơn vị (quản trị)")
async def create_unit(data: UnitCreate, session: SessionDep, admin: AdminOfficer) -> UnitPublic:
    return unit_public(await unit_service.create(session, admin.id, data))


@router.patch("/{unit_id}", response_model=UnitPublic, summary="Sửa đơn vị (quản trị)")
async def update_unit(unit_id: Id32, data: UnitUpdate, session: SessionDep, admin: AdminOfficer) -> UnitPublic:
    return unit_public(await unit_service.update(session, admin.id, unit_id, data))


@router.post(
    "/import",
    response_model=UnitImportResult,
    summary="Nhập đơn vị từ CSV hoặc JSON (quản trị)",
    description="Gửi thân yêu cầu là text/csv (cột code,name,level,parent_code,remote_area) hoặc "
    "application/json (danh sách đối tượng cùng trường). Cập nhật theo mã; tất cả hoặc không.",
)
async def import_units(request: Request, session: SessionDep, admin: AdminOfficer) -> UnitImportResult:
    content_type = request.headers.get("content-type", "")
    if not any(t in content_type for t in ("csv", "json", "text/plain")):
        raise DomainError(Code.unsupported_media_type)
    rows = unit_service.parse_import(content_type, await request.body())
    created, updated, units = await unit_service.import_rows(session, admin.id, rows)
    return UnitImportResult(created=created, updated=updated, items=[unit_public(u) for u in units])
