"""Find a tenant object from a secret someone presents, before any tenant is known.

Agents, invitation links, enrollment tokens, API tokens and ping URLs arrive with a secret and no
tenant. Tenant tables are behind row-level security, so this one global table maps the keyed hash
of such a secret to (kind, msp_id, object id). Knowing a row reveals nothing without the secret.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, String, delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, utcnow
from services.core.secrets import hash_token


class SecretIndex(Base):
    __tablename__ = "secret_index"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[uuid.UUID]  # the msp_id, named apart so this global table is not a tenant table
    object_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


async def register(session: AsyncSession, token: str, kind: str, msp_id: uuid.UUID, object_id: uuid.UUID) -> bytes:
    digest = hash_token(token)
    session.add(SecretIndex(token_hash=digest, kind=kind, tenant=msp_id, object_id=object_id))
    return digest


async def lookup(session: AsyncSession, token: str, kind: str) -> SecretIndex | None:
    row = await session.get(SecretIndex, hash_token(token))
    if row is None or row.kind != kind:
        return None
    return row


async def forget(session: AsyncSession, kind: str, object_id: uuid.UUID) -> None:
    await session.execute(delete(SecretIndex).where(SecretIndex.kind == kind, SecretIndex.object_id == object_id))


__all__ = ["SecretIndex", "register", "lookup", "forget"]
