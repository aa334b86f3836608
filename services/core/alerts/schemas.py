"""Request and response shapes of the alerts API."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from services.core.periods import SpannedDatetime
from services.core.timezones import TimeZoneName

Severity = Literal["critical", "high", "medium", "low"]
Kind = Literal["email", "webhook", "slack", "teams", "pagerduty"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RuleOut(BaseModel):
    id: str
    title: str
    meaning: str
    component: str
    severity: str
    hipaa: str
    params: dict[str, float | None]
    param_meanings: dict[str, str]
    time_based: bool
    follows_outage: bool


class RuleSetting(_In):
    enabled: bool | None = None
    params: dict[str, float | None] = Field(default_factory=dict, max_length=10)


class PolicyIn(_In):
    rules: dict[str, RuleSetting] | None = Field(default=None, max_length=200)
    resolve_after_minutes: int | None = Field(default=None, ge=0, le=1440)
    resolve_after_evaluations: int | None = Field(default=None, ge=1, le=100)
    reopen_cooldown_minutes: int | None = Field(default=None, ge=0, le=10080)
    max_notifications_per_hour: int | None = Field(default=None, ge=1, le=60)


class RuleLevelOut(BaseModel):
    enabled: bool | None = Field(description="null = as the rule's default")
    params: dict[str, float | None]


class PolicyOut(BaseModel):
    rules: dict[str, RuleLevelOut]
    resolve_after_minutes: int
    resolve_after_evaluations: int
    reopen_cooldown_minutes: int
    max_notifications_per_hour: int


class OverrideIn(_In):
    """enabled: null = inherit, false = disable, true = enable; params: only the thresholds that differ."""

    site_id: uuid.UUID | None = None
    enabled: bool | None = None
    params: dict[str, float | None] = Field(default_factory=dict, max_length=10)


class OverrideOut(_Out):
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    rule_id: str
    enabled: bool | None
    params: dict[str, float | None]


class EffectiveOut(BaseModel):
    rule_id: str
    site_id: uuid.UUID | None
    enabled: bool
    params: dict[str, float | None]
    source: dict[str, str]


class IncidentOut(_Out):
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    rule_id: str
    subject_type: str
    subject_id: str
    severity: str
    component: str
    urgency: str
    title: str
    remediation: str
    hipaa: str
    measured: str | None
    target: str | None
    status: str
    opened_at: datetime
    last_fired_at: datetime = Field(description="When the condition was last seen holding (to the minute)")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    clear_since: datetime | None
    reopen_count: int
    parent_id: uuid.UUID | None
    maintenance_window_id: uuid.UUID | None
    notified_at: datetime | None
    escalated_at: datetime | None


class IncidentEventOut(_Out):
    id: uuid.UUID
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]


class IncidentDetail(IncidentOut):
    timeline: list[IncidentEventOut]
    children: list[IncidentOut]
    suppressed_by: str | None = None  # the maintenance window's name while notifications are held


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=5000)


class ResolveIn(_In):
    note: str = Field(default="", max_length=5000)


class MaintenanceIn(_In):
    name: str = Field(min_length=1, max_length=200)
    site_id: uuid.UUID | None = None
    kind: Literal["once", "weekly"]
    starts_at: SpannedDatetime | None = None
    ends_at: SpannedDatetime | None = None
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(default=None, max_length=7)
    start_time: time | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=10080)
    timezone: TimeZoneName | None = None  # none: the practice's


class MaintenanceOut(_Out):
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    name: str
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None
    weekdays: list[str]
    start_time: time | None
    duration_minutes: int | None
    timezone: str
    created_by: str
    active_now: bool


class ChannelIn(_In):
    name: str = Field(min_length=1, max_length=120)
    kind: Kind
    enabled: bool = True
    to: list[EmailStr] | None = Field(default=None, min_length=1, max_length=20)  # email
    url: SecretStr | None = Field(default=None, max_length=2000)  # webhook, slack, teams
    routing_key: SecretStr | None = Field(default=None, max_length=64)  # pagerduty


class ChannelPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    enabled: bool | None = None
    to: list[EmailStr] | None = Field(default=None, min_length=1, max_length=20)
    url: SecretStr | None = Field(default=None, max_length=2000)
    routing_key: SecretStr | None = Field(default=None, max_length=64)


class ChannelOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    enabled: bool
    to: list[str] | None
    secret_hint: str
    has_signing_secret: bool
    created_at: datetime


class ChannelCreated(ChannelOut):
    signing_secret: str | None = None  # webhooks only, shown once
    default_route_id: uuid.UUID | None = None  # the route made for the MSP's first channel, if this is it


class RouteIn(_In):
    channel_id: uuid.UUID
    practice_id: uuid.UUID | None = None
    min_severity: Severity = "high"
    include_low_urgency: bool = False
    escalate_after_minutes: int | None = Field(default=None, ge=1, le=10080)
    escalation_channel_id: uuid.UUID | None = None
    enabled: bool = True


class RoutePatch(_In):
    channel_id: uuid.UUID | None = None
    practice_id: uuid.UUID | None = None
    min_severity: Severity | None = None
    include_low_urgency: bool | None = None
    escalate_after_minutes: int | None = Field(default=None, ge=1, le=10080)
    escalation_channel_id: uuid.UUID | None = None
    enabled: bool | None = None


class RouteOut(_Out):
    id: uuid.UUID
    channel_id: uuid.UUID
    practice_id: uuid.UUID | None
    min_severity: str
    include_low_urgency: bool
    escalate_after_minutes: int | None
    escalation_channel_id: uuid.UUID | None
    enabled: bool


class OutboxOut(_Out):
    id: uuid.UUID
    channel_id: uuid.UUID
    incident_id: uuid.UUID | None
    practice_id: uuid.UUID | None
    action: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str
    created_at: datetime
