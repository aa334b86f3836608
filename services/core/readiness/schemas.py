"""What the readiness, dashboard, portfolio and report endpoints return (and the weights they take)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.core.findings import FindingOut
from services.core.telemetry.schemas_state import SystemRecoveryOut

Status = Literal["ready", "at_risk", "not_ready"]


class ConditionOut(BaseModel):
    """How the finding's condition stands: the incident it is (docs/decisions/0013-one-judgement.md)."""

    incident_id: uuid.UUID
    since: datetime = Field(description="When the condition started (its incident opened)")
    clearing_since: datetime | None = Field(
        description="Set while the condition has cleared but not for long enough: it keeps costing its points "
                    "until its incident resolves")
    suppressed_by: str | None = Field(description="The maintenance window that silences its notifications now")
    suppressed_until: datetime | None = Field(description="When that window's current occurrence ends")


class ScoredFindingOut(FindingOut):
    """A finding with what it cost the readiness score."""

    source: str
    deduction: int = Field(description="Points this severity costs by the weights")
    points: int = Field(description="Points this finding actually cost (0 when folded or the component is exhausted)")
    capped: bool
    counted_under: str | None = Field(description="The finding this one restates (rule:subject_type:subject_id); it costs nothing")
    condition: ConditionOut | None = Field(None, description="Its incident, when the finding is one (every live "
                                           "finding is; a plan or inventory finding once the worker has judged it)")


class ComponentOut(BaseModel):
    weight: int
    lost: int
    score: int
    findings: int


class SourceOut(BaseModel):
    name: str
    available: bool
    detail: str = ""


class ReadinessOut(BaseModel):
    practice_id: uuid.UUID
    score: int
    status: Status
    components: dict[str, ComponentOut]
    findings: list[ScoredFindingOut]
    sources: list[SourceOut]
    computed_at: datetime
    changed_at: datetime


class TrendPoint(BaseModel):
    day: date = Field(description="The UTC day of the point")
    at: datetime = Field(description="Start of the point's period: midnight UTC of the day, or the hour")
    period: Literal["day", "hour"] = Field(description="hour while the practice has fewer than two days of snapshots")
    score: int
    min_score: int
    status: str


class ReadinessTrendOut(BaseModel):
    points: list[TrendPoint] = Field(description="Oldest first: the last 30 days, or today's hours until there are two days")


class IncidentCounts(BaseModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    total: int = 0


class PortfolioItem(BaseModel):
    practice_id: uuid.UUID
    name: str
    kind: str
    active: bool
    score: int | None = Field(description="None until the practice's readiness is first computed")
    status: Status | None
    computed_at: datetime | None
    open_incidents: IncidentCounts
    trend: list[TrendPoint]


class PortfolioSummary(BaseModel):
    total: int
    ready: int
    at_risk: int
    not_ready: int
    not_computed: int


class PortfolioPage(BaseModel):
    items: list[PortfolioItem]
    next_cursor: str | None
    summary: PortfolioSummary = Field(description="Counts over every practice matching the filters (not only this page)")


class WeightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    components: dict[Literal["plan", "backups", "connectivity", "testing", "people"], int] = Field(
        description="Points per component; all five, summing to 100")
    deductions: dict[Literal["critical", "high", "medium", "low"], int] = Field(
        description="Points a finding of each severity costs; all four, 0–100")

    @model_validator(mode="after")
    def _complete(self) -> "WeightsIn":
        if len(self.components) != 5 or sum(self.components.values()) != 100 or min(self.components.values()) < 0:
            raise ValueError("components must name plan, backups, connectivity, testing and people, each ≥ 0, summing to 100")
        if len(self.deductions) != 4 or not all(0 <= v <= 100 for v in self.deductions.values()):
            raise ValueError("deductions must name critical, high, medium and low, each between 0 and 100")
        return self


class WeightsOut(BaseModel):
    components: dict[str, int]
    deductions: dict[str, int]
    source: Literal["default", "msp"]
    ready_at: int
    at_risk_at: int


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                              description="YYYY-MM; default the current month so far")


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    kind: str
    period_start: date
    period_end: date
    generated_at: datetime
    generated_by_label: str
    score: int | None
    status: str | None
    sha256: str
    size_bytes: int


class DashboardSystemOut(BaseModel):
    id: uuid.UUID
    name: str
    category: str
    tier: int
    holds_ephi: bool
    target_rpo_minutes: int
    target_rto_minutes: int
    mtd_minutes: int
    backup_job_ids: list[uuid.UUID]
    achieved: SystemRecoveryOut | None = Field(description="Achieved RPO/RTO; None while it cannot be measured")


class DashboardBackupOut(BaseModel):
    id: uuid.UUID
    name: str
    location: str
    tool: str
    site_id: uuid.UUID | None
    encrypted: bool
    immutable: bool
    expected_interval_minutes: int
    last_run_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    last_restore_point_at: datetime | None
    consecutive_failures: int
    stale_success: bool = False  # readiness holds backup.stale_success for its newest success (readiness/judged.py)
    stale_success_at: datetime | None = None  # when the success judged stale finished, even once a newer run came
    running_since: datetime | None


class LinkChartPoint(BaseModel):
    """One hour of a link's 5-minute aggregates; loss in % to 2 decimals, times in ms to 1 (services/core/units.py)."""

    hour: datetime
    uptime_pct: float | None
    latency_ms: float | None
    latency_max_ms: float | None
    loss_pct: float | None
    jitter_ms: float | None


class LinkThresholdsOut(BaseModel):
    loss_pct: float
    latency_ms: float
    jitter_ms: float


class DashboardLinkOut(BaseModel):
    id: uuid.UUID
    name: str
    site_id: uuid.UUID
    site_name: str
    role: str
    isp: str
    medium: str
    up: bool | None
    state_since: datetime | None
    # The rules' reading (telemetry/liveness.link_reading): `up`/`state_since` hold only while it is up or down.
    state: Literal["up", "down", "no_data", "unknown"]
    no_data_since: datetime | None = Field(description="When state is no_data: the newest sample, or the enrollment if none")
    last_sample_at: datetime | None
    loss_pct: float | None
    latency_ms: float | None
    jitter_ms: float | None
    on_backup_since: datetime | None
    thresholds: LinkThresholdsOut
    chart_24h: list[LinkChartPoint] = Field(description="The last 24 hours, oldest first; hours without samples are absent")


class DashboardAgentOut(BaseModel):
    id: uuid.UUID
    hostname: str
    site_id: uuid.UUID
    agent_version: str
    last_seen_at: datetime | None
    online: bool


class DashboardIncidentOut(BaseModel):
    id: uuid.UUID
    rule_id: str
    severity: str
    component: str
    status: str
    title: str
    opened_at: datetime
    acknowledged_at: datetime | None
    site_id: uuid.UUID | None


class DashboardIncidentsOut(BaseModel):
    counts: IncidentCounts
    open: list[DashboardIncidentOut] = Field(description="The 20 most urgent open incidents")


class WorkingVersionOut(BaseModel):
    number: int
    status: str
    updated_at: datetime


class ApprovedVersionOut(BaseModel):
    number: int
    approved_at: datetime | None
    approved_by: str | None
    effective_date: date | None
    next_review_date: date | None
    review_overdue: bool
    role_holders: int
    acknowledged: int


class DashboardPlanOut(BaseModel):
    exists: bool
    status: Literal["none", "approved", "not_approved"]
    plan_id: uuid.UUID | None = None
    approved_version: ApprovedVersionOut | None = None
    working_version: WorkingVersionOut | None = None


class DashboardOut(BaseModel):
    practice_id: uuid.UUID
    name: str
    readiness: ReadinessOut
    trend: list[TrendPoint]
    systems: list[DashboardSystemOut]
    recovery_available: bool = Field(description="False while achieved RPO/RTO cannot be measured (telemetry recovery missing)")
    backups: list[DashboardBackupOut]
    links: list[DashboardLinkOut]
    agents: list[DashboardAgentOut]
    incidents: DashboardIncidentsOut
    plan: DashboardPlanOut
