"""Organisation units (đơn vị): the province, its communes and wards, agencies, the inspectorate."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.types import Id32, clean_any, clean_text


class UnitLevel(StrEnum):
    province = "province"
    commune = "commune"
    agency = "agency"
    inspectorate = "inspectorate"
    district = "district"  # historical data only: abolished from 2025-07-01


class ReceptionPeriod(StrEnum):
    week = "week"
    month = "month"


class UnitBase(SQLModel):
    code: str = Field(min_length=1, max_length=32, regex=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=255)
    level: UnitLevel
    parent_id: Id32 | None = None
    remote_area: bool = False

    @field_validator("name", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _strip(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        v = clean_text(v.strip())
        if not v:
            raise ValueError("name must not be blank")
        return v


class Unit(SQLModel, table=True):
    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    level: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    parent_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=True, index=True)
    )
    # Materialised path of ids ("/1/7/"): subtree scope is one indexed prefix match.
    path: str = Field(sa_column=sa.Column(sa.String(512, collation="C"), nullable=False, index=True))
    remote_area: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    reception_days: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    reception_period: str | None = Field(default=None, sa_column=sa.Column(sa.String(8), nullable=True))
    is_active: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=created_at_column())


class UnitIn(UnitBase):
    reception_days: int | None = Field(default=None, ge=1, le=31)
    reception_period: ReceptionPeriod | None = None


class UnitUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    level: UnitLevel | None = None
    parent_id: Id32 | None = None
    remote_area: bool | None = None
    reception_days: int | None = Field(default=None, ge=1, le=31)
    reception_period: ReceptionPeriod | None = None
    is_active: bool | None = None

    @field_validator("name", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class ReceptionRequirementOut(SQLModel):
    days: int
    per: str
    basis: str


class UnitOut(SQLModel):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    remote_area: bool
    is_active: bool
    reception_requirement: ReceptionRequirementOut | None


class UnitImportOut(SQLModel):
    created: int
    updated: int
    items: list[UnitOut]
