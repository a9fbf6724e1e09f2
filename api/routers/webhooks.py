"""Webhook subscriptions and their delivery log (admin)."""

from fastapi import APIRouter, status
from pydantic import Field

from api.deps import AdminOfficer, SessionDep, SettingsDep
from api.models.webhooks import DeliveryOut, OutboxEvent, WebhookDelivery, WebhookIn, WebhookOut, WebhookUpdate
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import webhooks as webhook_service
from api.types import Id32

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="HMAC-SHA256 key for the X-Tiepdan-Signature header; shown only here")


def outcome(status_code: int | None, error: str | None, delivered: bool) -> str | None:
    """What a delivery attempt came to, coarsely: an admin learns whether the receiver took the event, never
    the status code or the kind of network error (which would turn webhooks into a port scanner)."""
    if delivered:
        return "delivered"
    if error == "address_not_public":
        return "address_refused"
    return None if status_code is None and error is None else "failed"


@router.post("", response_model=WebhookCreatedOut, status_code=status.HTTP_201_CREATED, summary="Đăng ký webhook")
async def create(data: WebhookIn, session: SessionDep, admin: AdminOfficer, settings: SettingsDep) -> WebhookCreatedOut:
    sub = await webhook_service.create(
        session,
        admin.id,
        data.name,
        data.url,
        data.event_types,
        data.secret,
        allow_private=settings.webhook_allow_private,
    )
    return WebhookCreatedOut.model_validate(sub, from_attributes=True)


@router.get("", response_model=Page[WebhookOut], summary="Các đăng ký webhook")
async def list_all(
    session: SessionDep, _: AdminOfficer, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[WebhookOut]:
    rows, next_cursor = await webhook_service.list_subscriptions(session, cursor=cursor, limit=limit)
    return Page(items=[WebhookOut.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


@router.patch("/{sub_id}", response_model=WebhookOut, summary="Sửa / tắt webhook")
async def update(
    sub_id: Id32, data: WebhookUpdate, session: SessionDep, admin: AdminOfficer, settings: SettingsDep
) -> WebhookOut:
    sub = await webhook_service.update(
        session, admin.id, sub_id, data.model_dump(exclude_unset=True), allow_private=settings.webhook_allow_private
    )
    return WebhookOut.model_validate(sub, from_attributes=True)


@router.get("/{sub_id}/deliveries", response_model=Page[DeliveryOut], summary="Nhật ký gửi webhook")
async def deliveries(
    sub_id: Id32, session: SessionDep, _: AdminOfficer, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[DeliveryOut]:
    await webhook_service.get(session, sub_id)
    rows, next_cursor = await webhook_service.deliveries(session, sub_id, cursor=cursor, limit=limit)
    return Page(items=[_delivery(d, e) for d, e in rows], next_cursor=next_cursor)


def _delivery(d: WebhookDelivery, event: OutboxEvent) -> DeliveryOut:
    assert d.id is not None
    return DeliveryOut(
        id=d.id,
        event_id=str(event.event_id),
        event_type=event.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_outcome=outcome(d.last_status_code, d.last_error, d.delivered_at is not None),
        delivered_at=d.delivered_at,
    )
