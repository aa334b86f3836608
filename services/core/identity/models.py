"""Who people are (global User) and what they may do in a tenant (Membership)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, LargeBinary, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


class Role(str, enum.Enum):
    msp_owner = "msp_owner"
    msp_admin = "msp_admin"
    msp_technician = "msp_technician"
    practice_owner = "practice_owner"
    practice_staff = "practice_staff"

    @property
    def is_msp_role(self) -> bool:
        return self in (Role.msp_owner, Role.msp_admin, Role.msp_technician)


class User(Base):
    """A global identity; rights come only from memberships."""

    __tablename__ = "app_user"
    __table_args__ = (Index("uq_app_user_email_lower", func.lower(text("email")), unique=True),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    mfa_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    mfa_enabled_at: Mapped[datetime | None]
    # Last accepted TOTP time step: a code is never accepted twice.
    mfa_last_step: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class MfaRecoveryCode(Base):
    __tablename__ = "mfa_recovery_code"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)
    used_at: Mapped[datetime | None]


class Membership(TenantMixin, Base):
    """A user's role in an MSP (practice_id empty) or in one of its practices."""

    __tablename__ = "membership"
    __table_args__ = (
        ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE"),
        Index("uq_membership_user_scope", "msp_id", "user_id", "practice_id", unique=True, postgresql_nulls_not_distinct=True),
        Index("ix_membership_user", "user_id"),
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    practice_id: Mapped[uuid.UUID | None]
    # Technicians see every practice unless this is False; then only their assignments.
    all_practices: Mapped[bool] = mapped_column(default=True)


class TechnicianAssignment(Base):
    __tablename__ = "technician_assignment"
    __table_args__ = (
        ForeignKeyConstraint(["msp_id", "membership_id"], ["membership.msp_id", "membership.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE"),
    )
    msp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class Invitation(TenantMixin, Base):
    __tablename__ = "invitation"
    __table_args__ = (
        ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE"),
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    practice_id: Mapped[uuid.UUID | None]
    # For an msp_technician invited to a subset of practices: those practices (ids as strings).
    # Empty = every practice. Kept as a list, not rows, because nothing may reference a practice
    # from a pending invitation; acceptance keeps only the practices that still exist.
    practice_ids: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiToken(TenantMixin, Base):
    """A personal token acting with its user's rights in one MSP, optionally read-only."""

    __tablename__ = "api_token"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    read_only: Mapped[bool] = mapped_column(default=False)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A browser session. Global (a user's), bound to the MSP the user is acting in."""

    __tablename__ = "user_session"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    active_msp_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("msp.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_passed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class PasswordReset(Base):
    __tablename__ = "password_reset"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
