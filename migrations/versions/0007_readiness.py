"""Readiness scores, findings snapshots and monthly reports

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PRACTICE_SCOPED = ("readiness_current", "readiness_dirty", "readiness_snapshot", "readiness_report")

# The worker runs as the application role and cannot list tenants across MSPs (RLS); these two
# functions tell it which MSPs to visit, and nothing else.
FUNCTIONS = """
CREATE FUNCTION readiness_msps() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT id FROM msp ORDER BY id $$;
CREATE FUNCTION readiness_dirty_msps() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
$$ SELECT DISTINCT msp_id FROM readiness_dirty $$;
"""


def _practice_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_practice")


def _msp_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], ondelete="CASCADE", name=f"fk_{table}_msp_id_msp")


def upgrade() -> None:
    op.create_table(
        "readiness_weights",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        *[sa.Column(f"{c}_points", sa.Integer(), nullable=False)
          for c in ("plan", "backups", "connectivity", "testing", "people", "critical", "high", "medium", "low")],
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("plan_points + backups_points + connectivity_points + testing_points + people_points = 100",
                           name="ck_readiness_weights_components_sum_to_100"),
        sa.CheckConstraint("least(plan_points, backups_points, connectivity_points, testing_points, people_points) >= 0",
                           name="ck_readiness_weights_components_not_negative"),
        sa.CheckConstraint("least(critical_points, high_points, medium_points, low_points) >= 0"
                           " AND greatest(critical_points, high_points, medium_points, low_points) <= 100",
                           name="ck_readiness_weights_deductions_range"),
        _msp_fk("readiness_weights"),
        sa.PrimaryKeyConstraint("msp_id", "id", name="pk_readiness_weights"),
        sa.UniqueConstraint("msp_id", name="uq_readiness_weights_msp_id"),
    )
    op.create_table(
        "readiness_current",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("components", pg.JSONB(), nullable=False),
        sa.Column("findings", pg.JSONB(), nullable=False),
        sa.Column("sources", pg.JSONB(), nullable=False),
        sa.Column("inputs_hash", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_readiness_current_score_range"),
        sa.CheckConstraint("status IN ('ready', 'at_risk', 'not_ready')", name="ck_readiness_current_status_known"),
        _msp_fk("readiness_current"),
        _practice_fk("readiness_current"),
        sa.PrimaryKeyConstraint("msp_id", "practice_id", name="pk_readiness_current"),
    )
    op.create_index("ix_readiness_current_score", "readiness_current", ["msp_id", "score", "practice_id"])
    op.create_table(
        "readiness_dirty",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _msp_fk("readiness_dirty"),
        _practice_fk("readiness_dirty"),
        sa.PrimaryKeyConstraint("msp_id", "practice_id", name="pk_readiness_dirty"),
    )
    op.create_table(
        "readiness_snapshot",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("min_score", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lost", pg.JSONB(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100 AND min_score BETWEEN 0 AND score",
                           name="ck_readiness_snapshot_score_range"),
        _msp_fk("readiness_snapshot"),
        _practice_fk("readiness_snapshot"),
        sa.PrimaryKeyConstraint("msp_id", "practice_id", "day", name="pk_readiness_snapshot"),
    )
    op.create_table(
        "readiness_report",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.Uuid(), nullable=True),
        sa.Column("generated_by_label", sa.String(320), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("kind IN ('scheduled', 'on_demand')", name="ck_readiness_report_kind_known"),
        sa.CheckConstraint("period_end > period_start", name="ck_readiness_report_period_order"),
        _msp_fk("readiness_report"),
        _practice_fk("readiness_report"),
        sa.PrimaryKeyConstraint("msp_id", "id", name="pk_readiness_report"),
    )
    op.create_index("ix_readiness_report_practice", "readiness_report", ["msp_id", "practice_id", "generated_at"])
    op.create_index("uq_readiness_report_scheduled", "readiness_report", ["msp_id", "practice_id", "period_start"],
                    unique=True, postgresql_where=sa.text("kind = 'scheduled'"))
    enable_tenant_rls("readiness_weights", None)
    for table in PRACTICE_SCOPED:
        enable_tenant_rls(table)
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS readiness_dirty_msps(); DROP FUNCTION IF EXISTS readiness_msps();")
    for table in (*PRACTICE_SCOPED, "readiness_weights"):
        disable_tenant_rls(table)
    op.drop_index("uq_readiness_report_scheduled", table_name="readiness_report")
    op.drop_index("ix_readiness_report_practice", table_name="readiness_report")
    op.drop_table("readiness_report")
    op.drop_table("readiness_snapshot")
    op.drop_table("readiness_dirty")
    op.drop_index("ix_readiness_current_score", table_name="readiness_current")
    op.drop_table("readiness_current")
    op.drop_table("readiness_weights")
