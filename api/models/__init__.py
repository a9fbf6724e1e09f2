"""SQLModel tables and request/response schemas, one module per aggregate."""

from api.models.audit import AuditEvent
from api.models.case import Case, CaseAssignment, CaseDialogue, CaseEvent, CaseParty
from api.models.unit import Unit
from api.models.user import User

__all__ = ["AuditEvent", "Case", "CaseAssignment", "CaseDialogue", "CaseEvent", "CaseParty", "Unit", "User"]
