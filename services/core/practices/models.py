"""The tenancy tree: MSP → Practice → Site."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


class Msp(Base):
    """The tenant root. Its id is every tenant row's msp_id."""

    __tablename__ = "msp"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class Practice(TenantMixin, Base):
    __tablename__ = "practice"
    __table_args__ = (UniqueConstraint("msp_id", "name"),)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="clinic")  # clinic, dental, physio, satellite…
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def practice_id(self) -> uuid.UUID:
        return self.id


class Site(TenantMixin, Base):
    __tablename__ = "site"
    __table_args__ = (
        ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE"),
        UniqueConstraint("msp_id", "practice_id", "name"),
    )
    practice_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
