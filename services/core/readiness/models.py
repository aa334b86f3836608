"""Measured readiness: the MSP's weights, each practice's current score, the daily trend, reports.

`readiness_current` and `readiness_snapshot` are derived data (recomputed from findings), keyed by
practice rather than by a surrogate id: there is exactly one current score per practice and one
snapshot per practice and day. `readiness_report` keeps the monthly PDFs themselves (bytea), so a
report handed to a practice owner can be downloaded again exactly as it was.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index, LargeBinary, SmallInteger, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


def _msp_key() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)


class ReadinessWeights(TenantMixin, Base):
    """An MSP's own weights: points per component (summing to 100) and points per finding by severity.

    Absent = the defaults of services/core/readiness/weights.py (documented in docs/readiness.md).
    """

    __tablename__ = "readiness_weights"
    __table_args__ = (
        UniqueConstraint("msp_id"),
        CheckConstraint("plan_points + backups_points + connectivity_points + testing_points + people_points = 100",
                        name="components_sum_to_100"),
        CheckConstraint("least(plan_points, backups_points, connectivity_points, testing_points, people_points) >= 0",
                        name="components_not_negative"),
        CheckConstraint("least(critical_points, high_points, medium_points, low_points) >= 0"
                        " AND greatest(critical_points, high_points, medium_points, low_points) <= 100",
                        name="deductions_range"),
    )
    plan_points: Mapped[int]
    backups_points: Mapped[int]
    connectivity_points: Mapped[int]
    testing_points: Mapped[int]
    people_points: Mapped[int]
    critical_points: Mapped[int]
    high_points: Mapped[int]
    medium_points: Mapped[int]
    low_points: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReadinessCurrent(Base):
    """The latest score of one practice, with every finding and the points it cost."""

    __tablename__ = "readiness_current"
    __table_args__ = (
        _practice_fk("readiness_current"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("status IN ('ready', 'at_risk', 'not_ready')", name="status_known"),
        # The portfolio's default order (worst first) reads this index.
        Index("ix_readiness_current_score", "msp_id", "score", "practice_id"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_key()
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    components: Mapped[dict[str, Any]]
    findings: Mapped[list[Any]]
    # Which finding sources were consulted (and which were not available), for honesty in the UI.
    sources: Mapped[list[Any]] = mapped_column(default=list)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the score last moved (or the status): "since" in the UI, and the live event's trigger.
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadinessDirty(Base):
    """Practices whose inputs changed since their score was computed: the worker's to-do list."""

    __tablename__ = "readiness_dirty"
    __table_args__ = (_practice_fk("readiness_dirty"),)
    msp_id: Mapped[uuid.UUID] = _msp_key()
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    since: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class ReadinessClaim(Base):
    """Practices a rescoring pass has taken off the to-do list and is rescoring now (migration 0010)."""

    __tablename__ = "readiness_claim"
    __table_args__ = (_practice_fk("readiness_claim"),)
    msp_id: Mapped[uuid.UUID] = _msp_key()
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(server_default=text("now()"), default=utcnow)


class ReadinessSnapshot(Base):
    """One practice's readiness on one UTC day: the last score of the day and the lowest.

    Kept at least 13 months (the retention task deletes rows older than SNAPSHOT_RETENTION_DAYS).
    """

    __tablename__ = "readiness_snapshot"
    __table_args__ = (
        _practice_fk("readiness_snapshot"),
        CheckConstraint("score BETWEEN 0 AND 100 AND min_score BETWEEN 0 AND score", name="score_range"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_key()
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    min_score: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    # Points lost per component at the day's last computation: the trend can be explained too.
    lost: Mapped[dict[str, Any]] = mapped_column(default=dict)
    findings: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadinessHourly(Base):
    """One practice's readiness in one hour of the last two days: the trend before there are two days.

    Pruned by the daily snapshot task (HOURLY_RETENTION in service.py); migration 0021,
    docs/decisions/0011-portfolio-ties-and-early-trend.md.
    """

    __tablename__ = "readiness_hourly"
    __table_args__ = (
        _practice_fk("readiness_hourly"),
        CheckConstraint("score BETWEEN 0 AND 100 AND min_score BETWEEN 0 AND score", name="score_range"),
    )
    msp_id: Mapped[uuid.UUID] = _msp_key()
    practice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    min_score: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadinessReport(TenantMixin, Base):
    """A monthly practice report (PDF), generated on schedule or on demand."""

    __tablename__ = "readiness_report"
    __table_args__ = (
        _practice_fk("readiness_report"),
        CheckConstraint("kind IN ('scheduled', 'on_demand')", name="kind_known"),
        CheckConstraint("period_end > period_start", name="period_order"),
        Index("ix_readiness_report_practice", "msp_id", "practice_id", "generated_at"),
        # The monthly task is idempotent: one scheduled report per practice and month.
        Index("uq_readiness_report_scheduled", "msp_id", "practice_id", "period_start", unique=True,
              postgresql_where=text("kind = 'scheduled'")),
    )
    practice_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_by: Mapped[uuid.UUID | None]
    generated_by_label: Mapped[str] = mapped_column(String(320), default="")
    score: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, nullable=False)
