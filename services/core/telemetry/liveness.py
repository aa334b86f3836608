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

Links fall silent the same way (link_reading below): a link with no sample for N of its sample
intervals — the smallest probe interval its site's agents state in their heartbeats — is "no data"
(the rule link.no_data), never its last state; the rules that judge a link by its samples
(link.down, site.internet_outage, the quality rules) and every screen that shows a link's state
read it through link_reading (docs/decisions/0015-links-with-no-data.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

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


# How often an agent probes its site's links, as its heartbeats say (`probe_interval_seconds`,
# stored on the agent by the newest heartbeat like the heartbeat interval; a heartbeat that states
# none — an agent from before the field — means the default). The same bounds as the heartbeat's.
DEFAULT_PROBE_INTERVAL_SECONDS = 60
MIN_PROBE_INTERVAL_SECONDS = 1
MAX_PROBE_INTERVAL_SECONDS = 86_400

# link.no_data's `intervals`: a link is "no data" once its newest sample is older than this many of
# its sample intervals. At least 2: one late sample is not silence.
DEFAULT_NO_DATA_INTERVALS = 5
MIN_NO_DATA_INTERVALS = 2
MAX_NO_DATA_INTERVALS = 1000

LinkReading = Literal["up", "down", "no_data", "unknown"]


@dataclass(frozen=True)
class SiteSampling:
    """How often a site's links are expected to be sampled, from the site's non-revoked agents.

    A link's expected sample interval is the smallest probe interval among its site's agents: the
    server does not know which agent probes which link, and a link probed by the fastest agent is
    late once that agent's interval has passed several times, while one probed only by a slower
    agent is judged a little early (N of the faster intervals) rather than never. A site without an
    agent keeps the default. `agents_enrolled_at` (the earliest enrollment) is when a link that
    never had a sample starts to count as "no data".
    """

    interval_seconds: int = DEFAULT_PROBE_INTERVAL_SECONDS
    agents_enrolled_at: datetime | None = None


def site_sampling(agents: Iterable[tuple[uuid.UUID, int, datetime]]) -> dict[uuid.UUID, SiteSampling]:
    """(site_id, probe_interval_seconds, enrolled_at) of the non-revoked agents → each site's sampling."""
    out: dict[uuid.UUID, SiteSampling] = {}
    for site_id, interval, enrolled_at in agents:
        known = out.get(site_id)
        if known is None:
            out[site_id] = SiteSampling(interval, enrolled_at)
        else:
            out[site_id] = SiteSampling(min(known.interval_seconds, interval),
                                        min(known.agents_enrolled_at or enrolled_at, enrolled_at))
    return out


def no_data_after(interval_seconds: int, intervals: float) -> timedelta:
    """How long a link may go without a sample before it is "no data"."""
    return timedelta(seconds=interval_seconds * float(intervals))


def link_no_data_from(last_sample_at: datetime | None, sampling: SiteSampling) -> datetime | None:
    """Since when silence is counted: the newest sample, or, if never, the site's first enrollment
    (None: no sample and no agent, so nothing was expected yet)."""
    return last_sample_at if last_sample_at is not None else sampling.agents_enrolled_at


def link_reading(up: bool | None, last_sample_at: datetime | None, sampling: SiteSampling, intervals: float,
                 now: datetime) -> LinkReading:
    """The one reading of a link's state that rules and screens share: its last state only while it
    has data; "no data" once nothing has arrived for `intervals` of its sample intervals (counted
    from enrollment if it never had a sample); "unknown" before its first sample is due."""
    since = link_no_data_from(last_sample_at, sampling)
    if since is not None and now > since + no_data_after(sampling.interval_seconds, intervals):
        return "no_data"
    if last_sample_at is None or up is None:
        return "unknown"
    return "up" if up else "down"


def fresh_up(reading: LinkReading) -> bool | None:
    """Up (True) or down (False) by data recent enough to judge; None: no data, or never reported."""
    return True if reading == "up" else False if reading == "down" else None
