"""Which practices this process evaluated a moment ago, so the minute's pass can leave them out.

The time-based pass (services/worker/tasks_alerts.py) evaluates every live rule of every active
practice each minute, because time alone changes outcomes. A telemetry batch that evaluated a
practice ran exactly the same evaluation (evaluate_practices, every live rule, its own now); under
busy telemetry most practices were evaluated seconds before the pass, which then redid the work
while telemetry waited. So the pass skips a practice this process evaluated, in a transaction that
committed, within RECENT: every practice is still evaluated at least every minute + RECENT.

Per process, in memory: another worker's evaluations are not known here, and a practice not known
is evaluated (the conservative side). Plan and inventory findings are not live rules: the pass that
brings them in (include_findings) skips nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

RECENT = timedelta(seconds=20)
_PENDING = "alerts.evaluated"  # session.info: practice → the evaluation's now, until commit
_evaluated: dict[uuid.UUID, datetime] = {}


def note(session: AsyncSession, practice_ids: Iterable[uuid.UUID], now: datetime) -> None:
    """These practices were evaluated at `now` in the session's transaction (counted once it commits)."""
    session.info.setdefault(_PENDING, {}).update(dict.fromkeys(practice_ids, now))


def stale(practice_ids: Iterable[uuid.UUID], now: datetime) -> list[uuid.UUID]:
    """The practices not evaluated by this process within RECENT of `now`."""
    return [p for p in practice_ids if (at := _evaluated.get(p)) is None or now - at >= RECENT]


def forget() -> None:
    _evaluated.clear()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        for practice_id, at in pending.items():
            if (known := _evaluated.get(practice_id)) is None or known < at:
                _evaluated[practice_id] = at


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
