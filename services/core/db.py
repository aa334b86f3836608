"""Engine, sessions and the tenant scope of a transaction.

One request or job is one transaction. Before its first tenant query, every transaction binds the
tenant with `set_config(…, true)` (transaction-local, so a pooled connection never carries a tenant
into the next transaction). Row-level security policies read these settings; when they are unset
every policy matches nothing (fail closed).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

ALL_PRACTICES = "*"


@dataclass(frozen=True)
class Scope:
    """What a transaction may see: one MSP, and all or some of its practices."""

    msp_id: uuid.UUID | None = None
    practice_ids: frozenset[uuid.UUID] | None = None  # None = every practice of the MSP
    user_id: uuid.UUID | None = None

    @classmethod
    def msp(cls, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID] | None = None, user_id: uuid.UUID | None = None) -> "Scope":
        return cls(msp_id, None if practice_ids is None else frozenset(practice_ids), user_id)

    def practice_setting(self) -> str:
        if self.practice_ids is None:
            return ALL_PRACTICES
        return ",".join(sorted(str(p) for p in self.practice_ids))

    def can_see_practice(self, practice_id: uuid.UUID) -> bool:
        return self.practice_ids is None or practice_id in self.practice_ids


_SET_SCOPE = ("SELECT set_config('app.msp_id', %(msp)s, true), set_config('app.practice_ids', %(practices)s, true),"
              " set_config('app.user_id', %(user)s, true)")


async def set_scope(session: AsyncSession, scope: Scope) -> None:
    # Straight on the driver, in pipeline mode: psycopg then sends the transaction's BEGIN and this
    # statement in one round trip instead of two, and SQLAlchemy's statement layer (~1 ms of CPU
    # per transaction on a slow core) is skipped; every transaction starts here, and the worker's
    # telemetry batches are many small ones. Objects added under the previous scope are flushed
    # first, as SQLAlchemy's autoflush would before a statement, so they are written under it.
    if session.new or session.dirty or session.deleted:
        await session.flush()
    pg = await driver_connection(session)
    async with pg.pipeline():
        await pg.execute(_SET_SCOPE, {
            "msp": str(scope.msp_id) if scope.msp_id else "",
            "practices": scope.practice_setting() if scope.msp_id else "",
            "user": str(scope.user_id) if scope.user_id else "",
        })
    session.info["scope"] = scope


async def driver_connection(session: AsyncSession) -> psycopg.AsyncConnection:
    """The psycopg connection under the session's transaction (same transaction, no SQLAlchemy
    layer): for hot statements that want psycopg's own placeholders, binary parameters or results,
    or its pipeline mode."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection  # type: ignore[return-value]


def current_scope(session: AsyncSession) -> Scope:
    return session.info.get("scope", Scope())


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @classmethod
    def connect(cls, url: str, pool_size: int = 10) -> "Database":
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        return cls(engine)

    @asynccontextmanager
    async def transaction(self, scope: Scope | None = None) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on error."""
        async with self.sessionmaker() as session:
            async with session.begin():
                if scope is not None:
                    await set_scope(session, scope)
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
