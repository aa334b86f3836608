"""Continuity plans: MSP templates, one plan per practice, its versions, the people in it, exports.

A plan version that has been approved is evidence (HIPAA 164.308(a)(7)): the database itself refuses
to change or remove it (trigger `plan_version_immutable`, migration 0003); only the single step
approved → superseded, changing nothing else, is let through.

People are recorded by user id *and* by a label copied at the time (who approved, who exported,
who acknowledged), without a foreign key: evidence must outlive the account it names, and a
cascading SET NULL would be an update the immutability trigger refuses anyway.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


def _version_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "plan_version_id"], ["plan_version.msp_id", "plan_version.id"], ondelete="CASCADE",
                                name=f"fk_{table}_version")


class VersionStatus(str, enum.Enum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    superseded = "superseded"


IMMUTABLE_STATUSES = (VersionStatus.approved.value, VersionStatus.superseded.value)
OPEN_STATUSES = (VersionStatus.draft.value, VersionStatus.in_review.value)


class ExportFormat(str, enum.Enum):
    pdf = "pdf"
    html = "html"


class PlanTemplate(TenantMixin, Base):
    """An MSP's own plan template: ordered sections of {key, title, guidance, required, body}."""

    __tablename__ = "plan_template"
    __table_args__ = (UniqueConstraint("msp_id", "name"),)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow, onupdate=utcnow)


class Plan(TenantMixin, Base):
    """A practice's continuity plan: the container of its versions (one plan per practice)."""

    __tablename__ = "plan"
    __table_args__ = (_practice_fk("plan"), UniqueConstraint("msp_id", "practice_id"))
    practice_id: Mapped[uuid.UUID]
    # Copied at creation: the template may later change or be deleted without touching the plan.
    template_name: Mapped[str] = mapped_column(String(200), default="")


class PlanVersion(TenantMixin, Base):
    """One numbered version of a plan. Edited only while a draft; immutable once approved."""

    __tablename__ = "plan_version"
    __table_args__ = (
        _practice_fk("plan_version"),
        ForeignKeyConstraint(["msp_id", "plan_id"], ["plan.msp_id", "plan.id"], ondelete="CASCADE", name="fk_plan_version_plan"),
        UniqueConstraint("msp_id", "plan_id", "number"),
        # One working copy (draft or in review) and one approved version per plan at a time.
        Index("uq_plan_version_open", "msp_id", "plan_id", unique=True,
              postgresql_where=text("status IN ('draft', 'in_review')")),
        Index("uq_plan_version_approved", "msp_id", "plan_id", unique=True, postgresql_where=text("status = 'approved'")),
        CheckConstraint("status IN ('draft', 'in_review', 'approved', 'superseded')", name="status_known"),
        CheckConstraint("status NOT IN ('approved', 'superseded') OR (approved_at IS NOT NULL AND effective_date IS NOT NULL"
                        " AND next_review_date IS NOT NULL)", name="approval_complete"),
        CheckConstraint("review_interval_months BETWEEN 1 AND 36", name="review_interval_range"),
    )
    practice_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID]
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.draft.value)
    sections: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[uuid.UUID | None]
    created_by_label: Mapped[str] = mapped_column(String(320), default="")
    # Set by the service on each draft edit (no onupdate: superseding must change nothing but status).
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)
    submitted_at: Mapped[datetime | None]
    submitted_by_label: Mapped[str] = mapped_column(String(320), default="")
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None]
    approved_by_label: Mapped[str] = mapped_column(String(320), default="")
    # True when MSP staff approved for the practice owner: shown on the binder's cover.
    approved_on_behalf: Mapped[bool] = mapped_column(default=False)
    effective_date: Mapped[date | None]
    review_interval_months: Mapped[int] = mapped_column(default=12)
    next_review_date: Mapped[date | None]

    @property
    def immutable(self) -> bool:
        return self.status in IMMUTABLE_STATUSES


class RoleAssignment(TenantMixin, Base):
    """A practice user's role in the plan ("Incident lead"…), with the duties it carries."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        _practice_fk("role_assignment"),
        ForeignKeyConstraint(["msp_id", "contact_id"], ["contact.msp_id", "contact.id"], ondelete="SET NULL (contact_id)",
                             name="fk_role_assignment_contact"),
        UniqueConstraint("msp_id", "practice_id", "user_id", "role_name"),
    )
    practice_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID | None]  # the call-tree entry for the same person, when there is one
    role_name: Mapped[str] = mapped_column(String(120))
    duties: Mapped[str] = mapped_column(Text, default="")
    trained_at: Mapped[date | None]


class PlanAcknowledgement(TenantMixin, Base):
    """A user read and accepted their role in one approved version (a new version needs a new one)."""

    __tablename__ = "plan_acknowledgement"
    __table_args__ = (
        _practice_fk("plan_acknowledgement"),
        _version_fk("plan_acknowledgement"),
        UniqueConstraint("msp_id", "plan_version_id", "user_id"),
    )
    practice_id: Mapped[uuid.UUID]
    plan_version_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    user_label: Mapped[str] = mapped_column(String(320), default="")
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanExport(TenantMixin, Base):
    """One PDF or HTML export of a version: who, when, which version, and a digest of what was given."""

    __tablename__ = "plan_export"
    __table_args__ = (
        _practice_fk("plan_export"),
        _version_fk("plan_export"),
        Index("ix_plan_export_version", "msp_id", "plan_version_id", "exported_at"),
        CheckConstraint("format IN ('pdf', 'html')", name="format_known"),
    )
    practice_id: Mapped[uuid.UUID]
    plan_version_id: Mapped[uuid.UUID]
    format: Mapped[str] = mapped_column(String(8))
    exported_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_by: Mapped[uuid.UUID | None]
    exported_by_label: Mapped[str] = mapped_column(String(320), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
