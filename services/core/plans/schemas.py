"""What the plan endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from services.core.findings import FindingOut  # noqa: F401  (the plans router lists findings)

SECTION_KEY = r"^[a-z][a-z0-9_]{0,59}$"
# PostgreSQL text cannot hold NUL; saying so in the schema refuses it with the field named.
NO_NUL = r"^[^\x00]*$"
MAX_SECTIONS = 40


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=SECTION_KEY, description="Stable identifier, used to compare versions")
    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    guidance: str = Field(default="", max_length=4000, pattern=NO_NUL)
    required: StrictBool = True  # 0/1 or "yes" are refused, not guessed at
    body: str = Field(default="", max_length=50_000, pattern=NO_NUL)


class SectionOut(BaseModel):
    key: str
    title: str
    guidance: str = ""
    required: bool = True
    body: str = ""
    complete: bool = Field(description="The body is written and has no [[blanks]] left")


class TemplateIn(BaseModel):
    """A new template: a copy of another (the built-in one when no source is named), or given sections."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    description: str = Field(default="", max_length=2000, pattern=NO_NUL)
    source_template_id: uuid.UUID | None = None
    sections: list[SectionIn] | None = Field(default=None, max_length=MAX_SECTIONS)


class TemplatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    description: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    sections: list[SectionIn] | None = Field(default=None, min_length=1, max_length=MAX_SECTIONS)


class TemplateOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    builtin: bool
    sections: list[SectionOut]
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template_id: uuid.UUID | None = Field(default=None, description="Defaults to the built-in template")


class VersionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sections: list[SectionIn] | None = Field(default=None, min_length=1, max_length=MAX_SECTIONS)
    review_interval_months: int | None = Field(default=None, ge=1, le=36)


class SectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    body: str | None = Field(default=None, max_length=50_000, pattern=NO_NUL)


# Dates a plan can sensibly take effect on (also keeps the next review date computable).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_date: date | None = Field(default=None, ge=EARLIEST, le=LATEST, description="Defaults to today")
    review_interval_months: int | None = Field(default=None, ge=1, le=36)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=2000, pattern=NO_NUL, description="What should change before approval")


class VersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    number: int
    status: Literal["draft", "in_review", "approved", "superseded"]
    created_at: datetime
    created_by_label: str
    updated_at: datetime
    submitted_at: datetime | None
    submitted_by_label: str
    approved_at: datetime | None
    approved_by_label: str
    approved_on_behalf: bool
    effective_date: date | None
    review_interval_months: int
    next_review_date: date | None


class VersionOut(VersionSummary):
    sections: list[SectionOut]


class PlanOut(BaseModel):
    id: uuid.UUID
    practice_id: uuid.UUID
    template_name: str
    created_at: datetime
    current_version: VersionSummary | None = Field(description="The approved version in force")
    working_version: VersionSummary | None = Field(description="The draft or the version in review")
    last_exported_at: datetime | None = Field(description="Last export of the current version since its approval")


class SectionDiff(BaseModel):
    key: str
    title: str
    status: Literal["unchanged", "changed", "added", "removed"]
    title_before: str | None = None
    title_after: str | None = None
    diff: str = Field(default="", description="Unified diff of the body (changed sections only)")


class VersionRef(BaseModel):
    id: uuid.UUID
    number: int
    status: str


class DiffOut(BaseModel):
    from_version: VersionRef
    to_version: VersionRef
    sections: list[SectionDiff]


class RoleAssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID = Field(description="A user of this practice")
    role_name: str = Field(min_length=1, max_length=120, pattern=NO_NUL)
    duties: str = Field(default="", max_length=4000, pattern=NO_NUL)
    contact_id: uuid.UUID | None = None
    trained_at: date | None = Field(default=None, ge=EARLIEST, le=LATEST)


class RoleAssignmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role_name: str | None = Field(default=None, min_length=1, max_length=120, pattern=NO_NUL)
    duties: str | None = Field(default=None, max_length=4000, pattern=NO_NUL)
    contact_id: uuid.UUID | None = None
    trained_at: date | None = Field(default=None, ge=EARLIEST, le=LATEST)


class RoleAssignmentOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    user_email: str
    contact_id: uuid.UUID | None
    role_name: str
    duties: str
    trained_at: date | None
    acknowledged_at: datetime | None = Field(description="Acknowledgement of the current approved version, if any")


class AcknowledgementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    plan_version_id: uuid.UUID
    user_id: uuid.UUID
    user_label: str
    acknowledged_at: datetime


class ExportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    plan_version_id: uuid.UUID
    format: Literal["pdf", "html"]
    exported_at: datetime
    exported_by_label: str
    sha256: str
    size_bytes: int


