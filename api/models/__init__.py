"""SQLModel tables and request/response schemas, one module per aggregate."""

from api.models.audit import AuditEvent
from api.models.auth import LoginAttempt
from api.models.blobs import AttachmentChunk
from api.models.calendar import CacheVersion, CalendarOverride
from api.models.cases import Case, CaseAlert, CaseAssignment, CaseDialogue, CaseEvent, CaseParty, ChainCheckpoint
from api.models.inspections import (
    Inspection,
    InspectionConclusion,
    InspectionCriterion,
    InspectionPlan,
    InspectionPlanAmendment,
    InspectionPlanItem,
    InspectorateReport,
    Recommendation,
    RecommendationReport,
    RecommendationUrge,
)
from api.models.keys import KeyCheck
from api.models.public import ApiKey, ApiKeyUsage, Attachment, CaseRating, UploadQuota
from api.models.reception import ReceptionCounter, ReceptionEntry, ReceptionSession
from api.models.stats import CaseFact, StatReport
from api.models.stats_cache import StatsCacheEntry, StatsDataVersion
from api.models.unit import Unit
from api.models.user import User
from api.models.webhooks import OutboxEvent, WebhookDelivery, WebhookSubscription

__all__ = [
    "StatsCacheEntry",
    "StatsDataVersion",
    "ApiKey",
    "ApiKeyUsage",
    "Attachment",
    "AttachmentChunk",
    "CaseRating",
    "CaseAlert",
    "AuditEvent",
    "CacheVersion",
    "CalendarOverride",
    "Case",
    "CaseAssignment",
    "CaseDialogue",
    "CaseEvent",
    "CaseFact",
    "CaseParty",
    "ChainCheckpoint",
    "Inspection",
    "InspectionConclusion",
    "InspectionCriterion",
    "InspectionPlan",
    "InspectionPlanAmendment",
    "InspectionPlanItem",
    "InspectorateReport",
    "KeyCheck",
    "LoginAttempt",
    "OutboxEvent",
    "ReceptionCounter",
    "ReceptionEntry",
    "ReceptionSession",
    "Recommendation",
    "RecommendationReport",
    "RecommendationUrge",
    "StatReport",
    "Unit",
    "UploadQuota",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
