"""Agents, enrollment tokens, ping keys and the telemetry inbox (what the API records)

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
