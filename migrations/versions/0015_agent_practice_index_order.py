"""The agents-of-a-practice index leads with the practice, not the MSP

Revision ID: 0015
Revises: 0014

Every group of ingested events checks its agents' credentials in one statement, each agent looked
up by its key (msp_id, id) (services/core/telemetry/inbox.py). For an MSP whose agents arrived
after the table was last analysed, the planner takes the MSP for a row or so, and then an index
on (msp_id, practice_id) looked as good as the key: it chose it and read all the MSP's agents for
every agent looked up (2,001 rows removed per lookup in tests/api/test_inbox_groups.py; the same
trap as the inbox's key in 0014). Led by practice_id, the index still serves the listing of a
practice's agents (msp_id = … AND practice_id = …), and no index but the key leads with msp_id.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_agent_practice", table_name="agent")
    op.create_index("ix_agent_practice", "agent", ["practice_id", "msp_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_practice", table_name="agent")
    op.create_index("ix_agent_practice", "agent", ["msp_id", "practice_id"])
