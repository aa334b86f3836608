"""Who is told when telemetry changed a practice's state.

The worker calls every hook in ON_STATE_CHANGED inside the transaction that updated the state
(a processed batch, or a dead man's switch sweep), after the update, with the tenant scope set to
the whole MSP. So "state updated, rules evaluated" commits or rolls back as one: a crash between
the two cannot leave an alert unevaluated. Other domains register at import time, e.g. the alerts
engine's rule evaluation and readiness's recompute trigger:

    from services.core.telemetry.hooks import ON_STATE_CHANGED
    ON_STATE_CHANGED.append(evaluate_rules)

A hook must be idempotent (a batch may be retried after a crash) and quick (it holds the batch's
row locks); slow work belongs in a procrastinate job deferred from the hook.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

StateChangedHook = Callable[[AsyncSession, uuid.UUID, set[uuid.UUID], datetime], Awaitable[None]]

ON_STATE_CHANGED: list[StateChangedHook] = []


async def state_changed(session: AsyncSession, msp_id: uuid.UUID, practice_ids: set[uuid.UUID], now: datetime) -> None:
    """Call every registered hook, in registration order."""
    if not practice_ids:
        return
    for hook in list(ON_STATE_CHANGED):
        await hook(session, msp_id, set(practice_ids), now)
