"""The effective thresholds a screen's gauge judges by, resolved from the MSP's alert policy like
the rule behind it: the Systems page's RPO gauge reads "at risk" with backup.rpo_at_risk's own
at_risk_ratio at that copy's site, so an amber gauge is always a finding readiness charges."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import policy
from services.core.alerts import rules_live  # noqa: F401  (registers backup.rpo_at_risk and its default ratio)
from services.core.alerts.rules import RPO_AT_RISK

# site id (None: no site) → the effective at_risk_ratio there, None where the rule is disabled.
AtRiskRatio = Callable[["uuid.UUID | None"], "float | None"]


async def rpo_at_risk_ratios(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> AtRiskRatio:
    """One policy read for the practice; then ratio(site) as the rule would be given it."""
    view = await policy.load(session, msp_id, [practice_id])

    def ratio(site_id: uuid.UUID | None) -> float | None:
        effective = view.effective(RPO_AT_RISK, practice_id, site_id)
        return float(effective.params["at_risk_ratio"]) if effective.enabled else None

    return ratio
