"""Telemetry state, partitioned history with retention, and the job queue (what the worker keeps)

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATE_TABLES = ("backup_job_state", "link_state", "agent_state", "failover_event")
PARTITIONED = {"backup_run": "run_at", "restore_test": "started_at", "link_sample": "sampled_at", "link_sample_5m": "bucket"}
RLS_CONDITION = "msp_id = app_msp_id() AND app_practice_visible(practice_id)"

# Partitions are created and dropped by the worker (the application role), which owns nothing:
# these SECURITY DEFINER functions do it for it, for these four tables only, and the retention
# floors live here (not in an argument) so that no caller can shorten the HIPAA evidence period.
PARTITION_FUNCTIONS = r"""
CREATE FUNCTION telemetry_partition_specs() RETURNS TABLE (tbl text, keycol text, unit text, keep interval)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('backup_run', 'run_at', 'month', interval '6 years'),
         ('restore_test', 'started_at', 'month', interval '6 years'),
         ('link_sample', 'sampled_at', 'day', interval '14 days'),
         ('link_sample_5m', 'bucket', 'month', interval '13 months')
$$;

CREATE FUNCTION telemetry_create_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  s record; lo timestamptz; hi timestamptz; stop timestamptz; part text; created integer := 0; moved bigint;
BEGIN
  IF p_to - p_from > interval '7 years' THEN
    RAISE EXCEPTION 'refusing to create partitions for more than 7 years at once';
  END IF;
  FOR s IN SELECT * FROM telemetry_partition_specs() LOOP
    lo := date_trunc(s.unit, p_from, 'UTC');
    stop := p_to;
    IF s.unit = 'day' THEN
      -- Raw samples are kept 14 days and never stored older: daily partitions only near today.
      lo := greatest(lo, date_trunc('day', now() - interval '15 days', 'UTC'));
      stop := least(p_to, now() + interval '15 days');
    END IF;
    WHILE lo < stop LOOP
      hi := (lo AT TIME ZONE 'UTC' + ('1 ' || s.unit)::interval) AT TIME ZONE 'UTC';
      part := s.tbl || '_p' || to_char(lo AT TIME ZONE 'UTC', CASE s.unit WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
      IF to_regclass(part) IS NULL THEN
        -- Rows that landed in the default partition for this range move into the new one.
        EXECUTE format('SELECT count(*) FROM %I WHERE %I >= $1 AND %I < $2', s.tbl || '_default', s.keycol, s.keycol)
          INTO moved USING lo, hi;
        IF moved = 0 THEN
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, s.tbl, lo, hi);
        ELSE
          EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, s.tbl);
          EXECUTE format('WITH m AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM m',
                         s.tbl || '_default', s.keycol, s.keycol, part) USING lo, hi;
          EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', s.tbl, part, lo, hi);
        END IF;
        -- A partition read directly (not through its parent) must still see one tenant only.
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (%s) WITH CHECK (%s)', part,
                       'msp_id = app_msp_id() AND app_practice_visible(practice_id)',
                       'msp_id = app_msp_id() AND app_practice_visible(practice_id)');
        created := created + 1;
      END IF;
      lo := hi;
    END LOOP;
  END LOOP;
  RETURN created;
END $$;

CREATE FUNCTION telemetry_drop_expired_partitions() RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  s record; c record; hi timestamptz;
BEGIN
  FOR s IN SELECT * FROM telemetry_partition_specs() LOOP
    FOR c IN SELECT k.relname, pg_get_expr(k.relpartbound, k.oid) AS bound
               FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
              WHERE i.inhparent = s.tbl::regclass AND k.relname <> s.tbl || '_default' LOOP
      hi := substring(c.bound FROM 'TO \(''([^'']+)''\)')::timestamptz;
      IF hi <= now() - s.keep THEN
        EXECUTE format('DROP TABLE %I', c.relname);
        RETURN NEXT c.relname;
      END IF;
    END LOOP;
    EXECUTE format('DELETE FROM %I WHERE %I < $1', s.tbl || '_default', s.keycol) USING now() - s.keep;
  END LOOP;
END $$;
"""

# The worker sees one tenant at a time; these functions answer the few questions that span
# tenants (who has pending telemetry, whose agents fell silent) and purge the processed inbox.
WORKER_FUNCTIONS = r"""
CREATE FUNCTION telemetry_pending_msps() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  -- A loose index scan over the pending index: one probe per MSP, however deep the backlog.
  WITH RECURSIVE m(id) AS (
    (SELECT msp_id FROM telemetry_event WHERE processed_at IS NULL ORDER BY msp_id LIMIT 1)
    UNION ALL
    SELECT (SELECT e.msp_id FROM telemetry_event e WHERE e.processed_at IS NULL AND e.msp_id > m.id
             ORDER BY e.msp_id LIMIT 1)
      FROM m WHERE m.id IS NOT NULL)
  SELECT id FROM m WHERE id IS NOT NULL
$$;

-- Silent = nothing heard for the heartbeat interval plus a grace of two intervals.
CREATE FUNCTION telemetry_newly_silent_agents() RETURNS TABLE (msp_id uuid, agent_id uuid, practice_id uuid, silent_since timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT a.msp_id, a.id, a.practice_id,
         coalesce(a.last_seen_at, a.created_at) + make_interval(secs => a.heartbeat_interval_seconds * 3)
    FROM agent a
    LEFT JOIN agent_state s ON s.msp_id = a.msp_id AND s.agent_id = a.id
   WHERE a.revoked_at IS NULL
     AND coalesce(a.last_seen_at, a.created_at) < now() - make_interval(secs => a.heartbeat_interval_seconds * 3)
     AND s.silent_since IS NULL
$$;

-- The inbox is the dedup log for the 30-day ingest window; a day of margin, then processed rows go.
CREATE FUNCTION telemetry_purge_processed(max_rows integer) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH d AS (
    DELETE FROM telemetry_event WHERE (msp_id, seq) IN (
      SELECT msp_id, seq FROM telemetry_event
       WHERE processed_at IS NOT NULL AND occurred_at < now() - interval '31 days'
       LIMIT least(max_rows, 100000))
    RETURNING 1)
  SELECT count(*) FROM d
$$;
"""

# The functions above run as the owner; with FORCE ROW LEVEL SECURITY the owner is filtered too
# (unless it is a superuser), so the owner gets its own policy on the tables they read.
OWNER_POLICY_TABLES = ("telemetry_event", "agent", "agent_state")


def _raw(sql: str) -> None:
    """Run SQL as written: no parameter parsing (function bodies hold % and :), several statements."""
    op.get_bind().connection.dbapi_connection.cursor().execute(sql)


def _procrastinate_schema() -> str:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def upgrade() -> None:
    op.create_table(
        "backup_job_state",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("backup_job_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_exit_code", sa.Integer(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_restore_point_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("running_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_duration_seconds", sa.Double(), nullable=True),
        sa.Column("last_bytes", sa.BigInteger(), nullable=True),
        sa.Column("baseline_duration_seconds", sa.Double(), nullable=True),
        sa.Column("baseline_bytes", sa.BigInteger(), nullable=True),
        sa.Column("last_log_tail", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "backup_job_id"], ["backup_job.msp_id", "backup_job.id"],
                                name="fk_backup_job_state_job", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_backup_job_state_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_backup_job_state_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "backup_job_id", name=op.f("pk_backup_job_state")),
    )
    op.create_table(
        "link_state",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=True),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sample_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loss_pct", sa.Double(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("jitter_ms", sa.Double(), nullable=True),
        sa.Column("flaps_last_hour", sa.Integer(), nullable=False),
        sa.Column("transitions", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("on_backup_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "link_id"], ["link.msp_id", "link.id"], name="fk_link_state_link", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_link_state_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_link_state_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "link_id", name=op.f("pk_link_state")),
    )
    op.create_table(
        "agent_state",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("silent_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "agent_id"], ["agent.msp_id", "agent.id"], name="fk_agent_state_agent", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_agent_state_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_agent_state_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "agent_id", name=op.f("pk_agent_state")),
    )
    op.create_table(
        "failover_event",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("from_link_id", sa.Uuid(), nullable=False),
        sa.Column("to_link_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_failover_event_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_failover_event_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=op.f("pk_failover_event")),
        sa.UniqueConstraint("msp_id", "from_link_id", "to_link_id", "started_at",
                            name=op.f("uq_failover_event_msp_id_from_link_id_to_link_id_started_at")),
    )
    op.create_index("ix_failover_event_site", "failover_event", ["msp_id", "site_id", "started_at"])

    op.create_table(
        "backup_run",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("backup_job_id", sa.Uuid(), nullable=False),
        sa.Column("run_key", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("files", sa.BigInteger(), nullable=True),
        sa.Column("restore_point_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot_id", sa.String(length=128), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("report_event_id", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_backup_run_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_backup_run_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "id", "run_at", name=op.f("pk_backup_run")),
        sa.UniqueConstraint("msp_id", "backup_job_id", "run_key", "run_at",
                            name=op.f("uq_backup_run_msp_id_backup_job_id_run_key_run_at")),
        postgresql_partition_by="RANGE (run_at)",
    )
    op.create_index("ix_backup_run_job_finished", "backup_run", ["msp_id", "backup_job_id", "finished_at"])
    op.create_table(
        "restore_test",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("backup_job_id", sa.Uuid(), nullable=True),
        sa.Column("system_id", sa.Uuid(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("report_event_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_restore_test_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_restore_test_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "id", "started_at", name=op.f("pk_restore_test")),
        sa.UniqueConstraint("msp_id", "source_id", "report_event_id", "started_at",
                            name=op.f("uq_restore_test_msp_id_source_id_report_event_id_started_at")),
        postgresql_partition_by="RANGE (started_at)",
    )
    op.create_index("ix_restore_test_job", "restore_test", ["msp_id", "backup_job_id", "finished_at"])
    op.create_index("ix_restore_test_system", "restore_test", ["msp_id", "system_id", "finished_at"])
    op.create_table(
        "link_sample",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("loss_pct", sa.Double(), nullable=True),
        sa.Column("jitter_ms", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_link_sample_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_link_sample_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "link_id", "sampled_at", "event_seq", name=op.f("pk_link_sample")),
        postgresql_partition_by="RANGE (sampled_at)",
    )
    op.create_table(
        "link_sample_5m",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("up_samples", sa.Integer(), nullable=False),
        sa.Column("latency_sum", sa.Numeric(), nullable=False),
        sa.Column("latency_count", sa.Integer(), nullable=False),
        sa.Column("latency_max", sa.Double(), nullable=True),
        sa.Column("loss_sum", sa.Numeric(), nullable=False),
        sa.Column("loss_count", sa.Integer(), nullable=False),
        sa.Column("jitter_sum", sa.Numeric(), nullable=False),
        sa.Column("jitter_count", sa.Integer(), nullable=False),
        sa.Column("last_sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"],
                                name="fk_link_sample_5m_practice", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f("fk_link_sample_5m_msp_id_msp"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "link_id", "bucket", name=op.f("pk_link_sample_5m")),
        postgresql_partition_by="RANGE (bucket)",
    )
    for table in STATE_TABLES:
        enable_tenant_rls(table)
    for table in PARTITIONED:
        enable_tenant_rls(table)
        # Catches rows outside the created partitions (a late report, a clock far off) so that
        # nothing acknowledged is ever refused by the database; upkeep moves them out.
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        op.execute(f"ALTER TABLE {table}_default ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table}_default FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table}_default USING ({RLS_CONDITION}) WITH CHECK ({RLS_CONDITION})")

    _raw(PARTITION_FUNCTIONS)
    _raw(WORKER_FUNCTIONS)
    for table in OWNER_POLICY_TABLES:
        op.execute(f"CREATE POLICY owner_maintenance ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
    # The ingest window reaches 30 days back; partitions ahead are the upkeep task's job.
    op.execute("SELECT telemetry_create_partitions(now() - interval '32 days', now() + interval '2 months')")

    _raw(_procrastinate_schema())


def downgrade() -> None:
    _raw("""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'procrastinate\\_%' LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\\_%' LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.f);
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c') LOOP
    EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
  END LOOP;
END $$;
""")
    for table in OWNER_POLICY_TABLES:
        op.execute(f"DROP POLICY IF EXISTS owner_maintenance ON {table}")
    op.execute("DROP FUNCTION telemetry_purge_processed(integer)")
    op.execute("DROP FUNCTION telemetry_newly_silent_agents()")
    op.execute("DROP FUNCTION telemetry_pending_msps()")
    op.execute("DROP FUNCTION telemetry_drop_expired_partitions()")
    op.execute("DROP FUNCTION telemetry_create_partitions(timestamptz, timestamptz)")
    op.execute("DROP FUNCTION telemetry_partition_specs()")
    for table in (*PARTITIONED, *STATE_TABLES):
        disable_tenant_rls(table)
    # Dropping a partitioned table drops its partitions (and their policies) with it.
    op.drop_table("link_sample_5m")
    op.drop_table("link_sample")
    op.drop_index("ix_restore_test_system", table_name="restore_test")
    op.drop_index("ix_restore_test_job", table_name="restore_test")
    op.drop_table("restore_test")
    op.drop_index("ix_backup_run_job_finished", table_name="backup_run")
    op.drop_table("backup_run")
    op.drop_index("ix_failover_event_site", table_name="failover_event")
    op.drop_table("failover_event")
    op.drop_table("agent_state")
    op.drop_table("link_state")
    op.drop_table("backup_job_state")
