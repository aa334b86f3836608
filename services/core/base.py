"""Declarative base and the shape every tenant table shares.

Tenant tables key on (msp_id, id) so that, distributed by msp_id (Citus), every primary key, unique
constraint and foreign key stays inside one shard. tests/core/test_metadata.py enforces it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB, list[Any]: JSONB}


class TenantMixin:
    """msp_id + id as the primary key; msp_id references the tenant root."""

    @declared_attr
    def msp_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True, sort_order=-20)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4, sort_order=-10)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
