"""Request and response shapes of the agent, enrollment and ping-URL endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EnrollmentTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in_minutes: int = Field(default=60, ge=5, le=24 * 60)


class EnrollmentTokenOut(BaseModel):
    token: str
    expires_at: datetime
    site_id: uuid.UUID
    install_command: str = Field(description="Linux or macOS: a shell command run as root")
    install_command_windows: str = Field(description="Windows: a PowerShell command run as administrator")


class EnrollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=8, max_length=200)
    hostname: str = Field(default="", max_length=255)
    agent_version: str = Field(default="", max_length=40)


class LinkRef(BaseModel):
    id: uuid.UUID
    name: str
    role: str


class JobRef(BaseModel):
    id: uuid.UUID
    name: str
    tool: str


class SystemRef(BaseModel):
    id: uuid.UUID
    name: str


class AgentConfigOut(BaseModel):
    """What an agent needs to run: who it is, and its site's links, backup jobs and the systems those jobs protect."""

    agent_id: uuid.UUID
    msp_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    heartbeat_interval_seconds: int
    # What Seawall last heard the agent probes its links at (its newest heartbeat; 60 until then).
    probe_interval_seconds: int
    links: list[LinkRef]
    jobs: list[JobRef]
    # What a restore test may name besides its job: the systems the site's backup jobs protect.
    systems: list[SystemRef]


class EnrolledOut(AgentConfigOut):
    credential: str


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    hostname: str
    agent_version: str
    heartbeat_interval_seconds: int
    probe_interval_seconds: int
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    previous_valid_until: datetime | None
    # Heard nothing (since enrollment, if never heard) for the heartbeat interval plus the
    # agent.silent grace of its site (the alert rule's definition); revoked agents are not silent.
    silent: bool = False


class RotatedOut(BaseModel):
    agent_id: uuid.UUID
    credential: str
    previous_valid_until: datetime


class PingUrlOut(BaseModel):
    backup_job_id: uuid.UUID
    url: str
    created_at: datetime
    rotated_at: datetime | None
