"""Telemetry state, partitioned history with retention, and the job queue (what the worker keeps)

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
