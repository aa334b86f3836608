"""Alert policy and overrides, incidents and their timeline, maintenance windows, notification
channels, routing rules and the notification outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, LargeBinary, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


def _fk(table: str, columns: list[str], target: str, name: str, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", *columns], [f"{target}.msp_id", f"{target}.id"], ondelete=ondelete,
                                name=f"fk_{table}_{name}")


class IncidentStatus(str, enum.Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class Urgency(str, enum.Enum):
    high = "high"  # live conditions: notified through the routes
    low = "low"  # plan findings: in the queue, notified only where a route asks for them


class ChannelKind(str, enum.Enum):
    email = "email"
    webhook = "webhook"
    slack = "slack"
    teams = "teams"
    pagerduty = "pagerduty"


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sending = "sending"  # claimed by a worker; the attempt id was committed before the send
    sent = "sent"
    dead = "dead"  # retries exhausted, or refused permanently
    needs_review = "needs_review"  # the worker died mid-send on a channel that cannot deduplicate


class AlertPolicy(TenantMixin, Base):
    """The MSP-wide policy: per rule enabled + thresholds, and how incidents settle."""

    __tablename__ = "alert_policy"
    __table_args__ = (UniqueConstraint("msp_id"),)
    # {rule_id: {"enabled": bool, "params": {name: value}}}; absent = the catalogue default.
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Hysteresis: a cleared condition resolves only after staying clear this long AND this many evaluations.
    resolve_after_minutes: Mapped[int] = mapped_column(default=5)
    resolve_after_evaluations: Mapped[int] = mapped_column(default=2)
    # A condition that returns within this long after resolving re-opens the same incident.
    reopen_cooldown_minutes: Mapped[int] = mapped_column(default=60)
    # Per incident and hour, whatever the incident does; the timeline still records everything.
    max_notifications_per_hour: Mapped[int] = mapped_column(default=3)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertOverride(TenantMixin, Base):
    """A practice's (site_id NULL) or a site's deviation from the MSP policy for one rule.

    enabled None = inherit; params holds only the thresholds that differ (the rest inherit).
    """

    __tablename__ = "alert_override"
    __table_args__ = (
        _fk("alert_override", ["practice_id"], "practice", "practice"),
        _fk("alert_override", ["site_id"], "site", "site"),
        Index("uq_alert_override_practice_rule", "msp_id", "practice_id", "rule_id", unique=True,
              postgresql_where="site_id IS NULL"),
        Index("uq_alert_override_site_rule", "msp_id", "site_id", "rule_id", unique=True,
              postgresql_where="site_id IS NOT NULL"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]
    rule_id: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool | None]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Incident(TenantMixin, Base):
    """One problem with one subject, from first seen to resolved; at most one open per (rule, subject)."""

    __tablename__ = "incident"
    __table_args__ = (
        _fk("incident", ["practice_id"], "practice", "practice"),
        _fk("incident", ["site_id"], "site", "site", "SET NULL (site_id)"),
        _fk("incident", ["parent_id"], "incident", "parent", "SET NULL (parent_id)"),
        _fk("incident", ["maintenance_window_id"], "maintenance_window", "maintenance", "SET NULL (maintenance_window_id)"),
        Index("uq_incident_open_per_subject", "msp_id", "rule_id", "subject_type", "subject_id", unique=True,
              postgresql_where="resolved_at IS NULL"),
        Index("ix_incident_queue", "msp_id", "status", "opened_at"),
        Index("ix_incident_subject", "msp_id", "rule_id", "subject_type", "subject_id", "resolved_at"),
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status_known"),
        CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="resolved_consistent"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]
    rule_id: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    component: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.high.value)
    title: Mapped[str] = mapped_column(String(500))
    remediation: Mapped[str] = mapped_column(Text, default="")
    hipaa: Mapped[str] = mapped_column(String(200), default="")
    measured: Mapped[str | None] = mapped_column(String(200))
    target: Mapped[str | None] = mapped_column(String(200))
    # The run the finding judged (Finding.judged_run_finished_at), so readiness read from the
    # incident names it too (migration 0022).
    judged_run_finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.open.value)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(320))  # None = resolved by itself
    # Hysteresis bookkeeping: when the condition was first seen clear, and in how many evaluations since.
    clear_since: Mapped[datetime | None]
    clear_evaluations: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    # WAN-aware grouping: a consequence of a site's internet outage hangs under the outage incident.
    parent_id: Mapped[uuid.UUID | None]
    # Set while notifications are suppressed by a maintenance window (the incident says so).
    maintenance_window_id: Mapped[uuid.UUID | None]
    # When this opening was notified; None while suppressed or throttled (so it is notified once
    # the suppression lifts), and a resolve is sent only for an opening that was notified.
    notified_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IncidentEvent(TenantMixin, Base):
    """The incident's timeline: what happened, who did it, and the notes people left."""

    __tablename__ = "incident_event"
    __table_args__ = (
        _fk("incident_event", ["practice_id"], "practice", "practice"),
        _fk("incident_event", ["incident_id"], "incident", "incident"),
        Index("ix_incident_event_incident", "msp_id", "incident_id", "at"),
    )
    practice_id: Mapped[uuid.UUID]
    incident_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # opened, fired_again, clearing, resolved, reopened, acknowledged, note, escalated, notified,
    # suppressed, grouped, severity_changed
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320), default="seawall")
    actor_id: Mapped[uuid.UUID | None]
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MaintenanceWindow(TenantMixin, Base):
    """Planned work at a practice (site_id NULL) or one site: incidents still open, nobody is paged."""

    __tablename__ = "maintenance_window"
    __table_args__ = (
        _fk("maintenance_window", ["practice_id"], "practice", "practice"),
        _fk("maintenance_window", ["site_id"], "site", "site"),
        CheckConstraint(
            "(kind = 'once' AND starts_at IS NOT NULL AND ends_at > starts_at)"
            " OR (kind = 'weekly' AND weekdays BETWEEN 1 AND 127 AND start_time IS NOT NULL"
            " AND duration_minutes BETWEEN 1 AND 10080)", name="shape"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # once | weekly
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    weekdays: Mapped[int | None]  # bit 0 = Monday … bit 6 = Sunday
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_minutes: Mapped[int | None]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_by: Mapped[str] = mapped_column(String(320), default="")


class NotificationChannel(TenantMixin, Base):
    """Where notifications go. Secrets (URLs, routing keys, signing secrets) are stored encrypted."""

    __tablename__ = "notification_channel"
    __table_args__ = (UniqueConstraint("msp_id", "name"),)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)  # non-secret: email recipients
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)  # URL or routing key
    secret_hint: Mapped[str] = mapped_column(String(120), default="")  # enough to recognise it
    signing_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationRoute(TenantMixin, Base):
    """Which incidents go to which channel: by severity and practice, with optional escalation."""

    __tablename__ = "notification_route"
    __table_args__ = (
        _fk("notification_route", ["channel_id"], "notification_channel", "channel"),
        _fk("notification_route", ["escalation_channel_id"], "notification_channel", "escalation_channel"),
        _fk("notification_route", ["practice_id"], "practice", "practice"),
        CheckConstraint("min_severity IN ('critical', 'high', 'medium', 'low')", name="severity_known"),
        CheckConstraint("(escalate_after_minutes IS NULL) = (escalation_channel_id IS NULL)", name="escalation_complete"),
    )
    channel_id: Mapped[uuid.UUID]
    practice_id: Mapped[uuid.UUID | None]  # None = every practice
    min_severity: Mapped[str] = mapped_column(String(16), default="high")
    include_low_urgency: Mapped[bool] = mapped_column(default=False)
    escalate_after_minutes: Mapped[int | None]
    escalation_channel_id: Mapped[uuid.UUID | None]
    enabled: Mapped[bool] = mapped_column(default=True)


class NotificationOutbox(TenantMixin, Base):
    """One message for one channel, written in the transaction that changed the incident."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        _fk("notification_outbox", ["channel_id"], "notification_channel", "channel"),
        _fk("notification_outbox", ["incident_id"], "incident", "incident"),
        _fk("notification_outbox", ["practice_id"], "practice", "practice"),
        Index("ix_notification_outbox_due", "msp_id", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_notification_outbox_status", "msp_id", "status"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead', 'needs_review')", name="status_known"),
    )
    channel_id: Mapped[uuid.UUID]
    incident_id: Mapped[uuid.UUID | None]  # None for a test message
    practice_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(16))  # trigger | acknowledge | resolve | escalate | test
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.pending.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt_id: Mapped[uuid.UUID | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
