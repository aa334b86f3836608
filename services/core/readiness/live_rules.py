"""The live rules (services/core/alerts) as a finding source: what the telemetry says right now.

Readiness reads the rules' findings directly, not the incidents: an incident lingers through its
resolve hysteresis and is kept open under maintenance windows, while readiness is the state of the
practice at this moment. The MSP's alert policy applies the same way as for incidents (a rule
disabled for a practice or site does not cost points there; thresholds are the effective ones).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import config as alert_config
from services.core.alerts import gather, policy
from services.core.alerts.relevance import outcomes_may_change  # noqa: F401  (readiness's telemetry hook)
from services.core.alerts.evaluate import live_hits
from services.core.findings import Finding
from services.core.readiness.service import KEEP_CONFIG


async def live_findings(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID],
                        now: datetime) -> dict[uuid.UUID, list[Finding]]:
    facts = await gather.load(session, msp_id, practice_ids)
    view = await _policy(session, msp_id, list(facts))
    out: dict[uuid.UUID, list[Finding]] = {pid: [] for pid in practice_ids}
    for pid, p in facts.items():
        # The alerts engine's own selection (each hit judged with its site's thresholds), so an
        # incident and a lost point always come from the same evaluation.
        out[pid] = [h.finding for h in live_hits(p, view, now)]
    return out


async def enabled_filter(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID]):
    """Whether a rule (plan and inventory ids included) is enabled for a practice under the MSP's policy."""
    view = await _policy(session, msp_id, list(practice_ids))

    def enabled(practice_id: uuid.UUID, rule_id: str) -> bool:
        return view.effective(rule_id, practice_id).enabled

    return enabled


async def _policy(session: AsyncSession, msp_id: uuid.UUID, practice_ids: list[uuid.UUID]) -> policy.PolicyView:
    """The worker's kept copy in a rescoring pass (service.KEEP_CONFIG: one version read per
    transaction, shared by live_findings and enabled_filter, instead of two reads of the policy
    and overrides), else the policy read now."""
    if not session.info.get(KEEP_CONFIG):
        return await policy.load(session, msp_id, practice_ids)
    key = (_KEPT, msp_id)
    if (kept := session.info.get(key)) is None:
        kept = session.info[key] = (await alert_config.current_in(session, msp_id)).view
    return kept


_KEPT = "readiness.live_rules.policy"
