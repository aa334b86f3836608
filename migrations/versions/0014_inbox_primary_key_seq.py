"""The inbox's primary key leads with its sequence, not the MSP

Revision ID: 0014
Revises: 0013

Every transaction of the worker runs under row-level security, whose policy adds
`msp_id = current_setting('app.msp_id')` to each statement on the inbox. The claim marks the rows
it took by TID (claim.py), but with the primary key (msp_id, seq) that policy qualifier offered a
second plan: scan the MSP's rows through the primary key and test each one's TID against the
claimed array. For an MSP that has grown since the table was last analysed the planner believes
that scan returns a row or so, and chose it. It returned every row the MSP ever sent, each compared
with an array of up to 8,000 TIDs: EXPLAIN ANALYZE in the worker's own transaction during a
single-MSP benchmark runaway showed 169,250 rows removed by that filter and 12.7 s for one claim,
growing with each batch until autovacuum's ANALYZE caught up (an EXPLAIN on a superuser
connection, which bypasses the policy, took 0.5 s for the same claim).

The key becomes (seq, msp_id): seq is an identity column, unique on its own, and msp_id stays in the
key as on every tenant table. With it second, no index leads with msp_id except the pending index,
which a statement can use only when it asks for pending rows, so the marking UPDATE has no plan
but the TID scan. Appends now land at the key's right edge instead of in one place per MSP
(no change in ingest throughput was measurable: docs/performance.md, session 6).

Rebuilding the key locks the table for the time it takes; the inbox holds a month of telemetry.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PURGE = """
CREATE OR REPLACE FUNCTION telemetry_purge_processed(max_rows integer) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH d AS (
    DELETE FROM telemetry_event WHERE seq IN (
      SELECT seq FROM telemetry_event
       WHERE processed_at IS NOT NULL AND occurred_at < now() - interval '31 days'
       LIMIT least(max_rows, 100000))
    RETURNING 1)
  SELECT count(*) FROM d
$$;
"""

PURGE_BEFORE = PURGE.replace("WHERE seq IN (\n      SELECT seq FROM", "WHERE (msp_id, seq) IN (\n      SELECT msp_id, seq FROM")


def upgrade() -> None:
    op.drop_constraint("pk_telemetry_event", "telemetry_event", type_="primary")
    op.create_primary_key("pk_telemetry_event", "telemetry_event", ["seq", "msp_id"])
    op.execute(PURGE)


def downgrade() -> None:
    op.execute(PURGE_BEFORE)
    op.drop_constraint("pk_telemetry_event", "telemetry_event", type_="primary")
    op.create_primary_key("pk_telemetry_event", "telemetry_event", ["msp_id", "seq"])
