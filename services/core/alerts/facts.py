"""What the rules look at: one snapshot per practice of its jobs, links, agents and systems.

Rules are pure functions of these snapshots (services/core/alerts/rules.py), so each rule can be
read, tested and documented on its own; services/core/alerts/gather.py fills them from the
inventory and the telemetry state tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.core.findings import Finding
from services.core.telemetry import liveness
from services.core.telemetry.recovery import RestoreTestResult


@dataclass
class JobFacts:
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    name: str
    offsite: bool
    expected_interval_minutes: int
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_success_at: datetime | None = None
    last_restore_point_at: datetime | None = None
    consecutive_failures: int = 0
    last_duration_seconds: float | None = None
    last_bytes: int | None = None
    baseline_duration_seconds: float | None = None
    baseline_bytes: float | None = None
    # The restore point of the newest successful run and of the successful run before it.
    newest_success_restore_point: datetime | None = None
    newest_success_finished_at: datetime | None = None  # names the run a stale success judges
    previous_success_restore_point: datetime | None = None


@dataclass
class LinkFacts:
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    name: str
    role: str
    loss_threshold_pct: float
    latency_threshold_ms: float
    jitter_threshold_ms: float
    created_at: datetime  # a backup link never failed over to counts as untested from here
    up: bool | None = None  # None = never reported; judge by fresh_up(now), never by this alone
    state_since: datetime | None = None
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    on_backup_since: datetime | None = None
    # Up/down changes of the hour before the newest sample (link_state.transitions): flapping.
    transitions: list[datetime] = field(default_factory=list)
    # The start of the newest failover onto this link: when it last carried the site's traffic.
    last_failover_at: datetime | None = None
    last_sample_at: datetime | None = None
    # How often its site's agents sample it, and after how many of those intervals without a
    # sample it is "no data": link.no_data's `intervals` at its site (set from the policy by
    # alerts/liveness.judge_links, before any rule runs).
    sampling: liveness.SiteSampling = field(default_factory=liveness.SiteSampling)
    no_data_intervals: float = liveness.DEFAULT_NO_DATA_INTERVALS

    def reading(self, now: datetime) -> liveness.LinkReading:
        """up / down / no_data / unknown: the one reading of its state (telemetry/liveness.py)."""
        return liveness.link_reading(self.up, self.last_sample_at, self.sampling, self.no_data_intervals, now)

    def fresh_up(self, now: datetime) -> bool | None:
        """Up or down by samples recent enough to judge it; None while it has no data (or never had
        any). Every rule that judges a link by its samples asks this rather than `up`."""
        return liveness.fresh_up(self.reading(now))


@dataclass
class AgentFacts:
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    hostname: str
    last_seen_at: datetime | None
    heartbeat_interval_seconds: int
    enrolled_at: datetime  # silence of an agent that never reported counts from here (liveness.py)
    probe_interval_seconds: int = liveness.DEFAULT_PROBE_INTERVAL_SECONDS


@dataclass
class SystemFacts:
    id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    tier: int
    rpo_minutes: int
    rto_minutes: int
    requires_onsite_copy: bool
    requires_offsite_copy: bool
    job_ids: list[uuid.UUID] = field(default_factory=list)
    # The newest restore test, whatever its outcome, of the system or of a job protecting it: the
    # achieved RTO is defined by it (services/core/telemetry/recovery.py, shared with the dashboard).
    last_test: RestoreTestResult | None = None


@dataclass
class SiteFacts:
    id: uuid.UUID
    name: str


@dataclass
class PracticeFacts:
    practice_id: uuid.UUID
    name: str
    sites: dict[uuid.UUID, SiteFacts] = field(default_factory=dict)
    jobs: dict[uuid.UUID, JobFacts] = field(default_factory=dict)
    links: list[LinkFacts] = field(default_factory=list)
    agents: list[AgentFacts] = field(default_factory=list)
    systems: list[SystemFacts] = field(default_factory=list)
    plan_findings: list[Finding] = field(default_factory=list)

    def site_name(self, site_id: uuid.UUID | None) -> str:
        site = self.sites.get(site_id) if site_id else None
        return site.name if site else ""
