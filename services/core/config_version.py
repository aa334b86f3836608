"""Which version of an MSP's configuration a long-lived process holds in memory.

The worker evaluates alert rules inside telemetry batches, many times a second per MSP, against
configuration (alert policy, overrides, maintenance windows, notification routes and channels)
that changes a few times a month. Reading it in every batch was five statements and their ORM
objects per batch. Triggers (migration 0011) bump `msp_config_version.version` in the transaction
of every change to those tables; a process caches what it loaded together with the number it read
*before* loading, and uses the copy only while the number it reads is the same. The telemetry batch
reads the number in the statement that takes the MSP's lock (services/core/telemetry/claim.py), so
checking costs no round trip; a change committed before a batch starts is seen by that batch.

An MSP that never changed its configuration has no row: its version is 0.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy import BigInteger, ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base
from services.core.db import current_scope

T = TypeVar("T")


class MspConfigVersion(Base):
    """Bumped by trigger whenever a row of the MSP's configuration tables changes (migration 0011)."""

    __tablename__ = "msp_config_version"
    msp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


# For a psycopg statement with an %(msp)s parameter (the telemetry claim's lock statement).
VERSION_SQL = "coalesce((SELECT v.version FROM msp_config_version v WHERE v.msp_id = %(msp)s), 0)"


async def read(session: AsyncSession, msp_id: uuid.UUID) -> int:
    """The MSP's configuration version now (its scope must be set)."""
    return await session.scalar(select(MspConfigVersion.version).where(MspConfigVersion.msp_id == msp_id)) or 0


class PerMspCache(Generic[T]):
    """What `load(session, msp_id)` returned, per MSP, for as long as the MSP's version stays the same.

    `version` must have been read before `load` runs (in the same transaction or an earlier one):
    a change committed in between then carries a newer number, so the copy is reloaded on the next
    use instead of being kept under a number it does not reflect. The oldest-used MSPs are dropped
    past `size`.
    """

    def __init__(self, load: Callable[[AsyncSession, uuid.UUID], Awaitable[T]], size: int = 2_000) -> None:
        self._load = load
        self._size = size
        self._entries: OrderedDict[uuid.UUID, tuple[int, T]] = OrderedDict()
        self.loads = 0  # how many times load ran (tests and benchmarks)

    async def get(self, session: AsyncSession, msp_id: uuid.UUID, version: int | None) -> T:
        """The MSP's copy at `version`; None = the version is not known, so load afresh (not kept).

        A session that sees only some of the MSP's practices (row-level security) loads only their
        rows: that copy is used but neither kept nor taken from the cache (which holds whole-MSP ones).
        """
        if version is None or current_scope(session).practice_ids is not None:
            self.loads += 1
            return await self._load(session, msp_id)
        entry = self._entries.get(msp_id)
        if entry is not None and entry[0] == version:
            self._entries.move_to_end(msp_id)
            return entry[1]
        self.loads += 1
        value = await self._load(session, msp_id)
        # Two batches of one MSP never run at once (the telemetry lock), but a periodic pass may
        # load alongside one: keep the newer number.
        current = self._entries.get(msp_id)
        if current is None or current[0] <= version:
            self._entries[msp_id] = (version, value)
            self._entries.move_to_end(msp_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
