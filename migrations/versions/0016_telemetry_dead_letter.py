"""Dead letters: events the worker set aside, batches ingest refused, and stalled MSPs

Revision ID: 0016
Revises: 0015

The worker used to set aside, one by one and with only a log line, any event whose batch raised
ValueError, KeyError or TypeError, so a bug in the appliers quietly discarded telemetry. Now only an
event that is itself invalid is set aside, into `telemetry_dead_letter`, which the MSP sees and can
replay or discard; a failing batch is retried and recorded in `telemetry_stall`; and what ingest
refuses is kept per agent in `ingest_refusal` (docs/decisions/0006-dead-letters.md).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


# Retention, across tenants (the daily telemetry.retention task): a dead letter resolved (sent
# again or discarded) more than 180 days ago, and a stall whose oldest event has long gone through.
# Open dead letters stay until someone decides. The owner gets its own policy, as in 0005.
PURGE = """
CREATE FUNCTION telemetry_purge_dead_letters(max_rows integer) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH d AS (
    DELETE FROM telemetry_dead_letter WHERE (msp_id, id) IN (
      SELECT msp_id, id FROM telemetry_dead_letter
       WHERE resolved_at < now() - interval '180 days' LIMIT least(max_rows, 100000))
    RETURNING 1),
  s AS (
    DELETE FROM telemetry_stall s WHERE s.last_failed_at < now() - interval '1 day'
       AND NOT EXISTS (SELECT 1 FROM telemetry_event e WHERE e.msp_id = s.msp_id AND e.seq = s.first_seq
                          AND e.processed_at IS NULL))
  SELECT count(*) FROM d
$$;
"""
OWNER_POLICY_TABLES = ("telemetry_dead_letter", "telemetry_stall")


def _tenant_columns(table: str) -> list:
    return [
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], ondelete="CASCADE", name=f"fk_{table}_msp_id_msp"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=f"pk_{table}"),
    ]


def _when(name: str, nullable: bool = False, now: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()") if now else None, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "telemetry_dead_letter",
        *_tenant_columns("telemetry_dead_letter"),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        _when("occurred_at"),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", sa.String(100), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("first_failed_at", now=True),
        _when("last_failed_at", now=True),
        sa.Column("replay_count", sa.Integer(), nullable=False),
        _when("replayed_at", nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["resolved_by"], ["app_user.id"], ondelete="SET NULL",
                                name="fk_telemetry_dead_letter_resolved_by_app_user"),
        sa.UniqueConstraint("source_id", "event_id", "msp_id", name="uq_telemetry_dead_letter_source_id_event_id_msp_id"),
    )
    op.create_index("ix_telemetry_dead_letter_practice", "telemetry_dead_letter", ["practice_id", "msp_id", "last_failed_at"])
    enable_tenant_rls("telemetry_dead_letter")

    op.create_table(
        "ingest_refusal",
        *_tenant_columns("ingest_refusal"),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body_excerpt", sa.Text(), nullable=False),
        sa.Column("body_bytes", sa.Integer(), nullable=False),
        sa.Column("body_digest", sa.LargeBinary(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        _when("last_at", now=True),
        sa.ForeignKeyConstraint(["msp_id", "agent_id"], ["agent.msp_id", "agent.id"], ondelete="CASCADE",
                                name="fk_ingest_refusal_agent"),
    )
    op.create_index("ix_ingest_refusal_agent", "ingest_refusal", ["agent_id", "msp_id", "last_at"])
    enable_tenant_rls("ingest_refusal")

    op.create_table(
        "telemetry_stall",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        _when("since"),
        _when("last_failed_at"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(100), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], ondelete="CASCADE", name="fk_telemetry_stall_msp_id_msp"),
        sa.PrimaryKeyConstraint("msp_id", name="pk_telemetry_stall"),
    )
    enable_tenant_rls("telemetry_stall", practice_column=None)
    for table in OWNER_POLICY_TABLES:
        op.execute(f"CREATE POLICY owner_maintenance ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute(PURGE)


def downgrade() -> None:
    # The dead letter holds the only copy of a set-aside event's type: put it back on the inbox row
    # (as it stays processed, the older worker does not apply it again). Every tenant's rows, so the
    # owner lifts the forced row-level security for this statement.
    for table in ("telemetry_event", "telemetry_dead_letter"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE telemetry_event e SET type = d.type FROM telemetry_dead_letter d"
               " WHERE e.msp_id = d.msp_id AND e.seq = d.event_seq AND e.type = 'set_aside'")
    op.execute("ALTER TABLE telemetry_event FORCE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION telemetry_purge_dead_letters(integer)")
    for table in OWNER_POLICY_TABLES:
        op.execute(f"DROP POLICY IF EXISTS owner_maintenance ON {table}")
    for table in ("telemetry_stall", "ingest_refusal", "telemetry_dead_letter"):
        disable_tenant_rls(table)
    op.drop_table("telemetry_stall")
    op.drop_index("ix_ingest_refusal_agent", table_name="ingest_refusal")
    op.drop_table("ingest_refusal")
    op.drop_index("ix_telemetry_dead_letter_practice", table_name="telemetry_dead_letter")
    op.drop_table("telemetry_dead_letter")
