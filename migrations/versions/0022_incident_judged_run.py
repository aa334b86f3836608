"""The run an incident judged, so readiness read from the incident still names it

Revision ID: 0022
Revises: 0021

Readiness reads its live findings from the open incidents (docs/decisions/0013-one-judgement.md).
A stale-success finding names the run it judged (by its finish time), so the Backups view labels
that run and not a good one that arrived since; the incident keeps the same field for it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incident", sa.Column("judged_run_finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("incident", "judged_run_finished_at")
