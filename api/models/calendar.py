"""The working-day calendar: admins' corrections of the statutory calendar, and its API schemas."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.types import clean_any


class CalendarOverride(SQLModel, table=True):
    """An admin's correction of the statutory calendar for one day."""

    __tablename__ = "calendar_overrides"

    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # day_off | working_day
    reason: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    created_by_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id")))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class CacheVersion(SQLModel, table=True):
    """A counter per cached table, bumped by a database trigger on every change (migration 0005): a process
    that reads the counter knows whether its cached copy is current."""

    __tablename__ = "cache_versions"

    name: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    version: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))


class DayOffOut(BaseModel):
    date: date
    name: str
    source: str  # statutory | override


class WorkingDayOut(BaseModel):
    date: date
    reason: str
    source: str


class CalendarYearOut(BaseModel):
    year: int
    days_off: list[DayOffOut] = PydanticField(
        description="Ngày nghỉ rơi vào thứ Hai–thứ Sáu (lễ, Tết, nghỉ bù, bổ sung)"
    )
    working_days: list[WorkingDayOut] = PydanticField(description="Thứ Bảy / Chủ nhật phải đi làm (làm bù)")


class OverrideIn(BaseModel):
    date: date
    kind: str = PydanticField(pattern="^(day_off|working_day)$")
    reason: str = PydanticField(min_length=1, max_length=500)

    @field_validator("reason", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class OverrideOut(BaseModel):
    date: date
    kind: str
    reason: str
    cases_recomputed: int
