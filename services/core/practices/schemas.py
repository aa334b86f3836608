from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.core.timezones import TimeZoneName


class _Patch(BaseModel):
    """A partial update: a field left out keeps its value; null is refused where the value is required."""

    model_config = ConfigDict(extra="forbid")
    _nullable: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self):
        bad = [k for k in self.model_fields_set if getattr(self, k) is None and k not in self._nullable]
        if bad:
            raise ValueError(f"{', '.join(sorted(bad))} cannot be null; leave the field out to keep its value")
        return self


class PracticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="clinic", min_length=1, max_length=40)
    timezone: TimeZoneName = "America/New_York"


class PracticePatch(_Patch):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, min_length=1, max_length=40)
    timezone: TimeZoneName | None = None
    active: bool | None = None


class PracticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    kind: str
    timezone: str
    active: bool
    created_at: datetime


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class SitePatch(_Patch):
    _nullable = frozenset({"address"})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    address: str | None
    created_at: datetime
