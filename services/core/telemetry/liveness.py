"""When an agent counts as silent: the one definition.

SPEC: "agent silent past its heartbeat + grace (dead man's switch)". An agent is silent when
nothing has been heard from it (agent.last_seen_at: any request it made, or the newest heartbeat
processed) for its heartbeat interval plus the grace of its site — the alert rule agent.silent's
`grace_minutes`, which the MSP's alert policy may override per practice or site
(services/core/alerts/liveness.py resolves it). An agent that never reported is not silent: it
is "never seen" (enrolled, not yet installed).

Everything that says silent/offline or online uses this: the alert rule, the dead man's switch
(agent_state.silent_since and the agent.offline/agent.online live events), the telemetry state
API, the agent list and the practice dashboard.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_GRACE_MINUTES = 10
# The smallest grace a policy may set (the rule parameter's minimum). The batch path uses it to
# tell "may have been silent" without loading the policy.
MIN_GRACE_MINUTES = 1
MAX_GRACE_MINUTES = 10080


def silent_after(heartbeat_interval_seconds: int, grace_minutes: float) -> timedelta:
    """How long an agent may stay unheard before it is silent."""
    return timedelta(seconds=heartbeat_interval_seconds) + timedelta(minutes=float(grace_minutes))


def silent_since(last_seen_at: datetime | None, heartbeat_interval_seconds: int, grace_minutes: float) -> datetime | None:
    """The moment the agent falls (or fell) silent if nothing more is heard; None if never seen."""
    if last_seen_at is None:
        return None
    return last_seen_at + silent_after(heartbeat_interval_seconds, grace_minutes)


def is_silent(last_seen_at: datetime | None, heartbeat_interval_seconds: int, grace_minutes: float, now: datetime) -> bool:
    since = silent_since(last_seen_at, heartbeat_interval_seconds, grace_minutes)
    return since is not None and now > since
