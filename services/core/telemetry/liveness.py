"""When an agent counts as silent: the one definition.

SPEC: "agent silent past its heartbeat + grace (dead man's switch)". An agent is silent when
nothing has been heard from it (agent.last_seen_at: any request it made, or the newest heartbeat
processed) — or, if it never reported, since it enrolled (agent.created_at) — for its heartbeat
interval plus the grace of its site: the alert rule agent.silent's `grace_minutes`, which the
MSP's alert policy may override per practice or site (services/core/alerts/liveness.py resolves
it). An agent that enrolled and never reported is silent once that time has passed: enrolling
happens on the machine itself, so a first heartbeat is due within one interval
(docs/decisions/0009-one-silence.md). The interval is the one the agent actually uses
(agent.heartbeat_interval_seconds): the default handed to it at enrollment, then what each of its
heartbeats says (`heartbeat_interval_seconds`, applied by the newest heartbeat, claim.py), and
what GET /api/v1/agents/me hands back.

Everything that says silent/offline or online uses this: the alert rule, the dead man's switch
(agent_state.silent_since and the agent.offline/agent.online live events), the telemetry state
API, the agent list and the practice dashboard.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The interval an agent is enrolled with, until its heartbeats say which one it uses; the bounds
# are what a heartbeat may say (a day at most: silence past that is not a heartbeat any more).
DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 60
MIN_HEARTBEAT_INTERVAL_SECONDS = 1
MAX_HEARTBEAT_INTERVAL_SECONDS = 86_400

DEFAULT_GRACE_MINUTES = 10
# The smallest grace a policy may set (the rule parameter's minimum). The batch path uses it to
# tell "may have been silent" without loading the policy.
MIN_GRACE_MINUTES = 1
MAX_GRACE_MINUTES = 10080


def silent_after(heartbeat_interval_seconds: int, grace_minutes: float) -> timedelta:
    """How long an agent may stay unheard before it is silent."""
    return timedelta(seconds=heartbeat_interval_seconds) + timedelta(minutes=float(grace_minutes))


def silent_since(last_seen_at: datetime | None, enrolled_at: datetime, heartbeat_interval_seconds: int,
                 grace_minutes: float) -> datetime:
    """The moment the agent falls (or fell) silent if nothing more is heard."""
    return heard_or_enrolled(last_seen_at, enrolled_at) + silent_after(heartbeat_interval_seconds, grace_minutes)


def is_silent(last_seen_at: datetime | None, enrolled_at: datetime, heartbeat_interval_seconds: int, grace_minutes: float,
              now: datetime) -> bool:
    return now > silent_since(last_seen_at, enrolled_at, heartbeat_interval_seconds, grace_minutes)


def heard_or_enrolled(last_seen_at: datetime | None, enrolled_at: datetime) -> datetime:
    """Since when silence is counted: the last time the agent was heard, or its enrollment."""
    return last_seen_at if last_seen_at is not None else enrolled_at
