"""Plan templates, plans, immutable plan versions, role assignments and exports

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PRACTICE_SCOPED = ("plan", "plan_version", "role_assignment", "plan_acknowledgement", "plan_export")
MSP_WIDE = ("plan_template",)

# An approved (or superseded) version is evidence: no UPDATE or DELETE may touch it, whoever asks,
# except the one step approved -> superseded that changes nothing else. Removing the whole plan
# (its plan, practice or MSP row is already gone: a cascade) takes its versions with it.
IMMUTABLE_TRIGGER = """
CREATE FUNCTION plan_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status NOT IN ('approved', 'superseded') THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = 'approved' AND NEW.status = 'superseded'
     AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND (
       NOT EXISTS (SELECT 1 FROM plan p WHERE p.msp_id = OLD.msp_id AND p.id = OLD.plan_id)
       OR NOT EXISTS (SELECT 1 FROM practice pr WHERE pr.msp_id = OLD.msp_id AND pr.id = OLD.practice_id)
       OR NOT EXISTS (SELECT 1 FROM msp m WHERE m.id = OLD.msp_id)) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'plan version % is % and cannot be changed', OLD.id, OLD.status
    USING ERRCODE = 'restrict_violation',
          HINT = 'Approved plan versions are immutable; create a new draft instead.';
END
$$;
CREATE TRIGGER plan_version_immutable BEFORE UPDATE OR DELETE ON plan_version
  FOR EACH ROW EXECUTE FUNCTION plan_version_immutable();
"""


def upgrade() -> None:
    op.create_table('plan_template',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sections', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_plan_template_msp_id_msp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_plan_template')),
    sa.UniqueConstraint('msp_id', 'name', name=op.f('uq_plan_template_msp_id_name'))
    )
    op.create_table('plan',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('practice_id', sa.Uuid(), nullable=False),
    sa.Column('template_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['msp_id', 'practice_id'], ['practice.msp_id', 'practice.id'], name='fk_plan_practice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_plan_msp_id_msp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_plan')),
    sa.UniqueConstraint('msp_id', 'practice_id', name=op.f('uq_plan_msp_id_practice_id'))
    )
    op.create_table('plan_version',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('practice_id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sections', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_by_label', sa.String(length=320), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_label', sa.String(length=320), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('approved_by_label', sa.String(length=320), nullable=False),
    sa.Column('approved_on_behalf', sa.Boolean(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('review_interval_months', sa.Integer(), nullable=False),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'in_review', 'approved', 'superseded')", name=op.f('ck_plan_version_status_known')),
    sa.CheckConstraint("status NOT IN ('approved', 'superseded') OR (approved_at IS NOT NULL AND effective_date IS NOT NULL AND next_review_date IS NOT NULL)", name=op.f('ck_plan_version_approval_complete')),
    sa.CheckConstraint('review_interval_months BETWEEN 1 AND 36', name=op.f('ck_plan_version_review_interval_range')),
    sa.ForeignKeyConstraint(['msp_id', 'plan_id'], ['plan.msp_id', 'plan.id'], name='fk_plan_version_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id', 'practice_id'], ['practice.msp_id', 'practice.id'], name='fk_plan_version_practice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_plan_version_msp_id_msp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('msp_id', 'plan_id', 'number', name=op.f('uq_plan_version_msp_id_plan_id_number'))
    )
    op.create_index('uq_plan_version_approved', 'plan_version', ['msp_id', 'plan_id'], unique=True, postgresql_where=sa.text("status = 'approved'"))
    op.create_index('uq_plan_version_open', 'plan_version', ['msp_id', 'plan_id'], unique=True, postgresql_where=sa.text("status IN ('draft', 'in_review')"))
    op.create_table('role_assignment',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('practice_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('role_name', sa.String(length=120), nullable=False),
    sa.Column('duties', sa.Text(), nullable=False),
    sa.Column('trained_at', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['msp_id', 'contact_id'], ['contact.msp_id', 'contact.id'], name='fk_role_assignment_contact', ondelete='SET NULL (contact_id)'),
    sa.ForeignKeyConstraint(['msp_id', 'practice_id'], ['practice.msp_id', 'practice.id'], name='fk_role_assignment_practice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_role_assignment_msp_id_msp'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_role_assignment_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_role_assignment')),
    sa.UniqueConstraint('msp_id', 'practice_id', 'user_id', 'role_name', name=op.f('uq_role_assignment_msp_id_practice_id_user_id_role_name'))
    )
    op.create_table('plan_acknowledgement',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('practice_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('user_label', sa.String(length=320), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['msp_id', 'plan_version_id'], ['plan_version.msp_id', 'plan_version.id'], name='fk_plan_acknowledgement_version', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id', 'practice_id'], ['practice.msp_id', 'practice.id'], name='fk_plan_acknowledgement_practice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_plan_acknowledgement_msp_id_msp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_plan_acknowledgement')),
    sa.UniqueConstraint('msp_id', 'plan_version_id', 'user_id', name=op.f('uq_plan_acknowledgement_msp_id_plan_version_id_user_id'))
    )
    op.create_table('plan_export',
    sa.Column('msp_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('practice_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version_id', sa.Uuid(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exported_by', sa.Uuid(), nullable=True),
    sa.Column('exported_by_label', sa.String(length=320), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("format IN ('pdf', 'html')", name=op.f('ck_plan_export_format_known')),
    sa.ForeignKeyConstraint(['msp_id', 'plan_version_id'], ['plan_version.msp_id', 'plan_version.id'], name='fk_plan_export_version', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id', 'practice_id'], ['practice.msp_id', 'practice.id'], name='fk_plan_export_practice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['msp_id'], ['msp.id'], name=op.f('fk_plan_export_msp_id_msp'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('msp_id', 'id', name=op.f('pk_plan_export'))
    )
    op.create_index('ix_plan_export_version', 'plan_export', ['msp_id', 'plan_version_id', 'exported_at'], unique=False)
    op.execute(IMMUTABLE_TRIGGER)
    for table in PRACTICE_SCOPED:
        enable_tenant_rls(table)
    for table in MSP_WIDE:
        enable_tenant_rls(table, None)


def downgrade() -> None:
    for table in (*PRACTICE_SCOPED, *MSP_WIDE):
        disable_tenant_rls(table)
    op.execute("DROP TRIGGER plan_version_immutable ON plan_version")
    op.execute("DROP FUNCTION plan_version_immutable()")
    op.drop_index('ix_plan_export_version', table_name='plan_export')
    op.drop_table('plan_export')
    op.drop_table('plan_acknowledgement')
    op.drop_table('role_assignment')
    op.drop_index('uq_plan_version_open', table_name='plan_version', postgresql_where=sa.text("status IN ('draft', 'in_review')"))
    op.drop_index('uq_plan_version_approved', table_name='plan_version', postgresql_where=sa.text("status = 'approved'"))
    op.drop_table('plan_version')
    op.drop_table('plan')
    op.drop_table('plan_template')
