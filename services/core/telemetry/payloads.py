"""The recorded event as the worker reads it: one check per inbox payload, before anything applies it.

events.py validates what agents send; this validates what the inbox holds (the table in events.py's
docstring), which is what the appliers and the claim statement read. A row written by an older or
buggy release, or edited by hand, fails here with the field named, and only such an event is set
aside (unapplicable.py). Extra keys are allowed: a newer release may record more than this one
reads. Ranges are those of the columns the values land in (an int8 size), and a run's exit code is
bounded as ingest bounds it (events.EXIT_CODE_MAX: Windows codes are 32-bit unsigned).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from services.core.errors import validation_message
from services.core.telemetry.events import EXIT_CODE_MAX, EXIT_CODE_MIN
from services.core.telemetry.unapplicable import UnapplicableEvent

# Timestamps and ids are strings in JSON: parsed leniently; everything else is taken as stored.
When = Annotated[AwareDatetime, Field(strict=False)]
Id = Annotated[uuid.UUID, Field(strict=False)]
Int4 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int8 = Annotated[int, Field(ge=0, le=2**63 - 1)]
ExitCode = Annotated[int, Field(ge=EXIT_CODE_MIN, le=EXIT_CODE_MAX)]  # what ingest accepts, into a bigint column
Measure = Annotated[float, Field(ge=0, le=600_000, strict=False)]  # JSON numbers: an int is a float here


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class HeartbeatPayload(_Payload):
    agent_version: Annotated[str, Field(max_length=40)] | None = None  # agent.agent_version, varchar(40)
    hostname: Annotated[str, Field(max_length=255)] | None = None


class BackupRunPayload(_Payload):
    job_id: Id
    status: Literal["success", "failed", "warning", "running"]
    started_at: When
    finished_at: When | None = None
    bytes: Int8 | None = None
    files: Int8 | None = None
    restore_point_at: When | None = None
    snapshot_id: Annotated[str, Field(max_length=128)] | None = None
    verified: bool | None = None
    exit_code: ExitCode | None = None
    log_tail: str | None = None


class RestoreTestPayload(_Payload):
    job_id: Id | None = None
    system_id: Id | None = None
    started_at: When
    finished_at: When
    success: bool
    notes: str | None = None

    @model_validator(mode="after")
    def _names_what_was_restored(self) -> "RestoreTestPayload":
        if self.job_id is None and self.system_id is None:
            raise ValueError("names neither a backup job nor a system")
        return self


class LinkSamplePayload(_Payload):
    link_id: Id
    up: bool
    latency_ms: Measure | None = None
    loss_pct: Annotated[float, Field(ge=0, le=100, strict=False)] | None = None
    jitter_ms: Measure | None = None


class FailoverPayload(_Payload):
    from_link_id: Id
    to_link_id: Id
    started_at: When
    ended_at: When | None = None


class PingPayload(_Payload):
    job_id: Id
    kind: Literal["start", "success", "fail", "log"]
    exit_code: Int4 | None = None
    # ping_step.run_id is varchar(64); the API records a UUID, lower-cased, and an older row is checked here.
    rid: Annotated[str, Field(max_length=64)] | None = None
    body: str
    user_agent: str = ""
    remote_addr: str | None = None

    @field_validator("rid")
    @classmethod
    def _fits_lower_cased(cls, rid: str | None) -> str | None:
        # The worker keys the step by rid.lower(), which is longer than rid for a few characters (İ).
        if rid is not None and len(rid.lower()) > 64:
            raise PydanticCustomError("string_too_long", "is too long")
        return rid


SCHEMAS: dict[str, type[_Payload]] = {
    "heartbeat": HeartbeatPayload, "backup_run": BackupRunPayload, "restore_test": RestoreTestPayload,
    "link_sample": LinkSamplePayload, "failover": FailoverPayload, "ping": PingPayload,
}

_WORDS = {"missing": "is missing", "bool_type": "is not true or false", "int_type": "is not a whole number",
          "string_type": "is not text", "uuid_parsing": "is not an id", "uuid_type": "is not an id",
          "literal_error": "is not one of the values this version knows", "less_than_equal": "is too large",
          "greater_than_equal": "is too small", "datetime_from_date_parsing": "is not a time",
          "datetime_parsing": "is not a time", "timezone_aware": "has no time zone", "float_type": "is not a number",
          "datetime_type": "is not a time", "string_too_long": "is too long"}


def check(seq: int, type_: str, payload: Any) -> None:
    """Raise UnapplicableEvent (with the seq, the field and plain words) when the payload cannot be read."""
    schema = SCHEMAS.get(type_)
    if schema is None:
        raise UnapplicableEvent(f"is of a type this version does not know ({type_[:32]})", seq=seq, code="unknown_type")
    if not isinstance(payload, dict):
        raise UnapplicableEvent("holds no fields", seq=seq, code="invalid_payload")
    try:
        schema.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        words = _WORDS.get(first["type"]) or validation_message(first)
        raise UnapplicableEvent(f"{field} {words}" if field else words, seq=seq, code="invalid_payload",
                                field=field) from None


def problems(rows: list[tuple[int, str, Any]]) -> list[UnapplicableEvent]:
    """Every invalid payload among (seq, type, payload) rows, as the exceptions check() raises."""
    out = []
    for seq, type_, payload in rows:
        try:
            check(seq, type_, payload)
        except UnapplicableEvent as exc:
            out.append(exc)
    return out
