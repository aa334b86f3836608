"""Ping-reported runs from each job's ping timeline, not from re-reading its pings

Revision ID: 0018
Revises: 0017

Pairing a finish with its start used to read back all of the job's pings from the 72 hours
around every batch, so the worker's cost per ping grew with the job's history. `ping_step` keeps
the applied pings keyed by (job, run id, boundary, time), so pairing and a run's log are index
look-ups next to the finish (docs/decisions/0007-ping-runs.md). The two partial indexes let the
job state read its newest restore point and open agent run without scanning every run the job
ever had. `ping_step_purge` drops steps past retention for the daily retention task (the
application role owns no table).

The backfill takes the applied pings, but the worker before 0016 also marked processed (as type
ping) the pings it set aside silently. A finish it applied left a run keyed 'ping:<event id>' at
the ping's time, so a finish without one is left out; so is a ping whose payload this statement
cannot read. A start or /log ping set aside that way cannot be told from an applied one and
joins the timeline.
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PURGE = """
CREATE FUNCTION ping_step_purge(max_rows integer) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH d AS (
    DELETE FROM ping_step WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM ping_step WHERE at < now() - interval '31 days' LIMIT least(max_rows, 100000)))
    RETURNING 1)
  SELECT count(*) FROM d
$$
"""


def upgrade() -> None:
    op.create_table(
        "ping_step",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("backup_job_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("boundary", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=64, collation="C"), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_ping_step_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_ping_step_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "backup_job_id", "run_id", "boundary", "at", "rank", "event_id",
                                name=op.f("pk_ping_step")),
    )
    op.create_index("ix_ping_step_start", "ping_step", ["msp_id", "backup_job_id", "at"], postgresql_where="kind = 'start'")
    op.create_index("ix_ping_step_at", "ping_step", ["at"], postgresql_using="brin")
    enable_tenant_rls("ping_step")
    op.execute("CREATE POLICY owner_maintenance ON ping_step TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute(PURGE)
    op.create_index("ix_backup_run_job_restore_point", "backup_run", ["msp_id", "backup_job_id", "restore_point_at"],
                    postgresql_where="status = 'success'")
    op.create_index("ix_backup_run_job_running", "backup_run", ["msp_id", "backup_job_id", "started_at"],
                    postgresql_where="status = 'running'")
    # The pings already applied join the timeline, so a finish arriving after the upgrade still
    # finds its start (the inbox keeps them for 31 days, the retention above).
    op.execute("""
INSERT INTO ping_step (msp_id, backup_job_id, run_id, boundary, at, rank, event_id, practice_id, kind, exit_code, body)
SELECT msp_id, source_id, lower(coalesce(payload->>'rid', '')), payload->>'kind' <> 'log', occurred_at,
       CASE WHEN payload->>'kind' = 'start' THEN 0 ELSE 1 END, event_id, practice_id, payload->>'kind',
       (payload->>'exit_code')::int, coalesce(payload->>'body', '')
FROM telemetry_event e WHERE type = 'ping' AND processed_at IS NOT NULL AND occurred_at > now() - interval '31 days'
  AND payload->>'kind' IN ('start', 'success', 'fail', 'log') AND length(coalesce(payload->>'rid', '')) <= 64
  AND (payload->'exit_code' IS NULL OR payload->>'exit_code' ~ '^-?[0-9]{1,9}$')
  AND (payload->>'kind' NOT IN ('success', 'fail') OR EXISTS (
        SELECT 1 FROM backup_run r WHERE r.msp_id = e.msp_id AND r.backup_job_id = e.source_id
           AND r.run_key = 'ping:' || e.event_id AND r.run_at = e.occurred_at))
ON CONFLICT DO NOTHING
""")


def downgrade() -> None:
    op.drop_index("ix_backup_run_job_running", table_name="backup_run", postgresql_where="status = 'running'")
    op.drop_index("ix_backup_run_job_restore_point", table_name="backup_run", postgresql_where="status = 'success'")
    op.execute("DROP FUNCTION ping_step_purge(integer)")
    op.execute("DROP POLICY IF EXISTS owner_maintenance ON ping_step")
    disable_tenant_rls("ping_step")
    op.drop_index("ix_ping_step_at", table_name="ping_step", postgresql_using="brin")
    op.drop_index("ix_ping_step_start", table_name="ping_step", postgresql_where="kind = 'start'")
    op.drop_table("ping_step")
