"""Case tables and the request/response schemas of the case API."""

from api.models.cases.tables import (
    Case,
    CaseAlert,
    CaseAssignment,
    CaseDialogue,
    CaseEvent,
    CaseParty,
    ChainCheckpoint,
    DuplicateDismissal,
)

__all__ = [
    "Case",
    "CaseAlert",
    "CaseAssignment",
    "CaseDialogue",
    "CaseEvent",
    "CaseParty",
    "ChainCheckpoint",
    "DuplicateDismissal",
]
