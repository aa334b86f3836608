"""What the telemetry read API returns: current state, achieved RPO/RTO, and history pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from services.core.telemetry.liveness import LinkReading

T = TypeVar("T")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class BackupJobStateOut(_Out):
    backup_job_id: uuid.UUID
    name: str
    location: str
    tool: str
    verifies: bool
    expected_interval_minutes: int
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_exit_code: int | None = None
    last_success_at: datetime | None = None
    last_restore_point_at: datetime | None = None
    running_since: datetime | None = None
    consecutive_failures: int = 0
    last_duration_seconds: float | None = None
    last_bytes: int | None = None
    baseline_duration_seconds: float | None = None
    baseline_bytes: int | None = None
    last_log_tail: str | None = None
    # The practice's readiness holds backup.stale_success for this job's newest success: it reported
    # a restore point no newer than the success before it (the rule's judgement, not recomputed).
    stale_success: bool = False
    # When the success readiness judged stale finished (the run to label "saved nothing new"), even
    # once a newer run has arrived and readiness has not yet rescored; None: no run judged stale.
    stale_success_at: datetime | None = None


class LinkStateOut(_Out):
    link_id: uuid.UUID
    site_id: uuid.UUID
    name: str
    role: str
    medium: str
    up: bool | None = None
    state_since: datetime | None = None
    last_sample_at: datetime | None = None
    loss_pct: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    loss_threshold_pct: float
    latency_threshold_ms: float
    jitter_threshold_ms: float
    flaps_last_hour: int = 0
    on_backup_since: datetime | None = None
    # The rules' reading (telemetry/liveness.link_reading): `up`/`state_since` are the last state
    # the samples gave, true only while state is up or down; no_data: nothing for N sample intervals.
    state: LinkReading = "unknown"
    no_data_since: datetime | None = None  # when state is no_data: the newest sample, or the enrollment if none


class AgentStateOut(_Out):
    agent_id: uuid.UUID
    site_id: uuid.UUID
    hostname: str
    agent_version: str
    heartbeat_interval_seconds: int
    last_seen_at: datetime | None
    revoked: bool
    # Heard nothing (since enrollment, if never heard) for the heartbeat interval plus the
    # agent.silent grace of its site: the alert rule's definition, telemetry/liveness.py.
    silent: bool
    silent_since: datetime | None


class TelemetryStateOut(BaseModel):
    generated_at: datetime
    backup_jobs: list[BackupJobStateOut]
    links: list[LinkStateOut]
    agents: list[AgentStateOut]


class SystemRecoveryOut(_Out):
    system_id: uuid.UUID
    name: str
    tier: int
    target_rpo_minutes: int
    target_rto_minutes: int
    requires_onsite_copy: bool
    requires_offsite_copy: bool
    onsite_jobs: int
    offsite_jobs: int
    onsite_restore_point_at: datetime | None
    offsite_restore_point_at: datetime | None
    # now − newest restore point, per copy; None when there has never been one.
    achieved_onsite_rpo_minutes: float | None
    achieved_offsite_rpo_minutes: float | None
    # Every copy the plan requires is within the target RPO.
    rpo_compliant: bool
    # backup.rpo_at_risk's effective at_risk_ratio for each copy (its site's, from the alert policy;
    # None where the rule is disabled), and whether the copy is at risk by it: what the gauge's amber reads.
    onsite_at_risk_ratio: float | None = None
    offsite_at_risk_ratio: float | None = None
    onsite_rpo_at_risk: bool = False
    offsite_rpo_at_risk: bool = False
    last_restore_test_at: datetime | None
    last_restore_test_success: bool | None
    # The newest restore test's duration (None if never tested, or if the newest test failed).
    achieved_rto_minutes: float | None
    rto_compliant: bool | None  # None: not measured yet


class BackupRunOut(_Out):
    id: uuid.UUID
    backup_job_id: uuid.UUID
    source: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    bytes: int | None
    files: int | None
    restore_point_at: datetime | None
    snapshot_id: str | None
    verified: bool | None
    exit_code: int | None
    log_tail: str | None


class RestoreTestOut(_Out):
    id: uuid.UUID
    backup_job_id: uuid.UUID | None
    system_id: uuid.UUID | None
    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    success: bool
    notes: str | None


class LinkSampleOut(BaseModel):
    """A raw sample (samples = 1) or a 5-minute aggregate (means over its samples)."""

    at: datetime
    samples: int
    up_samples: int
    up: bool  # raw: the sample; 5m: whether most samples were up
    latency_ms: float | None
    latency_max_ms: float | None
    loss_pct: float | None
    jitter_ms: float | None


class FailoverOut(_Out):
    id: uuid.UUID
    site_id: uuid.UUID
    from_link_id: uuid.UUID
    to_link_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
