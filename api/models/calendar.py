"""Admins' corrections of the statutory working-day calendar."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column


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
