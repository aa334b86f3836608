"""What the inventory API takes and gives: systems, backup jobs, links, contacts, imports, findings."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.core.findings import FindingOut
from services.core.inventory.models import BackupLocation, BackupTool, ContactKind, LinkMedium, LinkRole, SystemCategory

# A year and a day: any recovery target beyond that is a typing mistake, not a plan.
MAX_MINUTES = 527_040
MAX_REFERENCES = 200
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str) -> str:
    value = value.strip()
    if value and not EMAIL_RE.match(value):
        raise ValueError("not an email address")
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refused here it is a 422 naming the field, not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("may not contain NUL characters")
        return value


class _Patch(_In):
    """Partial update: omitted fields stay; an explicit null is refused unless the field may be empty."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


# ----- systems -----

class SystemIn(_In):
    name: str = Field(min_length=1, max_length=200)
    category: SystemCategory = SystemCategory.other
    tier: int = Field(default=2, ge=1, le=4, description="1 = the practice cannot operate without it … 4 = can wait")
    holds_ephi: bool = False
    rto_minutes: int = Field(ge=1, le=MAX_MINUTES, description="Recovery time objective; must not exceed mtd_minutes")
    rpo_minutes: int = Field(ge=0, le=MAX_MINUTES, description="Recovery point objective: how much data may be lost")
    mtd_minutes: int = Field(ge=1, le=MAX_MINUTES, description="Maximum tolerable downtime")
    requires_onsite_copy: bool = True
    requires_offsite_copy: bool = True
    owner: str = Field(default="", max_length=200)
    recovery_procedure: str = Field(default="", max_length=20_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    depends_on: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_REFERENCES,
                                        description="Ids of systems and internet links of this practice")


class SystemPatch(_Patch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"external_id"})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: SystemCategory | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    holds_ephi: bool | None = None
    rto_minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    rpo_minutes: int | None = Field(default=None, ge=0, le=MAX_MINUTES)
    mtd_minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    requires_onsite_copy: bool | None = None
    requires_offsite_copy: bool | None = None
    owner: str | None = Field(default=None, max_length=200)
    recovery_procedure: str | None = Field(default=None, max_length=20_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    depends_on: list[uuid.UUID] | None = Field(default=None, max_length=MAX_REFERENCES)


class DependencyOut(BaseModel):
    id: uuid.UUID
    kind: Literal["system", "link"]
    name: str


class SystemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    category: SystemCategory
    tier: int
    holds_ephi: bool
    rto_minutes: int
    rpo_minutes: int
    mtd_minutes: int
    requires_onsite_copy: bool
    requires_offsite_copy: bool
    owner: str
    recovery_procedure: str
    external_id: str | None
    depends_on: list[uuid.UUID]
    dependencies: list[DependencyOut]
    backup_job_ids: list[uuid.UUID]
    created_at: datetime


# ----- backup jobs -----

class BackupJobIn(_In):
    name: str = Field(min_length=1, max_length=200)
    location: BackupLocation
    tool: BackupTool = BackupTool.other
    schedule: str = Field(default="", max_length=100, description="A cron expression or words")
    expected_interval_minutes: int = Field(default=1440, ge=1, le=MAX_MINUTES)
    encrypted: bool = False
    immutable: bool = False
    verifies: bool = False
    provider: str = Field(default="", max_length=200)
    baa_on_file: bool = False
    site_id: uuid.UUID | None = Field(default=None, description="The site whose agent reports this job; without one, no"
                                      " agent may report it (only its ping URL)")
    system_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_REFERENCES,
                                        description="The systems of this practice the job protects")


class BackupJobPatch(_Patch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"site_id"})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    location: BackupLocation | None = None
    tool: BackupTool | None = None
    schedule: str | None = Field(default=None, max_length=100)
    expected_interval_minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    encrypted: bool | None = None
    immutable: bool | None = None
    verifies: bool | None = None
    provider: str | None = Field(default=None, max_length=200)
    baa_on_file: bool | None = None
    site_id: uuid.UUID | None = None
    system_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_REFERENCES)


class BackupJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    name: str
    location: BackupLocation
    tool: BackupTool
    schedule: str
    expected_interval_minutes: int
    encrypted: bool
    immutable: bool
    verifies: bool
    provider: str
    baa_on_file: bool
    system_ids: list[uuid.UUID]
    created_at: datetime


# ----- links -----

class LinkIn(_In):
    site_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    isp: str = Field(default="", max_length=200)
    medium: LinkMedium = LinkMedium.other
    role: LinkRole = LinkRole.primary
    metered: bool = False
    loss_threshold_pct: float = Field(default=2.0, ge=0, le=100)
    latency_threshold_ms: float = Field(default=150.0, gt=0, le=60_000)
    jitter_threshold_ms: float = Field(default=30.0, ge=0, le=60_000)


class LinkPatch(_Patch):
    site_id: uuid.UUID | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    isp: str | None = Field(default=None, max_length=200)
    medium: LinkMedium | None = None
    role: LinkRole | None = None
    metered: bool | None = None
    loss_threshold_pct: float | None = Field(default=None, ge=0, le=100)
    latency_threshold_ms: float | None = Field(default=None, gt=0, le=60_000)
    jitter_threshold_ms: float | None = Field(default=None, ge=0, le=60_000)


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    name: str
    isp: str
    medium: LinkMedium
    role: LinkRole
    metered: bool
    loss_threshold_pct: float
    latency_threshold_ms: float
    jitter_threshold_ms: float
    created_at: datetime


# ----- contacts and the call tree -----

class ContactIn(_In):
    name: str = Field(min_length=1, max_length=200)
    kind: ContactKind = ContactKind.staff
    organization: str = Field(default="", max_length=200)
    role_title: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=320)
    call_order: int = Field(default=100, ge=0, le=10_000, description="Lower is called first")
    alternate_for_id: uuid.UUID | None = Field(default=None, description="Called when this contact cannot be reached")
    notes: str = Field(default="", max_length=5_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)


class ContactPatch(_Patch):
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"alternate_for_id", "external_id"})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: ContactKind | None = None
    organization: str | None = Field(default=None, max_length=200)
    role_title: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    call_order: int | None = Field(default=None, ge=0, le=10_000)
    alternate_for_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=5_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    kind: ContactKind
    organization: str
    role_title: str
    phone: str
    email: str
    call_order: int
    alternate_for_id: uuid.UUID | None
    user_id: uuid.UUID | None
    notes: str
    external_id: str | None
    created_at: datetime


class CallTreeEntry(ContactOut):
    alternates: list[CallTreeEntry] = Field(default_factory=list, description="Called, in order, when this contact cannot be reached")


# ----- imports and findings -----

class ImportRowError(BaseModel):
    row: int | None = Field(description="Line of the CSV record (the header is row 1); null for the file as a whole")
    field: str
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: list[ImportRowError]


# Kept as a name for the inventory router; the schema is the shared one.
InventoryFindingOut = FindingOut
