"""The working-day calendar: read by everyone, corrected by admins (recomputing running deadlines)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import AdminOfficer, CurrentOfficer, DeadlineEnvDep, SessionDep, SettingsDep
from api.models.calendar import CalendarYearOut, DayOffOut, OverrideIn, OverrideOut, WorkingDayOut
from api.services import calendar as calendar_service

router = APIRouter(prefix="/calendar", tags=["calendar"])


@router.get("/{year}", response_model=CalendarYearOut, summary="Ngày nghỉ và ngày làm bù trong năm")
async def get_year(
    year: Annotated[int, Path(ge=2000, le=2100)],
    session: SessionDep,
    settings: SettingsDep,
    env: DeadlineEnvDep,
    _: CurrentOfficer,
) -> CalendarYearOut:
    overrides = {o.day: o for o in await calendar_service.overrides(session)}
    days_off = [
        DayOffOut(
            date=d,
            name=overrides[d].reason if d in overrides else name,
            source="override" if d in overrides else "statutory",
        )
        for d, name in env.cal.days_off(year)
    ]
    working = [
        WorkingDayOut(
            date=d,
            reason=overrides[d].reason if d in overrides else "Làm bù theo quyết định",
            source="override" if d in overrides else "statutory",
        )
        for d in env.cal.swapped_working_days(year)
    ]
    return CalendarYearOut(year=year, days_off=days_off, working_days=working)


@router.post(
    "/overrides",
    response_model=OverrideOut,
    status_code=status.HTTP_201_CREATED,
    summary="Thêm / sửa ngày nghỉ hoặc ngày làm việc (quản trị)",
    description="Running timers are recomputed; each case whose due date moves gets a "
    "`deadlines_recomputed` event saying why.",
)
async def set_override(
    data: OverrideIn, session: SessionDep, settings: SettingsDep, admin: AdminOfficer
) -> OverrideOut:
    row, moved = await calendar_service.set_override(session, settings, admin.id, data.date, data.kind, data.reason)
    return OverrideOut(date=row.day, kind=row.kind, reason=row.reason, cases_recomputed=moved)


@router.delete("/overrides/{day}", response_model=OverrideOut, summary="Bỏ điều chỉnh lịch (quản trị)")
async def remove_override(day: date, session: SessionDep, settings: SettingsDep, admin: AdminOfficer) -> OverrideOut:
    moved = await calendar_service.remove_override(session, settings, admin.id, day)
    return OverrideOut(date=day, kind="removed", reason="", cases_recomputed=moved)
