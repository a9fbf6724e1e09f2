"""inspections: Thanh tra tỉnh's own work (issue 25; plan 13/KH-UBND section IV.5) — inspection plans per year with
their approval and amendments, inspections of one unit (team decision, members, course, findings), conclusions
issued once with their recommendations, what the inspected units report on them and the inspectorate's urging, the
six-month and annual report to Sở Nội vụ frozen as submitted (the application role may only insert and read it),
and the finding areas and rating scale as data (`inspection_criteria`, seeded from workflows/inspections.py).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 15:40:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def _role() -> str:
    from api.settings import Settings

    role = Settings().db_app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("DB_APP_ROLE must be a plain identifier")
    return role


def _seed_criteria() -> None:
    """The finding areas and the rating scale, as the issue names them; changed later as data, never in code."""
    from workflows.inspections import DEFAULT_AREAS, DEFAULT_RATINGS

    table = sa.table(
        "inspection_criteria",
        sa.column("kind", sa.String),
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("position", sa.SmallInteger),
        sa.column("shortfall", sa.Boolean),
    )
    op.bulk_insert(
        table,
        [
            {"kind": c.kind, "code": c.code, "label": c.label, "position": c.position, "shortfall": c.shortfall}
            for c in (*DEFAULT_AREAS, *DEFAULT_RATINGS)
        ],
    )


def upgrade() -> None:
    op.create_table(
        "inspection_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("shortfall", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.CheckConstraint("kind IN ('area', 'rating')", name=op.f("ck_inspection_criteria_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_criteria")),
        sa.UniqueConstraint("kind", "code", name="uq_inspection_criteria_kind_code"),
    )
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ratings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_inspection_plans_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_inspection_plans_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
    )
    op.create_index("ix_inspection_plans_year", "inspection_plans", ["year"], unique=False)
    op.create_table(
        "inspectorate_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_inspectorate_reports_submitted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspectorate_reports")),
        sa.UniqueConstraint("period", name=op.f("uq_inspectorate_reports_period")),
    )
    op.create_table(
        "inspection_plan_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_inspection_plan_amendments_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_plan_amendments_plan_id_inspection_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plan_amendments")),
    )
    op.create_table(
        "inspection_plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("review_period", sa.String(length=32), nullable=False),
        sa.Column("review_start", sa.Date(), nullable=False),
        sa.Column("review_end", sa.Date(), nullable=False),
        sa.Column("planned_month", sa.SmallInteger(), nullable=False),
        sa.Column("added_by_amendment_id", sa.Integer(), nullable=True),
        sa.Column("removed_by_amendment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("planned_month BETWEEN 1 AND 12", name=op.f("ck_inspection_plan_items_month")),
        sa.ForeignKeyConstraint(
            ["added_by_amendment_id"],
            ["inspection_plan_amendments.id"],
            name=op.f("fk_inspection_plan_items_added_by_amendment_id_inspection_plan_amendments"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_plan_items_plan_id_inspection_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_amendment_id"],
            ["inspection_plan_amendments.id"],
            name=op.f("fk_inspection_plan_items_removed_by_amendment_id_inspection_plan_amendments"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_inspection_plan_items_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plan_items")),
    )
    op.create_index("ix_inspection_plan_items_plan_id", "inspection_plan_items", ["plan_id"], unique=False)
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_period", sa.String(length=32), nullable=False),
        sa.Column("review_start", sa.Date(), nullable=False),
        sa.Column("review_end", sa.Date(), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("members", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=2000), nullable=True),
        sa.Column("findings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_inspections_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["inspection_plan_items.id"],
            name=op.f("fk_inspections_plan_item_id_inspection_plan_items"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_inspections_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("plan_item_id", name=op.f("uq_inspections_plan_item_id")),
    )
    op.create_index("ix_inspections_unit_id", "inspections", ["unit_id"], unique=False)
    op.create_index("ix_inspections_year_status", "inspections", ["year", "status"], unique=False)
    op.create_table(
        "inspection_conclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("conclusion_date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("draft_recommendations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"], ["users.id"], name=op.f("fk_inspection_conclusions_drafted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_inspection_conclusions_inspection_id_inspections")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_inspection_conclusions_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_conclusions")),
        sa.UniqueConstraint("inspection_id", name=op.f("uq_inspection_conclusions_inspection_id")),
    )
    op.create_table(
        "inspection_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conclusion_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=2000), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("urged_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_urged_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conclusion_id"],
            ["inspection_conclusions.id"],
            name=op.f("fk_inspection_recommendations_conclusion_id_inspection_conclusions"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_inspection_recommendations_inspection_id_inspections")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_inspection_recommendations_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_recommendations")),
    )
    op.create_index(
        "ix_inspection_recommendations_deadline", "inspection_recommendations", ["deadline", "id"], unique=False
    )
    op.create_index("ix_inspection_recommendations_unit_id", "inspection_recommendations", ["unit_id"], unique=False)
    op.create_table(
        "recommendation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("document_ref", sa.String(length=255), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_recommendation_reports_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["inspection_recommendations.id"],
            name=op.f("fk_recommendation_reports_recommendation_id_inspection_recommendations"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"], ["users.id"], name=op.f("fk_recommendation_reports_reported_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_reports")),
    )
    op.create_index(
        "ix_recommendation_reports_recommendation_id", "recommendation_reports", ["recommendation_id"], unique=False
    )
    op.create_table(
        "recommendation_urges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("urged_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_recommendation_urges_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["inspection_recommendations.id"],
            name=op.f("fk_recommendation_urges_recommendation_id_inspection_recommendations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_urges")),
    )
    op.create_index(
        "ix_recommendation_urges_recommendation_id", "recommendation_urges", ["recommendation_id"], unique=False
    )

    _seed_criteria()
    role = _role()
    if role:
        op.execute(f"REVOKE UPDATE, DELETE ON inspectorate_reports FROM {role}")


def downgrade() -> None:
    op.drop_index("ix_recommendation_urges_recommendation_id", table_name="recommendation_urges")
    op.drop_table("recommendation_urges")
    op.drop_index("ix_recommendation_reports_recommendation_id", table_name="recommendation_reports")
    op.drop_table("recommendation_reports")
    op.drop_index("ix_inspection_recommendations_unit_id", table_name="inspection_recommendations")
    op.drop_index("ix_inspection_recommendations_deadline", table_name="inspection_recommendations")
    op.drop_table("inspection_recommendations")
    op.drop_table("inspection_conclusions")
    op.drop_index("ix_inspections_year_status", table_name="inspections")
    op.drop_index("ix_inspections_unit_id", table_name="inspections")
    op.drop_table("inspections")
    op.drop_index("ix_inspection_plan_items_plan_id", table_name="inspection_plan_items")
    op.drop_table("inspection_plan_items")
    op.drop_table("inspection_plan_amendments")
    op.drop_table("inspectorate_reports")
    op.drop_index("ix_inspection_plans_year", table_name="inspection_plans")
    op.drop_table("inspection_plans")
    op.drop_table("inspection_criteria")
