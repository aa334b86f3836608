"""Today's hourly readiness points, so a practice has a trend on its first day

Revision ID: 0021
Revises: 0020

`readiness_snapshot` holds one row per practice and UTC day, so a practice scored today has one
point and its trend reads "no trend yet" until tomorrow. `readiness_hourly` keeps the last score
and the lowest of each hour for the last two days (pruned by the daily snapshot task), and the
trend shows those points until there are two daily snapshots
(docs/decisions/0011-portfolio-ties-and-early-trend.md). The rows of the hours already scored
today start from the current scores, so the trend is there right after the upgrade.
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readiness_hourly",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("min_score", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100 AND min_score BETWEEN 0 AND score",
                           name="ck_readiness_hourly_score_range"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name="fk_readiness_hourly_msp_id_msp", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_readiness_hourly_practice", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "practice_id", "hour", name="pk_readiness_hourly"),
    )
    enable_tenant_rls("readiness_hourly")
    # The seed spans every tenant, and both tables force row-level security on their owner too (a
    # NOSUPERUSER owner would read no current score and seed nothing): lifted for this statement
    # alone, as 0017 does for its backfill.
    for table in ("readiness_current", "readiness_hourly"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute("""
INSERT INTO readiness_hourly (msp_id, practice_id, hour, score, min_score, status, updated_at)
SELECT msp_id, practice_id, date_trunc('hour', computed_at), score, score, status, computed_at
FROM readiness_current WHERE computed_at > now() - interval '2 days'
""")
    for table in ("readiness_current", "readiness_hourly"):
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    disable_tenant_rls("readiness_hourly")
    op.drop_table("readiness_hourly")
