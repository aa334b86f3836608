"""Agents, enrollment tokens, ping keys and the telemetry inbox (what the API records)

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("agent", "enrollment_token", "ping_key", "telemetry_event")


def _tenant_columns() -> list[sa.Column]:
    return [
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
    ]


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def _msp_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["msp_id"], ["msp.id"], name=op.f(f"fk_{table}_msp_id_msp"), ondelete="CASCADE")


def _practice_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], name=f"fk_{table}_practice",
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "agent",
        *_tenant_columns(),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("agent_version", sa.String(length=40), nullable=False),
        sa.Column("credential_hash", sa.LargeBinary(), nullable=False),
        sa.Column("previous_credential_hash", sa.LargeBinary(), nullable=True),
        sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enrolled_by", sa.Uuid(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(["enrolled_by"], ["app_user.id"], name=op.f("fk_agent_enrolled_by_app_user"), ondelete="SET NULL"),
        _practice_fk("agent"),
        sa.ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], name="fk_agent_site", ondelete="CASCADE"),
        _msp_fk("agent"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=op.f("pk_agent")),
    )
    op.create_index("ix_agent_practice", "agent", ["msp_id", "practice_id"])
    op.create_table(
        "enrollment_token",
        *_tenant_columns(),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_enrollment_token_created_by_app_user"),
                                ondelete="SET NULL"),
        _practice_fk("enrollment_token"),
        sa.ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], name="fk_enrollment_token_site", ondelete="CASCADE"),
        _msp_fk("enrollment_token"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=op.f("pk_enrollment_token")),
    )
    op.create_table(
        "ping_key",
        *_tenant_columns(),
        sa.Column("backup_job_id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        _practice_fk("ping_key"),
        sa.ForeignKeyConstraint(["msp_id", "backup_job_id"], ["backup_job.msp_id", "backup_job.id"], name="fk_ping_key_backup_job",
                                ondelete="CASCADE"),
        _msp_fk("ping_key"),
        sa.PrimaryKeyConstraint("msp_id", "id", name=op.f("pk_ping_key")),
        sa.UniqueConstraint("msp_id", "backup_job_id", name=op.f("uq_ping_key_msp_id_backup_job_id")),
    )
    op.create_table(
        "telemetry_event",
        sa.Column("msp_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        _practice_fk("telemetry_event"),
        sa.ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], name="fk_telemetry_event_site",
                                ondelete="SET NULL (site_id)"),
        _msp_fk("telemetry_event"),
        sa.PrimaryKeyConstraint("msp_id", "seq", name=op.f("pk_telemetry_event")),
        sa.UniqueConstraint("msp_id", "source_id", "event_id", name=op.f("uq_telemetry_event_msp_id_source_id_event_id")),
    )
    op.create_index("ix_telemetry_event_pending", "telemetry_event", ["msp_id", "seq"], postgresql_where="processed_at IS NULL")
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_index("ix_telemetry_event_pending", table_name="telemetry_event", postgresql_where="processed_at IS NULL")
    op.drop_table("telemetry_event")
    op.drop_table("ping_key")
    op.drop_table("enrollment_token")
    op.drop_index("ix_agent_practice", table_name="agent")
    op.drop_table("agent")
