"""Alert policies, incidents, maintenance windows, notification channels and outbox

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PRACTICE_SCOPED = ("alert_override", "maintenance_window", "incident", "incident_event")
# Routes and the outbox are MSP configuration and delivery plumbing (managed and read by MSP managers
# and the worker), even where a row names a practice.
MSP_WIDE = ("alert_policy", "notification_channel", "notification_route", "notification_outbox")

# The worker cannot see across tenants; these tell it which MSPs have work, and nothing else.
FUNCTIONS = """
CREATE FUNCTION alert_msps() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT id FROM msp $$;
CREATE FUNCTION notification_due_msps() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
  $$ SELECT DISTINCT msp_id FROM notification_outbox
     WHERE (status = 'pending' AND next_attempt_at <= now()) OR status = 'sending' $$;
"""


def _fk(table: str, columns: list[str], target: str, name: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["msp_id", *columns], [f"{target}.msp_id", f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{name}")


def _create(name: str, *items) -> None:
    op.create_table(
        name,
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        *items,
        sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=f"fk_{name}_msp_id_msp", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=f"pk_{name}"),
    )


def upgrade() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    ts = sa.DateTime(timezone=True)
    _create(
        "alert_policy",
        sa.Column("rules", jsonb, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("resolve_after_minutes", sa.Integer(), nullable=False),
        sa.Column("resolve_after_evaluations", sa.Integer(), nullable=False),
        sa.Column("reopen_cooldown_minutes", sa.Integer(), nullable=False),
        sa.Column("max_notifications_per_hour", sa.Integer(), nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.UniqueConstraint("msp_id", name="uq_alert_policy_msp_id"),
    )
    _create(
        "alert_override",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("params", jsonb, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("updated_at", ts, nullable=False),
        _fk("alert_override", ["practice_id"], "practice", "practice"),
        _fk("alert_override", ["site_id"], "site", "site"),
    )
    op.create_index("uq_alert_override_practice_rule", "alert_override", ["msp_id", "practice_id", "rule_id"], unique=True,
                    postgresql_where=sa.text("site_id IS NULL"))
    op.create_index("uq_alert_override_site_rule", "alert_override", ["msp_id", "site_id", "rule_id"], unique=True,
                    postgresql_where=sa.text("site_id IS NOT NULL"))
    _create(
        "maintenance_window",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("starts_at", ts, nullable=True),
        sa.Column("ends_at", ts, nullable=True),
        sa.Column("weekdays", sa.Integer(), nullable=True),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        _fk("maintenance_window", ["practice_id"], "practice", "practice"),
        _fk("maintenance_window", ["site_id"], "site", "site"),
        sa.CheckConstraint(
            "(kind = 'once' AND starts_at IS NOT NULL AND ends_at > starts_at)"
            " OR (kind = 'weekly' AND weekdays BETWEEN 1 AND 127 AND start_time IS NOT NULL"
            " AND duration_minutes BETWEEN 1 AND 10080)", name="ck_maintenance_window_shape"),
    )
    _create(
        "incident",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("component", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("hipaa", sa.String(200), nullable=False),
        sa.Column("measured", sa.String(200), nullable=True),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", ts, nullable=False),
        sa.Column("last_fired_at", ts, nullable=False),
        sa.Column("acknowledged_at", ts, nullable=True),
        sa.Column("acknowledged_by", sa.String(320), nullable=True),
        sa.Column("resolved_at", ts, nullable=True),
        sa.Column("resolved_by", sa.String(320), nullable=True),
        sa.Column("clear_since", ts, nullable=True),
        sa.Column("clear_evaluations", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("maintenance_window_id", sa.Uuid(), nullable=True),
        sa.Column("notified_at", ts, nullable=True),
        sa.Column("escalated_at", ts, nullable=True),
        sa.Column("updated_at", ts, nullable=False),
        _fk("incident", ["practice_id"], "practice", "practice"),
        _fk("incident", ["site_id"], "site", "site", "SET NULL (site_id)"),
        _fk("incident", ["parent_id"], "incident", "parent", "SET NULL (parent_id)"),
        _fk("incident", ["maintenance_window_id"], "maintenance_window", "maintenance", "SET NULL (maintenance_window_id)"),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="ck_incident_status_known"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_incident_resolved_consistent"),
    )
    op.create_index("uq_incident_open_per_subject", "incident", ["msp_id", "rule_id", "subject_type", "subject_id"],
                    unique=True, postgresql_where=sa.text("resolved_at IS NULL"))
    op.create_index("ix_incident_queue", "incident", ["msp_id", "status", "opened_at"])
    op.create_index("ix_incident_subject", "incident", ["msp_id", "rule_id", "subject_type", "subject_id", "resolved_at"])
    _create(
        "incident_event",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", jsonb, nullable=False, server_default=sa.text("'{}'::jsonb")),
        _fk("incident_event", ["practice_id"], "practice", "practice"),
        _fk("incident_event", ["incident_id"], "incident", "incident"),
    )
    op.create_index("ix_incident_event_incident", "incident_event", ["msp_id", "incident_id", "at"])
    _create(
        "notification_channel",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", jsonb, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("secret_hint", sa.String(120), nullable=False),
        sa.Column("signing_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", ts, nullable=False),
        sa.UniqueConstraint("msp_id", "name", name="uq_notification_channel_msp_id_name"),
    )
    _create(
        "notification_route",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=True),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("include_low_urgency", sa.Boolean(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=True),
        sa.Column("escalation_channel_id", sa.Uuid(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _fk("notification_route", ["channel_id"], "notification_channel", "channel"),
        _fk("notification_route", ["escalation_channel_id"], "notification_channel", "escalation_channel"),
        _fk("notification_route", ["practice_id"], "practice", "practice"),
        sa.CheckConstraint("min_severity IN ('critical', 'high', 'medium', 'low')", name="ck_notification_route_severity_known"),
        sa.CheckConstraint("(escalate_after_minutes IS NULL) = (escalation_channel_id IS NULL)",
                           name="ck_notification_route_escalation_complete"),
    )
    _create(
        "notification_outbox",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("practice_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("payload", jsonb, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ts, nullable=False),
        sa.Column("attempt_id", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", ts, nullable=True),
        sa.Column("sent_at", ts, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _fk("notification_outbox", ["channel_id"], "notification_channel", "channel"),
        _fk("notification_outbox", ["incident_id"], "incident", "incident"),
        _fk("notification_outbox", ["practice_id"], "practice", "practice"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead', 'needs_review')",
                           name="ck_notification_outbox_status_known"),
    )
    op.create_index("ix_notification_outbox_due", "notification_outbox", ["msp_id", "next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_notification_outbox_status", "notification_outbox", ["msp_id", "status"])
    for table in PRACTICE_SCOPED:
        enable_tenant_rls(table)
    for table in MSP_WIDE:
        enable_tenant_rls(table, None)
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute("DROP FUNCTION notification_due_msps(); DROP FUNCTION alert_msps();")
    for table in PRACTICE_SCOPED + MSP_WIDE:
        disable_tenant_rls(table)
    for table in ("notification_outbox", "notification_route", "notification_channel", "incident_event", "incident",
                  "maintenance_window", "alert_override", "alert_policy"):
        op.drop_table(table)
