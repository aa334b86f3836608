"""The typed events of POST /api/v1/ingest (docs/api/agent-protocol.md) and what the inbox keeps.

Wire events are validated strictly: unknown fields are refused, JSON types are not coerced, every
timestamp carries an offset, and `occurred_at` lies within [now − 30 days, now + 5 minutes].

What the worker reads (`telemetry_event.payload`, timestamps as ISO 8601 UTC strings, optional
fields absent rather than null; references already resolved to ids of the agent's site, site_scope.py):

| type | payload |
|---|---|
| heartbeat | agent_version?, hostname?, heartbeat_interval_seconds?, probe_interval_seconds? |
| backup_run | job_id, status, started_at, finished_at?, bytes?, files?, restore_point_at?, snapshot_id?, verified?, exit_code?, log_tail? |
| restore_test | job_id?, system_id? (at least one), started_at, finished_at, success, notes? |
| link_sample | link_id, up, latency_ms?, loss_pct?, jitter_ms? |
| failover | from_link_id, to_link_id, started_at, ended_at? |
| ping | job_id, kind (start, success, fail, log), exit_code?, rid?, body, user_agent, remote_addr? |

For pings, `/ping/<key>/<exit-code>` is recorded as kind success (0) or fail (other) with its exit_code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from services.core.telemetry.liveness import (
    MAX_HEARTBEAT_INTERVAL_SECONDS,
    MAX_PROBE_INTERVAL_SECONDS,
    MIN_HEARTBEAT_INTERVAL_SECONDS,
    MIN_PROBE_INTERVAL_SECONDS,
)

MAX_EVENTS = 1_000
MAX_PAST = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=5)
LOG_TAIL_CHARS = 10_000

Ref = Annotated[str, Field(min_length=1, max_length=200)]
# Exit codes: POSIX 0–255 and 128+signal, but Windows tools report 32-bit values, signed or not
# (0xC0000005 is 3221225477 or -1073741819). The one bound for ingest and for the worker's check of
# the recorded run (payloads.py); the columns they land in are bigint (0020).
EXIT_CODE_MIN, EXIT_CODE_MAX = -(2**31), 2**32 - 1
ExitCode = Annotated[int, Field(ge=EXIT_CODE_MIN, le=EXIT_CODE_MAX)]


def _later_than(field: str):
    """A validator: this timestamp may not come before `field` of the same event."""

    def check(value: datetime | None, info: ValidationInfo) -> datetime | None:
        earlier = info.data.get(field)
        if value is not None and earlier is not None and value < earlier:
            raise PydanticCustomError("time_order", f"must not be before {field}")
        return value

    return check


class _Event(BaseModel):
    # strict: "1" is not an int and "true" is not a bool — an agent bug should be loud, not guessed at.
    # occurred_at's window is checked per batch (outside_window), not by a validator here: a Python
    # validator per event was half of the validation time of a 100-event batch.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    id: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime


class Heartbeat(_Event):
    type: Literal["heartbeat"]
    agent_version: str | None = Field(default=None, max_length=40)
    hostname: str | None = Field(default=None, max_length=255)
    # The interval the agent heartbeats at: silence is judged by it from then on
    # (docs/decisions/0009-one-silence.md).
    heartbeat_interval_seconds: int | None = Field(default=None, ge=MIN_HEARTBEAT_INTERVAL_SECONDS,
                                                   le=MAX_HEARTBEAT_INTERVAL_SECONDS)
    # How often the agent probes its site's links: a link is "no data" after N of these without a
    # sample (liveness.link_reading, docs/decisions/0015-links-with-no-data.md).
    probe_interval_seconds: int | None = Field(default=None, ge=MIN_PROBE_INTERVAL_SECONDS,
                                               le=MAX_PROBE_INTERVAL_SECONDS)


class BackupRun(_Event):
    type: Literal["backup_run"]
    job: Ref
    status: Literal["success", "failed", "warning", "running"]
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    bytes: int | None = Field(default=None, ge=0, le=2**63 - 1)
    files: int | None = Field(default=None, ge=0, le=2**63 - 1)
    restore_point_at: AwareDatetime | None = None
    snapshot_id: str | None = Field(default=None, max_length=128)
    verified: bool | None = None
    exit_code: ExitCode | None = None
    log_tail: str | None = Field(default=None, max_length=LOG_TAIL_CHARS)

    _order = field_validator("finished_at")(_later_than("started_at"))


class RestoreTest(_Event):
    type: Literal["restore_test"]
    job: Ref | None = None
    system: Ref | None = None
    started_at: AwareDatetime
    finished_at: AwareDatetime
    success: bool
    notes: str | None = Field(default=None, max_length=2_000)

    _order = field_validator("finished_at")(_later_than("started_at"))

    @model_validator(mode="after")
    def _names_what_was_restored(self) -> "RestoreTest":
        if self.job is None and self.system is None:
            raise PydanticCustomError("missing_subject", "a restore test names its job or its system (or both)")
        return self


class LinkSample(_Event):
    type: Literal["link_sample"]
    link: Ref
    up: bool
    latency_ms: float | None = Field(default=None, ge=0, le=600_000)
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    jitter_ms: float | None = Field(default=None, ge=0, le=600_000)


class Failover(_Event):
    type: Literal["failover"]
    from_link: Ref
    to_link: Ref
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None

    _order = field_validator("ended_at")(_later_than("started_at"))


AgentEvent = Annotated[Union[Heartbeat, BackupRun, RestoreTest, LinkSample, Failover], Field(discriminator="type")]


class IngestBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    events: list[AgentEvent] = Field(min_length=1, max_length=MAX_EVENTS)


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


# Which wire fields name an inventory object, the kind of object, and the payload key of its id.
REFERENCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "backup_run": (("job", "job", "job_id"),),
    "restore_test": (("job", "job", "job_id"), ("system", "system", "system_id")),
    "link_sample": (("link", "link", "link_id"),),
    "failover": (("from_link", "link", "from_link_id"), ("to_link", "link", "to_link_id")),
    "heartbeat": (),
}


def outside_window(events: Sequence[_Event], now: datetime | None = None) -> list[tuple[int, str, str]]:
    """(index, event id, why) of every event whose occurred_at lies outside [now − 30 days, now + 5 minutes]."""
    now = now or datetime.now(timezone.utc)
    latest, earliest = now + MAX_FUTURE, now - MAX_PAST
    out = []
    for index, event in enumerate(events):
        at = event.occurred_at
        if at > latest:
            out.append((index, event.id, "is more than 5 minutes in the future; check the agent's clock"))
        elif at < earliest:
            out.append((index, event.id, "is more than 30 days in the past"))
    return out


def _payload_plan(model: type[_Event]) -> tuple[tuple[str, str, bool, bool], ...]:
    """Per event type, once: (field, payload key, is a reference, is a timestamp) of every payload field."""
    (type_name,) = get_args(model.model_fields["type"].annotation)
    refs = {wire: key for wire, _, key in REFERENCES[type_name]}
    plan = []
    for name, info in model.model_fields.items():
        if name in ("id", "type", "occurred_at"):
            continue
        plan.append((name, refs.get(name, name), name in refs, _is_time(info.annotation)))
    return tuple(plan)


def _is_time(annotation: Any) -> bool:
    return annotation in (datetime, AwareDatetime) or any(_is_time(arg) for arg in get_args(annotation))


_PAYLOAD_PLANS: dict[type[_Event], tuple[tuple[str, str, bool, bool], ...]] = {model: _payload_plan(model) for model in (Heartbeat, BackupRun, RestoreTest, LinkSample, Failover)}


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def payload_of(event: _Event, resolved: dict[str, str]) -> dict[str, Any]:
    """The inbox payload: the event's own fields, references replaced by the resolved ids."""
    out: dict[str, Any] = {}
    values = event.__dict__
    for name, key, is_ref, is_time in _PAYLOAD_PLANS[type(event)]:
        value = values[name]
        if value is None:
            continue
        out[key] = resolved[name] if is_ref else _iso(value) if is_time else value
    return out
