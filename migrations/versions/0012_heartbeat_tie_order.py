"""The event id of the heartbeat that last set an agent's reported version and hostname

Revision ID: 0012
Revises: 0011

Of two heartbeats at the same instant, the one with the larger event id (code-point order) decides
the agent's reported version and hostname, whatever the delivery order. Within a batch the claim
statement orders them so; across batches it compared only the time (a later batch's heartbeat won
only if strictly newer), so the first delivered won a tie — an order dependence the property test
(tests/worker/test_order_independence.py) found. Keeping the winner's event id lets a later batch
compare (time, event id) as the batch does.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent_state", sa.Column("last_heartbeat_event_id", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("agent_state", "last_heartbeat_event_id")
