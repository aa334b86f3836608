"""Readiness rescoring claims its dirty marks in a short transaction of its own

Revision ID: 0010
Revises: 0009

The rescoring pass used to take its dirty marks with DELETE … RETURNING at the start of the
transaction that rescored them, so that a mark made meanwhile would wait for that transaction and
land after it. But every telemetry batch marks practices (INSERT … ON CONFLICT DO NOTHING), and a
batch that marked a practice being rescored waited for the whole rescore — seconds for 100
practices, 250 in the hourly pass — while it held its MSP, and every other batch of that MSP
queued behind it.

Now a short transaction moves the marks into `readiness_claim` (one row per practice being
rescored, with when); a mark made meanwhile lands in `readiness_dirty` at once and is rescored by
the next pass; the rescoring transaction deletes its claims when it commits. A claim older than
15 minutes belongs to a pass that died and is taken again.
"""

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readiness_claim",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], ondelete="CASCADE", name="fk_readiness_claim_msp_id_msp"),
        sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name="fk_readiness_claim_practice"),
        sa.PrimaryKeyConstraint("msp_id", "practice_id", name="pk_readiness_claim"),
    )
    enable_tenant_rls("readiness_claim")


def downgrade() -> None:
    disable_tenant_rls("readiness_claim")
    op.drop_table("readiness_claim")
