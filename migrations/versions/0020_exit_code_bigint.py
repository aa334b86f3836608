"""Exit codes as bigint; the MSP-wide dead-letter list's index

Revision ID: 0020
Revises: 0019

Ingest accepts the 32-bit unsigned exit codes Windows tools report (0xC0000005 is 3221225477),
but the columns were int4, so such a run was accepted, then set aside as too large, and its job
never showed the failure. backup_run is partitioned: altering the parent alters every partition.

Downgrade keeps every code: one past int4 is a 32-bit value, stored as the same bits read signed
(3221225477 becomes -1073741819, the form some Windows tools report anyway).

The MSP-wide list of dead letters (newest failure first, keyset-paged) had only the practice's
index, so each page sorted all of the MSP's dead letters; one bad batch can leave thousands.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_COLUMNS = (("backup_run", "exit_code"), ("backup_job_state", "last_exit_code"))


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint")
    op.create_index("ix_telemetry_dead_letter_msp_failed", "telemetry_dead_letter", ["msp_id", "last_failed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_telemetry_dead_letter_msp_failed", table_name="telemetry_dead_letter")
    for table, column in _COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE integer USING"
                   f" CASE WHEN {column} > 2147483647 THEN {column} - 4294967296 ELSE {column} END")
