"""Which practices of a telemetry batch need their rules evaluated: those where some rule's
outcome can differ from what the last evaluation saw.

~99 % of telemetry is link samples and heartbeats from healthy agents, which almost never change
any rule's outcome; evaluating every practice a batch touched was nearly half of the batch's
time. What a rule can see change within a batch (everything else changes with time alone, and
the periodic evaluation — alerts.evaluate_time_based, every minute — re-evaluates every rule of
every practice, which also refreshes the incidents' measured values):

- a rare event (backup run, restore test, failover, ping, anything but a sample or heartbeat):
  job state, restore tests and on-backup state feed most rules;
- an agent back from silence, or that may have been silent (a gap between its heartbeats longer
  than its interval plus the smallest grace a policy allows): agent.silent;
- a link whose up/down state flipped (or that got its first state): link down, internet outage,
  and the quality rules (which ignore down links);
- a link whose rolling loss, latency or jitter crossed its effective threshold (the link's own,
  or the policy's `threshold` override for the practice or site): the quality rules.

Exactly conservative: each test is "the outcome may differ", never "is likely to differ". One
exception, which changes with time rather than with what a batch holds: link.no_data (and the
link-down, outage and quality outcomes of a link coming back from no data with the same up/down
state and figures) is left to the periodic evaluation, which sees it within a minute (the rule is
time-based); telling it here would need each site's probe interval on the batch path.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import config as alert_config
from services.core.alerts.rules import LINK_JITTER, LINK_LATENCY, LINK_LOSS
from services.core.telemetry.hooks import LinkChange, StateChange

# The quality rules and the index of their figure in LinkChange.before/after/thresholds.
QUALITY = ((LINK_LOSS, 0), (LINK_LATENCY, 1), (LINK_JITTER, 2))
_MEMO = "alerts.outcomes_may_change"
_CONFIG_MEMO = "alerts.config"


async def config_for(session: AsyncSession, msp_id: uuid.UUID, change: StateChange) -> alert_config.AlertConfig:
    """The MSP's alerting configuration for this change: read at most once per batch, and not at
    all while this process holds it at the batch's configuration version."""
    if (cfg := change.memo.get(_CONFIG_MEMO)) is None:
        cfg = change.memo[_CONFIG_MEMO] = await alert_config.current(session, msp_id, change.config_version)
    return cfg


def crossed(change: LinkChange, index: int, override: float | None) -> bool:
    """Whether a figure moved across its threshold (either way), as rules_live._quality judges it."""
    limit = override if override is not None else change.thresholds[index]
    if limit is None:  # the link is gone: nothing to compare with, so assume it matters
        return True

    def over(value: float | None) -> bool:
        return value is not None and value > float(limit)

    return over(change.before[index]) != over(change.after[index])


async def outcomes_may_change(session: AsyncSession, msp_id: uuid.UUID, change: StateChange) -> set[uuid.UUID]:
    """The practices of this change where some live rule's outcome may differ (shared by the
    alerts and readiness hooks through the change's memo)."""
    if change.everything:
        return set(change.practices)
    if _MEMO in change.memo:
        return set(change.memo[_MEMO])
    out = change.events | change.agents | change.link_state_flipped()
    figures = [c for c in change.links if c.practice_id not in out]
    if figures:
        view = (await config_for(session, msp_id, change)).view
        for c in figures:
            if c.practice_id in out:
                continue
            for rule_id, index in QUALITY:
                override = view.effective(rule_id, c.practice_id, c.site_id).params.get("threshold")
                if crossed(c, index, None if override is None else float(override)):
                    out.add(c.practice_id)
                    break
    change.memo[_MEMO] = frozenset(out)
    return out
