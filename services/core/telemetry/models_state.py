"""What the worker keeps from telemetry: current state per backup job, link and agent, and history.

State rows are a pure function of the events processed so far (see processing.py), so any order of
delivery yields the same rows. History tables are partitioned by time (partitions.py) so retention
drops whole partitions: raw link samples after 14 days, 5-minute aggregates after 13 months,
backup runs and restore tests only after 6 years (HIPAA evidence).

History rows name their backup job or link without a foreign key on purpose: evidence outlives
the configuration it was reported against. Deleting the practice still removes everything.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow
from sqlalchemy import DateTime


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


def _msp_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)


class BackupJobState(Base):
    """The current state of one backup job, recomputed from its run history on every change."""

    __tablename__ = "backup_job_state"
    __table_args__ = (
        _practice_fk("backup_job_state"),
        ForeignKeyConstraint(["msp_id", "backup_job_id"], ["backup_job.msp_id", "backup_job.id"], ondelete="CASCADE",
                             name="fk_backup_job_state_job"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_fk()
    backup_job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    last_run_at: Mapped[datetime | None]  # when the newest finished run finished
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_exit_code: Mapped[int | None] = mapped_column(BigInteger)  # Windows codes are 32-bit unsigned (0020)
    last_success_at: Mapped[datetime | None]
    # Newest restore point of a successful run (verified, when the job verifies): achieved RPO.
    last_restore_point_at: Mapped[datetime | None]
    # A Healthchecks /start not yet followed by a finish: the job is running since then.
    running_since: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_duration_seconds: Mapped[float | None]
    last_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Median of the last 10 successful runs: the yardstick for "suspiciously fast or small".
    baseline_duration_seconds: Mapped[float | None]
    baseline_bytes: Mapped[int | None] = mapped_column(BigInteger)
    last_log_tail: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class LinkState(Base):
    """The current state of one internet link, from its samples and the site's failovers."""

    __tablename__ = "link_state"
    __table_args__ = (
        _practice_fk("link_state"),
        ForeignKeyConstraint(["msp_id", "link_id"], ["link.msp_id", "link.id"], ondelete="CASCADE",
                             name="fk_link_state_link"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_fk()
    link_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    up: Mapped[bool | None]
    state_since: Mapped[datetime | None]  # first sample of the current run of up (or down) samples
    last_sample_at: Mapped[datetime | None]
    # Means over the samples of the 15 minutes up to the newest sample.
    loss_pct: Mapped[float | None]
    latency_ms: Mapped[float | None]
    jitter_ms: Mapped[float | None]
    flaps_last_hour: Mapped[int] = mapped_column(default=0)
    # Up/down transitions of the hour up to the newest sample (to count flaps without a scan).
    transitions: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)), default=list)
    # Traffic moved to this (backup or hotspot) link at this time and has not moved back.
    on_backup_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class AgentState(Base):
    """The dead man's switch mark: set when an agent falls silent, cleared when it is heard again."""

    __tablename__ = "agent_state"
    __table_args__ = (
        _practice_fk("agent_state"),
        ForeignKeyConstraint(["msp_id", "agent_id"], ["agent.msp_id", "agent.id"], ondelete="CASCADE",
                             name="fk_agent_state_agent"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_fk()
    agent_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    # Newest heartbeat processed (agent.last_seen_at is also touched by the API on every request).
    last_heartbeat_at: Mapped[datetime | None]
    # Its event id: of two heartbeats at the same instant the larger id (code-point order) wins, in
    # whichever batches they arrive (migration 0012).
    last_heartbeat_event_id: Mapped[str | None] = mapped_column(String(64))
    silent_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class BackupRun(TenantMixin, Base):
    """One run of a backup job (HIPAA evidence, kept ≥ 6 years). Partitioned by month of run_at.

    run_key identifies the run across reports: an agent's run by its start time, a ping-reported
    run by the event that finished it. run_at never changes for a run (it is the partition key).
    """

    __tablename__ = "backup_run"
    __table_args__ = (
        _practice_fk("backup_run"),
        UniqueConstraint("msp_id", "backup_job_id", "run_key", "run_at"),
        Index("ix_backup_run_job_finished", "msp_id", "backup_job_id", "finished_at"),
        # The job state's newest restore point and open agent run, read without the job's whole history (0018).
        Index("ix_backup_run_job_restore_point", "msp_id", "backup_job_id", "restore_point_at",
              postgresql_where=text("status = 'success'")),
        Index("ix_backup_run_job_running", "msp_id", "backup_job_id", "started_at", postgresql_where=text("status = 'running'")),
        {"postgresql_partition_by": "RANGE (run_at)"},
    )
    run_at: Mapped[datetime] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    backup_job_id: Mapped[uuid.UUID]
    run_key: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(8))  # agent | ping
    status: Mapped[str] = mapped_column(String(16))  # success | failed | warning | running
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_seconds: Mapped[float | None]
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    files: Mapped[int | None] = mapped_column(BigInteger)
    restore_point_at: Mapped[datetime | None]
    snapshot_id: Mapped[str | None] = mapped_column(String(128))
    verified: Mapped[bool | None]
    exit_code: Mapped[int | None] = mapped_column(BigInteger)  # Windows codes are 32-bit unsigned (0020)
    log_tail: Mapped[str | None] = mapped_column(Text)
    # The report this row holds: later reports of the same run replace it only if they rank higher.
    report_event_id: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime]


class RestoreTest(TenantMixin, Base):
    """A restore or boot verification and its measured duration (the achieved RTO). ≥ 6 years."""

    __tablename__ = "restore_test"
    __table_args__ = (
        _practice_fk("restore_test"),
        UniqueConstraint("msp_id", "source_id", "report_event_id", "started_at"),
        Index("ix_restore_test_job", "msp_id", "backup_job_id", "finished_at"),
        Index("ix_restore_test_system", "msp_id", "system_id", "finished_at"),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    backup_job_id: Mapped[uuid.UUID | None]
    system_id: Mapped[uuid.UUID | None]
    finished_at: Mapped[datetime]
    duration_seconds: Mapped[float]
    success: Mapped[bool]
    notes: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[uuid.UUID]
    report_event_id: Mapped[str] = mapped_column(String(64))


class LinkSample(Base):
    """A raw link probe result (kept 14 days). Partitioned by day of sampled_at.

    No foreign keys (a per-row trigger each, on the worker's busiest insert): the worker writes it
    in the same statement as link_sample_5m, which keeps them, and deleting a practice or MSP removes
    its samples by trigger (migrations/versions/0009_inbox_without_row_fks.py).
    """

    __tablename__ = "link_sample"
    __table_args__ = ({"postgresql_partition_by": "RANGE (sampled_at)"},)
    msp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    link_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sampled_at: Mapped[datetime] = mapped_column(primary_key=True)
    # The inbox row it came from: two samples of one link at one instant stay two rows.
    event_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    up: Mapped[bool]
    latency_ms: Mapped[float | None]
    loss_pct: Mapped[float | None]
    jitter_ms: Mapped[float | None]


class LinkSample5m(Base):
    """Five-minute aggregates of link samples (kept ≥ 13 months). Sums, so merging is commutative."""

    __tablename__ = "link_sample_5m"
    __table_args__ = (
        _practice_fk("link_sample_5m"),
        {"postgresql_partition_by": "RANGE (bucket)"},
    )
    msp_id: Mapped[uuid.UUID] = _msp_fk()
    link_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    samples: Mapped[int]
    up_samples: Mapped[int]
    latency_sum: Mapped[Decimal] = mapped_column(Numeric, default=0)
    latency_count: Mapped[int] = mapped_column(default=0)
    latency_max: Mapped[float | None]
    loss_sum: Mapped[Decimal] = mapped_column(Numeric, default=0)
    loss_count: Mapped[int] = mapped_column(default=0)
    jitter_sum: Mapped[Decimal] = mapped_column(Numeric, default=0)
    jitter_count: Mapped[int] = mapped_column(default=0)
    last_sampled_at: Mapped[datetime]


class FailoverEvent(TenantMixin, Base):
    """Traffic moved from one link to another at a site (and back, when ended_at is known)."""

    __tablename__ = "failover_event"
    __table_args__ = (
        _practice_fk("failover_event"),
        UniqueConstraint("msp_id", "from_link_id", "to_link_id", "started_at"),
        Index("ix_failover_event_site", "msp_id", "site_id", "started_at"),
    )
    site_id: Mapped[uuid.UUID]
    practice_id: Mapped[uuid.UUID]
    from_link_id: Mapped[uuid.UUID]
    to_link_id: Mapped[uuid.UUID]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
