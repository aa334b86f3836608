"""The grace of the agent.silent rule, resolved per practice and site from the MSP's alert policy:
what services/core/telemetry/liveness.py needs to say whether an agent is silent."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import policy
from services.core.alerts import rules_live  # noqa: F401  (registers agent.silent and its default grace)
from services.core.alerts.rules import AGENT_SILENT

Graces = Callable[[uuid.UUID, "uuid.UUID | None"], float]


def grace_of(view: policy.PolicyView, practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
    """The effective grace_minutes of agent.silent at this site (the rule's own parameter)."""
    return float(view.effective(AGENT_SILENT, practice_id, site_id).params["grace_minutes"])


async def graces(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> Graces:
    """One policy read for these practices; then grace(practice, site) in minutes."""
    view = await policy.load(session, msp_id, set(practice_ids))
    cache: dict[tuple, float] = {}

    def grace(practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
        key = (practice_id, site_id)
        if key not in cache:
            cache[key] = grace_of(view, practice_id, site_id)
        return cache[key]

    return grace
