"""The transactional outbox and webhook subscriptions / deliveries, and the webhook API schemas."""

import uuid
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, field_validator
from pydantic import Field as PydanticField
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.types import clean_any

# What webhooks can subscribe to (the outbox writes these).
EVENT_TYPES = (
    "case.created",
    "case.action",
    "case.public_status",  # the citizen-visible status changed: tracking code and public status only
    "deadline.due_soon",
    "deadline.overdue",
    "deadline.escalated",
    "deadline.recomputed",
)


class OutboxEvent(SQLModel, table=True):
    """Written in the same transaction as the change it announces; delivered after commit."""

    __tablename__ = "outbox_events"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, sa_column=sa.Column(UUID(as_uuid=True), nullable=False, unique=True)
    )
    # Not indexed: nothing looks events up by their type (migration 0018).
    event_type: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    case_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id"), index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    secret: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    event_types: list[str] = Field(sa_column=sa.Column(ARRAY(sa.String(64)), nullable=False))
    is_active: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    created_by_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id")))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscriber: retried with exponential backoff until delivered or given up."""

    __tablename__ = "webhook_deliveries"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True))
    outbox_id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("outbox_events.id"), nullable=False))
    subscription_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("webhook_subscriptions.id"), nullable=False, index=True)
    )
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, server_default="pending"))
    attempts: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    )
    last_status_code: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    delivered_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (
        sa.UniqueConstraint("outbox_id", "subscription_id", name="uq_webhook_deliveries_outbox_subscription"),
        sa.Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
    )


class WebhookIn(BaseModel):
    name: str = PydanticField(min_length=1, max_length=128)
    url: str = PydanticField(min_length=8, max_length=2000)
    event_types: list[str] = PydanticField(
        min_length=1, max_length=len(EVENT_TYPES) + 1, description=f"Any of {', '.join(EVENT_TYPES)}, or *"
    )
    secret: str | None = PydanticField(
        default=None, min_length=24, max_length=128, description="Signing secret; generated when omitted"
    )

    @field_validator("name", "url", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class WebhookUpdate(BaseModel):
    name: str | None = PydanticField(default=None, min_length=1, max_length=128)
    url: str | None = PydanticField(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = PydanticField(default=None, min_length=1)
    is_active: bool | None = None

    @field_validator("name", "url", mode="before")  # NFC first: max_length holds after it
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_any(value)


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_outcome: Literal["delivered", "failed", "address_refused"] | None = PydanticField(
        description="No status codes or network errors: they would reveal which ports answer where"
    )
    delivered_at: datetime | None
