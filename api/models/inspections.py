"""Thanh tra tỉnh's own work (plan 13/KH-UBND section IV.5): inspection plans per year with their approval and
amendments, inspections of one unit (team decision, members, course), findings per area, the conclusion issued
once, its recommendations followed to their deadline (reports, urging), and the six-month and annual report to Sở
Nội vụ frozen as submitted. Tables first, then the request and response schemas."""

from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, model_validator
from pydantic import Field as PField
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from api.models.base import created_at_column
from api.models.cases.schemas import Strict
from api.types import CleanStr, Id32, StrictDate


def _fk(target: str, *, nullable: bool = False, big: bool = False) -> Any:
    kind = sa.BigInteger if big else sa.Integer
    return Field(default=None, sa_column=sa.Column(kind, sa.ForeignKey(target), nullable=nullable))


class InspectionCriterion(SQLModel, table=True):
    """The finding areas and the rating scale as data (seeded by migration 0031; an administrator may change them
    with SQL without a release: a plan copies the scale when it is made, so a change never rewrites an old plan)."""

    __tablename__ = "inspection_criteria"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    kind: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))  # area | rating
    code: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    label: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    position: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    shortfall: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default="false"))
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default="true"))

    __table_args__ = (
        sa.UniqueConstraint("kind", "code", name="uq_inspection_criteria_kind_code"),
        sa.CheckConstraint("kind IN ('area', 'rating')", name="kind"),
    )


class InspectionPlan(SQLModel, table=True):
    """Kế hoạch kiểm tra of one year: drafted by an inspector, approved by the chief inspector's decision."""

    __tablename__ = "inspection_plans"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    year: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    title: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    status: str = Field(default="draft", sa_column=sa.Column(sa.String(16), nullable=False))
    decision_number: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    decision_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    approved_by_id: int | None = _fk("users.id", nullable=True)
    areas: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    ratings: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    created_by_id: int = _fk("users.id")
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (sa.Index("ix_inspection_plans_year", "year"),)


class InspectionPlanItem(SQLModel, table=True):
    """A unit the plan inspects: the period under review and the planned month (of the plan's year)."""

    __tablename__ = "inspection_plan_items"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    plan_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("inspection_plans.id", ondelete="CASCADE"), nullable=False)
    )
    unit_id: int = _fk("units.id")
    review_period: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    review_start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    review_end: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    planned_month: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    added_by_amendment_id: int | None = _fk("inspection_plan_amendments.id", nullable=True)
    removed_by_amendment_id: int | None = _fk("inspection_plan_amendments.id", nullable=True)

    __table_args__ = (
        sa.Index("ix_inspection_plan_items_plan_id", "plan_id"),
        sa.CheckConstraint("planned_month BETWEEN 1 AND 12", name="month"),
    )


class InspectionPlanAmendment(SQLModel, table=True):
    """A change to an approved plan, with its own decision (number and date) and what it changed."""

    __tablename__ = "inspection_plan_amendments"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    plan_id: int = _fk("inspection_plans.id")
    decision_number: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    decision_date: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False))
    decided_by_id: int = _fk("users.id")
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class Inspection(SQLModel, table=True):
    """Cuộc kiểm tra of one unit: the team decision, the members, the period under review, the dates, the course."""

    __tablename__ = "inspections"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    plan_item_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("inspection_plan_items.id"), unique=True)
    )
    unit_id: int = _fk("units.id")
    year: int = Field(sa_column=sa.Column(sa.SmallInteger, nullable=False))
    status: str = Field(default="planned", sa_column=sa.Column(sa.String(16), nullable=False))
    review_period: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    review_start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    review_end: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    decision_number: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    decision_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    members: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    start_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    end_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    cancel_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000)))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False))
    created_by_id: int = _fk("users.id")
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (
        sa.Index("ix_inspections_unit_id", "unit_id"),
        sa.Index("ix_inspections_year_status", "year", "status"),
    )


class InspectionConclusion(SQLModel, table=True):
    """Kết luận kiểm tra: drafted by an inspector, issued once by the chief inspector's signature (number, date,
    text, and the evaluation's figures as they stood)."""

    __tablename__ = "inspection_conclusions"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    inspection_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("inspections.id"), nullable=False, unique=True)
    )
    number: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    conclusion_date: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    draft_recommendations: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONB, nullable=False)
    )
    figures: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    drafted_by_id: int = _fk("users.id")
    signed_by_id: int | None = _fk("users.id", nullable=True)
    signed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class Recommendation(SQLModel, table=True):
    """Kiến nghị of an issued conclusion: the unit responsible, what must be done, the deadline, its course."""

    __tablename__ = "inspection_recommendations"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    conclusion_id: int = _fk("inspection_conclusions.id")
    inspection_id: int = _fk("inspections.id")
    unit_id: int = _fk("units.id")
    action: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    deadline: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    status: str = Field(default="open", sa_column=sa.Column(sa.String(16), nullable=False))
    done_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    issued_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    urged_count: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    last_urged_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))

    __table_args__ = (
        sa.Index("ix_inspection_recommendations_deadline", "deadline", "id"),
        sa.Index("ix_inspection_recommendations_unit_id", "unit_id"),
    )


class RecommendationReport(SQLModel, table=True):
    """What the inspected unit's head reports was done (date, document), and the inspector's decision on it."""

    __tablename__ = "recommendation_reports"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    recommendation_id: int = _fk("inspection_recommendations.id")
    done_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    document_ref: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    text: str = Field(sa_column=sa.Column(sa.String(4000), nullable=False))
    reported_by_id: int = _fk("users.id")
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    decision: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))  # accepted | rejected
    decision_note: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000)))
    decided_by_id: int | None = _fk("users.id", nullable=True)
    decided_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))

    __table_args__ = (sa.Index("ix_recommendation_reports_recommendation_id", "recommendation_id"),)


class RecommendationUrge(SQLModel, table=True):
    """Đôn đốc: the inspectorate urged the responsible unit on an overdue recommendation (as on an overdue case)."""

    __tablename__ = "recommendation_urges"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    recommendation_id: int = _fk("inspection_recommendations.id")
    urged_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000)))
    actor_id: int = _fk("users.id")
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

    __table_args__ = (sa.Index("ix_recommendation_urges_recommendation_id", "recommendation_id"),)


class InspectorateReport(SQLModel, table=True):
    """The six-month or annual report of Thanh tra tỉnh to Sở Nội vụ as submitted: never changed (the application
    role may only insert and read it, migration 0031); the live figures are compared with it."""

    __tablename__ = "inspectorate_reports"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    period: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, unique=True))
    start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    end: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    figures: dict[str, Any] = Field(sa_column=sa.Column(JSONB, nullable=False))
    submitted_by_id: int = _fk("users.id")
    submitted_at: datetime | None = Field(default=None, sa_column=created_at_column())


# ---- request bodies ----

Text2000 = PField(min_length=1, max_length=2000)


class PlanItemIn(Strict):
    unit_id: Id32
    review_period: str = PField(max_length=16, description="Kỳ được kiểm tra: YYYY, YYYY-H1, YYYY-Qn, YYYY-9M")
    planned_month: int = PField(ge=1, le=12, description="Tháng dự kiến kiểm tra (trong năm của kế hoạch)")


class PlanIn(Strict):
    year: int = PField(ge=2000, le=2100)
    title: CleanStr = PField(min_length=1, max_length=500)
    subject: CleanStr = PField(
        default="Trách nhiệm thực hiện pháp luật về tiếp công dân, khiếu nại, tố cáo", min_length=1, max_length=2000
    )
    items: list[PlanItemIn] = PField(min_length=1, max_length=200)


class DecisionIn(Strict):
    decision_number: CleanStr = PField(min_length=1, max_length=64)
    decision_date: StrictDate


class RescheduleIn(Strict):
    item_id: Id32
    planned_month: int = PField(ge=1, le=12)


class AmendmentIn(DecisionIn):
    reason: CleanStr = Text2000
    add: list[PlanItemIn] = PField(default_factory=list, max_length=100)
    remove: list[Id32] = PField(default_factory=list, max_length=100)
    reschedule: list[RescheduleIn] = PField(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> "AmendmentIn":
        if not (self.add or self.remove or self.reschedule):
            raise ValueError("an amendment adds, removes or reschedules at least one unit")
        return self


class InspectionIn(Strict):
    plan_item_id: Id32 | None = PField(default=None, description="The plan's line; or give unit_id and the period")
    unit_id: Id32 | None = None
    review_period: str | None = PField(default=None, max_length=16)


class MemberIn(Strict):
    user_id: Id32 | None = PField(default=None, description="An inspector with an account; or a name without one")
    full_name: CleanStr | None = PField(default=None, min_length=1, max_length=255)
    organisation: CleanStr | None = PField(default=None, max_length=255, description="e.g. Ban Dân vận Tỉnh ủy")
    role: Literal["head", "deputy", "member"] = "member"

    @model_validator(mode="after")
    def _who(self) -> "MemberIn":
        if (self.user_id is None) == (self.full_name is None):
            raise ValueError("a member is an account (user_id) or a named invited member (full_name), not both")
        return self


class DecideIn(DecisionIn):
    members: list[MemberIn] = PField(min_length=1, max_length=30)


class StartIn(Strict):
    start_date: StrictDate


class CancelIn(Strict):
    reason: CleanStr = Text2000


class FindingIn(Strict):
    area: str = PField(max_length=32)
    rating: str = PField(max_length=32)
    text: CleanStr = PField(default="", max_length=8000)


class EvaluationIn(Strict):
    findings: list[FindingIn] = PField(min_length=1, max_length=20)


class RecommendationIn(Strict):
    unit_id: Id32 = PField(description="The unit responsible")
    action: CleanStr = Text2000
    deadline: StrictDate


class ConclusionIn(Strict):
    number: CleanStr = PField(min_length=1, max_length=64)
    conclusion_date: StrictDate
    text: CleanStr = PField(min_length=1, max_length=50_000)
    end_date: StrictDate | None = PField(default=None, description="Last day of the team's work; default the date")
    recommendations: list[RecommendationIn] = PField(default_factory=list, max_length=50)


class ReportIn(Strict):
    done_on: StrictDate
    document_ref: CleanStr = PField(min_length=1, max_length=255)
    text: CleanStr = PField(min_length=1, max_length=4000)


class ReportDecisionIn(Strict):
    decision: Literal["accepted", "rejected"]
    note: CleanStr | None = PField(default=None, max_length=2000)


class UrgeRecommendationsIn(Strict):
    unit_id: Id32
    recommendation_ids: list[Id32] | None = PField(default=None, min_length=1, max_length=500)
    reason: CleanStr | None = PField(default=None, max_length=2000)


class InspectorateSubmissionIn(Strict):
    period: str = PField(max_length=16, description="YYYY-H1 or YYYY")
    provisional: bool = PField(
        default=False,
        description="Báo cáo tạm: required to submit before the period's data window ends (the window, to 14 June "
        "or 14 December, ends after the due date, 10 June or 5 December); recorded in the frozen report.",
    )


# ---- responses ----


class PlanItemOut(BaseModel):
    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    review_period: str
    review_start: date
    review_end: date
    planned_month: int
    added_by_amendment_id: int | None
    removed_by_amendment_id: int | None
    inspection_id: int | None


class AmendmentOut(BaseModel):
    id: int
    decision_number: str
    decision_date: date
    reason: str
    changes: dict[str, Any]
    decided_by_id: int


class PlanOut(BaseModel):
    id: int
    year: int
    title: str
    subject: str
    status: str
    decision_number: str | None
    decision_date: date | None
    approved_by_id: int | None
    areas: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    items: list[PlanItemOut]
    amendments: list[AmendmentOut]


class PlanSummaryOut(BaseModel):
    id: int
    year: int
    title: str
    status: str
    decision_number: str | None
    decision_date: date | None
    units: int


class InspectionOut(BaseModel):
    id: int
    plan_item_id: int | None
    unit_id: int
    unit_code: str
    unit_name: str
    year: int
    status: str
    review_period: str
    review_start: date
    review_end: date
    decision_number: str | None
    decision_date: date | None
    members: list[dict[str, Any]]
    start_date: date | None
    end_date: date | None
    cancel_reason: str | None
    allowed_actions: list[str]


class FigureOut(BaseModel):
    key: str
    label: str
    value: int | float | None
    source: str
    link: str | None = PField(
        description="The API list of exactly the items counted (value == its item count over every page); null where "
        "no list reproduces the count — the figure is then read at `source` / `source_link`"
    )
    source_link: str | None = PField(default=None, description="the report form or report the figure is read from")
    start: date | None = PField(description="first day the figure counts")
    end: date | None = PField(description="last day the figure counts (for a figure as of today: today)")


class FindingOut(BaseModel):
    area: str
    area_label: str
    rating: str
    rating_label: str
    shortfall: bool
    text: str


class EvaluationOut(BaseModel):
    inspection_id: int
    unit_id: int
    review_period: str
    review_start: date
    review_end: date
    figures: list[FigureOut] = PField(description="as they stood at the start (snapshot_on), once started")
    snapshot_on: date | None = PField(default=None, description="the day the figures under review were kept")
    changed_since_snapshot: list[dict[str, Any]] = PField(
        default_factory=list, description="each figure whose live count differs from the snapshot: key, snapshot, live"
    )
    findings: list[FindingOut]
    areas: list[dict[str, Any]]
    ratings: list[dict[str, Any]]


class RecommendationTimerOut(BaseModel):
    deadline: date
    effective_deadline: date = PField(description="the deadline, or the next working day when it falls on a day off")
    state: str = PField(description="running, due_soon, overdue, reported, reported_late, met, met_late")
    remaining_days: int | None = PField(description="days to the effective deadline; none once reported or done")
    reported_on: date | None = PField(default=None, description="the day the report awaiting a decision was filed")


class RecommendationOut(BaseModel):
    id: int
    inspection_id: int
    conclusion_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    action: str
    deadline: date
    status: str
    done_on: date | None
    issued_on: date
    urged_count: int
    last_urged_on: date | None
    timer: RecommendationTimerOut


class ConclusionOut(BaseModel):
    id: int
    inspection_id: int
    number: str
    conclusion_date: date
    text: str
    issued: bool
    signed_by_id: int | None
    signed_at: datetime | None
    draft_recommendations: list[dict[str, Any]]
    figures: dict[str, Any] | None = PField(description="The evaluation's figures and findings as signed")
    recommendations: list[RecommendationOut]


class RecommendationReportOut(BaseModel):
    id: int
    recommendation_id: int
    done_on: date
    document_ref: str
    text: str
    reported_by_id: int
    decision: str | None
    decision_note: str | None
    decided_by_id: int | None
    decided_on: date | None


class InspectorateReportOut(BaseModel):
    id: int
    period: str
    start: date
    end: date
    submitted_by_id: int
    submitted_at: datetime | None
    provisional: bool = PField(description="submitted before the period's data window ended")
    due_date: date | None
    late: bool | None = PField(description="submitted after the due date")
    figures: dict[str, Any]


class InspectorateDiffOut(BaseModel):
    report_id: int
    changed: bool
    changes: list[dict[str, Any]]
