"""Statistics for the inspectorate: submitted (frozen) report forms."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column


class StatReport(SQLModel, table=True):
    """A statistics form as submitted for a period: its figures never change (the application role may only
    insert and read this table, migration 0014); the live figures are compared with it (`…/diff`)."""

    __tablename__ = "stat_reports"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    form: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    period: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    end: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    unit_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("units.id"), nullable=False))
    figures: dict[str, Any] = Field(sa_column=sa.Column(JSONB, nullable=False))
    submitted_by_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (sa.UniqueConstraint("form", "period", "unit_id", name="uq_stat_reports_form_period_unit"),)
