"""The pings the worker has applied, kept as each backup job's ping timeline (docs/decisions/0007-ping-runs.md).

A ping-reported run is made of the pings of one run id (none is a run id of its own) from the
previous start or finish up to the finish that ends it. Pairing a finish with its start, and
gathering the run's log, are then index look-ups around the finish, whatever the job's history.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base

# Kept past the longest run (72 h) with the inbox's dedup window, so a ping applied late still
# finds the pings around it.
RETENTION_DAYS = 31
# Healthchecks logs the first 100,000 bytes of each ping's body; a run's log (its pings' bodies, one
# per line) keeps its last 100,000 characters. docs/api/agent-protocol.md quotes this number.
PING_LOG_LIMIT = 100_000


class PingStep(Base):
    """One applied ping: a boundary (start, success, fail) or a /log line, with its body."""

    __tablename__ = "ping_step"
    __table_args__ = (
        ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                             name="fk_ping_step_practice"),
        # The running-since look-up: the job's newest start, whatever its run id.
        Index("ix_ping_step_start", "msp_id", "backup_job_id", "at", postgresql_where=text("kind = 'start'")),
        Index("ix_ping_step_at", "at", postgresql_using="brin"),
    )
    msp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)
    backup_job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The rid in lower case, '' for pings without one. 64: the API took any rid up to 64 characters
    # before it required a UUID, and a ping accepted then is still applied.
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    boundary: Mapped[bool] = mapped_column(primary_key=True)  # start or finish, not /log
    at: Mapped[datetime] = mapped_column(primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0 for a start: at one instant it opens first
    event_id: Mapped[str] = mapped_column(String(64, collation="C"), primary_key=True)
    practice_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(8))
    exit_code: Mapped[int | None]
    body: Mapped[str] = mapped_column(Text)
