"""A version number per MSP that moves whenever its alerting configuration changes

Revision ID: 0011
Revises: 0010

Every telemetry batch that can change a rule's outcome evaluates the rules inside its transaction,
and each evaluation read the MSP's alert policy, the practices' overrides, the maintenance windows
and the notification routes and channels: five statements and their ORM objects per batch, for
configuration that changes a few times a month. The worker now keeps them in memory per MSP
(services/core/config_version.py, services/core/alerts/config.py) and asks only whether they are
still current: these triggers bump `msp_config_version.version` in the transaction of any change to
those tables, and the batch reads the number in the statement that takes the MSP's lock (no extra
round trip). A cached copy is used only when its number equals the one read in the batch.

Row-level triggers: configuration changes one or a few rows at a time. An MSP being deleted takes
its configuration rows with it (cascade); the trigger then writes nothing for it.
"""

import sqlalchemy as sa
from alembic import op

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CONFIG_TABLES = ("alert_policy", "alert_override", "maintenance_window", "notification_channel", "notification_route")


def _raw(sql: str) -> None:
    """Run SQL as written: no parameter parsing (function bodies hold % and :)."""
    op.get_bind().connection.dbapi_connection.cursor().execute(sql)


FUNCTION = r"""
-- Security invoker: the change was made under the MSP's scope, which row-level security on
-- msp_config_version checks as for any tenant table.
CREATE FUNCTION msp_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.msp_id ELSE NEW.msp_id END;
BEGIN
  INSERT INTO msp_config_version AS v (msp_id, version)
  SELECT changed, 1 WHERE EXISTS (SELECT 1 FROM msp WHERE id = changed)
  ON CONFLICT (msp_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "msp_config_version",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], ondelete="CASCADE", name="fk_msp_config_version_msp_id_msp"),
        sa.PrimaryKeyConstraint("msp_id", name="pk_msp_config_version"),
    )
    enable_tenant_rls("msp_config_version", None)
    _raw(FUNCTION)
    for table in CONFIG_TABLES:
        _raw(f"CREATE TRIGGER {table}_bumps_config_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
             " FOR EACH ROW EXECUTE FUNCTION msp_config_changed()")


def downgrade() -> None:
    for table in CONFIG_TABLES:
        _raw(f"DROP TRIGGER {table}_bumps_config_version ON {table}")
    _raw("DROP FUNCTION msp_config_changed()")
    disable_tenant_rls("msp_config_version")
    op.drop_table("msp_config_version")
