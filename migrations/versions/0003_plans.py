"""Plan templates, plans, immutable plan versions, role assignments and exports

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
