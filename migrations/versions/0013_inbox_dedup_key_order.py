"""The inbox's dedup key leads with the source, not the MSP

Revision ID: 0013
Revises: 0012

The worker's claim marks the rows it took with `e.msp_id = :msp AND e.seq = ANY(…)`, meant for the
primary key (msp_id, seq). The unique key (msp_id, source_id, event_id) also starts with msp_id,
and for an MSP that has grown since the table was last analysed the planner believes `msp_id = :msp`
matches a row or so, so scanning that index for the MSP and filtering on seq looked cheaper than
one primary-key probe per row. It then read every row the MSP ever sent, on every claim: EXPLAIN
ANALYZE during a single-MSP benchmark stall showed 87,175 buffers for a claim that took nothing.
With the source first, that index cannot serve a scan by MSP at all (the claim now marks its rows
by TID anyway, since the primary key then showed the same plan). It still dedups exactly as
before: agents and backup jobs (the sources) belong to one MSP, and the ingest's ON CONFLICT
(msp_id, source_id, event_id) infers the index whatever its column order.

Rebuilding the index locks the table for the time it takes; the inbox holds days of telemetry.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_telemetry_event_msp_id_source_id_event_id", "telemetry_event", type_="unique")
    op.create_unique_constraint("uq_telemetry_event_source_id_event_id_msp_id", "telemetry_event",
                                ["source_id", "event_id", "msp_id"])


def downgrade() -> None:
    op.drop_constraint("uq_telemetry_event_source_id_event_id_msp_id", "telemetry_event", type_="unique")
    op.create_unique_constraint("uq_telemetry_event_msp_id_source_id_event_id", "telemetry_event",
                                ["msp_id", "source_id", "event_id"])
