"""Statistics for the inspectorate: submitted (frozen) report forms."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel as PydanticModel
from pydantic import Field as PydanticField
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.models.cases.schemas import Strict
from api.types import Id32


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


class ReportSubmissionIn(Strict):
    """A unit's report for a period, to be frozen (`POST /stats/forms/{form}/submissions`). Not the citizen's
    `SubmissionIn` (api/models/public.py): one schema name each, so client generators keep both."""

    period: str = PydanticField(max_length=16, description="YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-9M or YYYY")
    unit_id: Id32 | None = PydanticField(default=None, description="Default: your unit")


# One figure of a frozen report that differs from the live count (`GET …/reports/{id}/diff`).
class DiffItemOut(PydanticModel):
    type: str
    unit_id: int | None
    unit_code: str
    column: str
    number: int
    submitted: int | float
    live: int | float


class CaseFact(SQLModel, table=True):
    """What the statistics count of each case, in a narrow row (about a tenth of a case row): kept by a trigger
    on `cases` in the same transaction as every change (migration 0016), so the forms read a small table and
    never the letters' text."""

    __tablename__ = "case_facts"

    case_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    field: str = Field(sa_column=sa.Column(sa.String(24), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    receiving_unit_id: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    competent_unit_id: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    received_at: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    processed_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    processed_as: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    accepted_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    settled_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.String(24)))
    reason_code: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    resolution_late: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean))
    complaint_round: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger))
    repeat_of_case_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    # A second-round complaint's first round, or a further denunciation's earlier one (LTC art. 38.1; migration 0024).
    previous_case_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    enforced_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    remedies: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    enforcement: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    next_due_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))

    __table_args__ = (
        sa.Index("ix_case_facts_due", "next_due_date", postgresql_where=sa.text("next_due_date IS NOT NULL")),
        sa.Index("ix_case_facts_received", "received_at"),
        # Partial where a new letter has nothing yet: an intake adds entries to the primary key, `received` and
        # `unprocessed` only.
        sa.Index("ix_case_facts_processed", "processed_on", postgresql_where=sa.text("processed_on IS NOT NULL")),
        sa.Index("ix_case_facts_unprocessed", "receiving_unit_id", postgresql_where=sa.text("processed_on IS NULL")),
        sa.Index("ix_case_facts_settled", "settled_on", postgresql_where=sa.text("settled_on IS NOT NULL")),
        sa.Index(
            "ix_case_facts_unsettled",
            "competent_unit_id",
            postgresql_where=sa.text("settled_on IS NULL AND accepted_on IS NOT NULL"),
        ),
        sa.Index("ix_case_facts_enforced", "enforced_on", postgresql_where=sa.text("enforced_on IS NOT NULL")),
        sa.Index(
            "ix_case_facts_unenforced",
            "competent_unit_id",
            postgresql_where=sa.text("enforced_on IS NULL AND outcome IS NOT NULL"),
        ),
    )
