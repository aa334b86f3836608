"""Inventory (systems, backup jobs, links, contacts), plan templates, plans and versions

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
