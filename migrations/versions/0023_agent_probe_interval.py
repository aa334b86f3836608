"""Agents say how often they probe their site's links

Revision ID: 0023
Revises: 0022

A link that stops sending samples kept its last state for ever ("down for 13 min" after 13
minutes without a sample). Each heartbeat now states the agent's `probe_interval_seconds`, kept
on the agent like its heartbeat interval (the newest heartbeat sets it; one that states none
means 60 s), and a link with no sample for N of its site's smallest probe interval is "no data"
(services/core/telemetry/liveness.py, docs/decisions/0015-links-with-no-data.md). Existing agents
start at the default, which is what every agent sent before the field. `agent` already carries
msp_id and its row-level security policy; a column adds nothing to either.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent", sa.Column("probe_interval_seconds", sa.Integer(), nullable=False, server_default="60"))


def downgrade() -> None:
    op.drop_column("agent", "probe_interval_seconds")
