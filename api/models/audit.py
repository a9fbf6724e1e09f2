"""Append-only audit log of administrative changes (units, users, calendar, settings)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    at: datetime | None = Field(default=None, sa_column=created_at_column())
    actor_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id")))
    entity: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    entity_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    request_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity", "entity_id"),)


class AuditEventOut(SQLModel):
    id: int
    at: datetime
    actor_id: int | None
    entity: str
    entity_id: str
    action: str
    payload: dict[str, Any]
