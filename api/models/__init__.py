"""SQLModel tables and request/response schemas, one module per aggregate."""

from api.models.audit import AuditEvent
from api.models.case import Case, CaseAssignment, CaseDialogue, CaseEvent, CaseParty
from api.models.deadline import CalendarOverride, OutboxEvent, WebhookDelivery, WebhookSubscription
from api.models.unit import Unit
from api.models.user import User

__all__ = [
    "AuditEvent", "CalendarOverride", "Case", "CaseAssignment", "CaseDialogue", "CaseEvent", "CaseParty",
    "OutboxEvent", "Unit", "User", "WebhookDelivery", "WebhookSubscription",
]
