"""What a practice's continuity depends on: systems, the backup jobs that protect them, internet
links, and the people to call."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


class SystemCategory(str, enum.Enum):
    ehr = "ehr"
    practice_management = "practice_management"
    scheduling = "scheduling"
    imaging = "imaging"
    e_prescribing = "e_prescribing"
    phones = "phones"
    iot = "iot"
    endpoints = "endpoints"
    network = "network"
    other = "other"


class BackupLocation(str, enum.Enum):
    onsite = "onsite"
    offsite = "offsite"
    cloud = "cloud"  # counts as an off-site copy


class BackupTool(str, enum.Enum):
    veeam = "veeam"
    datto = "datto"
    acronis = "acronis"
    restic = "restic"
    borg = "borg"
    windows_server_backup = "windows_server_backup"
    other = "other"


class LinkMedium(str, enum.Enum):
    fiber = "fiber"
    cable = "cable"
    dsl = "dsl"
    cellular = "5g_lte"
    satellite = "satellite"
    fixed_wireless = "fixed_wireless"
    other = "other"


class LinkRole(str, enum.Enum):
    primary = "primary"
    backup = "backup"
    hotspot = "hotspot"


class ContactKind(str, enum.Enum):
    staff = "staff"
    msp = "msp"
    isp = "isp"
    vendor = "vendor"
    other = "other"


class System(TenantMixin, Base):
    """A critical application or asset, with the recovery targets the plan promises (minutes)."""

    __tablename__ = "system"
    __table_args__ = (
        _practice_fk("system"),
        UniqueConstraint("msp_id", "practice_id", "name"),
        Index("uq_system_external_id", "msp_id", "practice_id", "external_id", unique=True,
              postgresql_where="external_id IS NOT NULL"),
        CheckConstraint("rto_minutes <= mtd_minutes", name="rto_within_mtd"),
        CheckConstraint("rto_minutes > 0 AND rpo_minutes >= 0 AND mtd_minutes > 0", name="targets_positive"),
        CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),
    )
    practice_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), default=SystemCategory.other.value)
    tier: Mapped[int] = mapped_column(default=2)  # 1 = cannot operate without it … 4 = can wait
    holds_ephi: Mapped[bool] = mapped_column(default=False)
    rto_minutes: Mapped[int]
    rpo_minutes: Mapped[int]
    mtd_minutes: Mapped[int]
    # Which backup copies the plan requires for this system (achieved RPO is checked per copy).
    requires_onsite_copy: Mapped[bool] = mapped_column(default=True)
    requires_offsite_copy: Mapped[bool] = mapped_column(default=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    recovery_procedure: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str | None] = mapped_column(String(100))


class SystemDependency(TenantMixin, Base):
    """A system depends on another system or on an internet link."""

    __tablename__ = "system_dependency"
    __table_args__ = (
        _practice_fk("system_dependency"),
        ForeignKeyConstraint(["msp_id", "system_id"], ["system.msp_id", "system.id"], ondelete="CASCADE",
                             name="fk_system_dependency_system"),
        ForeignKeyConstraint(["msp_id", "depends_on_system_id"], ["system.msp_id", "system.id"], ondelete="CASCADE",
                             name="fk_system_dependency_on_system"),
        ForeignKeyConstraint(["msp_id", "depends_on_link_id"], ["link.msp_id", "link.id"], ondelete="CASCADE",
                             name="fk_system_dependency_on_link"),
        CheckConstraint("(depends_on_system_id IS NULL) <> (depends_on_link_id IS NULL)", name="one_target"),
        CheckConstraint("depends_on_system_id IS NULL OR depends_on_system_id <> system_id", name="not_self"),
        # NULLs are distinct, so each constraint only bites on its own kind of target.
        UniqueConstraint("msp_id", "system_id", "depends_on_system_id", name="uq_system_dependency_on_system"),
        UniqueConstraint("msp_id", "system_id", "depends_on_link_id", name="uq_system_dependency_on_link"),
    )
    practice_id: Mapped[uuid.UUID]
    system_id: Mapped[uuid.UUID]
    depends_on_system_id: Mapped[uuid.UUID | None]
    depends_on_link_id: Mapped[uuid.UUID | None]


class BackupJob(TenantMixin, Base):
    """A backup that protects one or more systems, at one location."""

    __tablename__ = "backup_job"
    __table_args__ = (
        _practice_fk("backup_job"),
        ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], ondelete="SET NULL (site_id)",
                             name="fk_backup_job_site"),
        UniqueConstraint("msp_id", "practice_id", "name"),
        # The off-site and immutability rules read this column; an unknown value would hide a finding.
        CheckConstraint("location IN ('onsite', 'offsite', 'cloud')", name="location_known"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]  # where the agent that reports it runs
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(16))
    tool: Mapped[str] = mapped_column(String(40), default=BackupTool.other.value)
    schedule: Mapped[str] = mapped_column(String(100), default="")  # cron expression or words
    # How often a run is expected; late after this plus a grace period.
    expected_interval_minutes: Mapped[int] = mapped_column(default=1440)
    encrypted: Mapped[bool] = mapped_column(default=False)
    immutable: Mapped[bool] = mapped_column(default=False)
    # The job verifies its restore points; then only verified runs count for achieved RPO.
    verifies: Mapped[bool] = mapped_column(default=False)
    provider: Mapped[str] = mapped_column(String(200), default="")
    baa_on_file: Mapped[bool] = mapped_column(default=False)

    @property
    def offsite(self) -> bool:
        from services.core.inventory.copies import is_offsite  # the one definition (copies.py imports this module)

        return is_offsite(self.location)


class BackupJobSystem(Base):
    """Which systems a backup job protects."""

    __tablename__ = "backup_job_system"
    __table_args__ = (
        _practice_fk("backup_job_system"),
        ForeignKeyConstraint(["msp_id", "backup_job_id"], ["backup_job.msp_id", "backup_job.id"], ondelete="CASCADE",
                             name="fk_backup_job_system_job"),
        ForeignKeyConstraint(["msp_id", "system_id"], ["system.msp_id", "system.id"], ondelete="CASCADE",
                             name="fk_backup_job_system_system"),
    )
    msp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    backup_job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    system_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    practice_id: Mapped[uuid.UUID]


class Link(TenantMixin, Base):
    """An internet circuit at a site, with the thresholds its samples are judged against."""

    __tablename__ = "link"
    __table_args__ = (
        _practice_fk("link"),
        ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], ondelete="CASCADE", name="fk_link_site"),
        UniqueConstraint("msp_id", "site_id", "name"),
        # The single-link rule reads this column; an unknown value would hide a finding.
        CheckConstraint("role IN ('primary', 'backup', 'hotspot')", name="role_known"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    isp: Mapped[str] = mapped_column(String(200), default="")
    medium: Mapped[str] = mapped_column(String(20), default=LinkMedium.other.value)
    role: Mapped[str] = mapped_column(String(16), default=LinkRole.primary.value)
    metered: Mapped[bool] = mapped_column(default=False)
    loss_threshold_pct: Mapped[float] = mapped_column(default=2.0)
    latency_threshold_ms: Mapped[float] = mapped_column(default=150.0)
    jitter_threshold_ms: Mapped[float] = mapped_column(default=30.0)


class Contact(TenantMixin, Base):
    """Someone on the call tree: staff, the MSP, ISPs, vendors (EHR…), in calling order."""

    __tablename__ = "contact"
    __table_args__ = (
        _practice_fk("contact"),
        ForeignKeyConstraint(["msp_id", "alternate_for_id"], ["contact.msp_id", "contact.id"], ondelete="SET NULL (alternate_for_id)",
                             name="fk_contact_alternate"),
        Index("uq_contact_external_id", "msp_id", "practice_id", "external_id", unique=True,
              postgresql_where="external_id IS NOT NULL"),
    )
    practice_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=ContactKind.staff.value)
    organization: Mapped[str] = mapped_column(String(200), default="")
    role_title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    call_order: Mapped[int] = mapped_column(default=100)
    # This contact is called when the one it is an alternate for cannot be reached.
    alternate_for_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None]  # when the contact is also a Seawall user
    notes: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str | None] = mapped_column(String(100))
