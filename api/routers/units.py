"""Organisation units: list (any officer), create / update / import (admin)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.clock import today
from api.deps import AdminOfficer, CurrentOfficer, SessionDep
from api.errors import Code, DomainError
from api.models.unit import Unit, UnitImportOut, UnitIn, UnitLevel, UnitOut, UnitUpdate
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import units as unit_service
from api.types import CleanStr, Id32

router = APIRouter(prefix="/units", tags=["units"])


def unit_public(unit: Unit) -> UnitOut:
    return unit_service.to_public(unit, today())


@router.get("", response_model=Page[UnitOut], summary="Danh sách đơn vị")
async def list_units(
    session: SessionDep,
    _: CurrentOfficer,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    level: UnitLevel | None = None,
    parent_id: Id32 | None = None,
    under: Annotated[Id32 | None, Query(description="Chỉ các đơn vị thuộc cây của đơn vị này")] = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
) -> Page[UnitOut]:
    rows, next_cursor = await unit_service.list_units(
        session, limit=limit, cursor=cursor, level=level.value if level else None, parent_id=parent_id, under=under, q=q
    )
    return Page(items=[unit_public(u) for u in rows], next_cursor=next_cursor)


@router.get("/{unit_id}", response_model=UnitOut, summary="Một đơn vị")
async def get_unit(unit_id: Id32, session: SessionDep, _: CurrentOfficer) -> UnitOut:
    return unit_public(await unit_service.get(session, unit_id))


@router.post("", response_model=UnitOut, status_code=status.HTTP_201_CREATED, summary="Tạo đơn vị (quản trị)")
async def create_unit(data: UnitIn, session: SessionDep, admin: AdminOfficer) -> UnitOut:
    return unit_public(await unit_service.create(session, admin.id, data))


@router.patch("/{unit_id}", response_model=UnitOut, summary="Sửa đơn vị (quản trị)")
async def update_unit(unit_id: Id32, data: UnitUpdate, session: SessionDep, admin: AdminOfficer) -> UnitOut:
    return unit_public(await unit_service.update(session, admin.id, unit_id, data))


@router.post(
    "/import",
    response_model=UnitImportOut,
    summary="Nhập đơn vị từ CSV hoặc JSON (quản trị)",
    description="Gửi thân yêu cầu là text/csv (cột code,name,level,parent_code,remote_area) hoặc "
    "application/json (danh sách đối tượng cùng trường). Cập nhật theo mã; tất cả hoặc không.",
)
async def import_units(request: Request, session: SessionDep, admin: AdminOfficer) -> UnitImportOut:
    content_type = request.headers.get("content-type", "")
    if not any(t in content_type for t in ("csv", "json", "text/plain")):
        raise DomainError(Code.unsupported_media_type)
    rows = unit_service.parse_import(content_type, await request.body())
    created, updated, units = await unit_service.import_rows(session, admin.id, rows)
    return UnitImportOut(created=created, updated=updated, items=[unit_public(u) for u in units])
