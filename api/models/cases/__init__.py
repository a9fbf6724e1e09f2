"""Case tables and the request/response schemas of the case API."""

from api.models.cases.tables import (
    Case,
    CaseAssignment,
    CaseDialogue,
    CaseEvent,
    CaseParty,
    ChainCheckpoint,
    DuplicateDismissal,
)

__all__ = ["Case", "CaseAssignment", "CaseDialogue", "CaseEvent", "CaseParty", "ChainCheckpoint", "DuplicateDismissal"]
