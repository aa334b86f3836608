"""Event constructors for the ingest contract (docs/api/agent-protocol.md).

The id is a uuid4 chosen here, once, when the event is created: it is written to the spool
with the event, so every resend after a lost response carries the same id and the server
drops the duplicate.
"""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from seawall_agent import __version__
from seawall_agent.probes import ProbeResult

Event = dict[str, Any]

LOG_TAIL_CHARS = 10_000  # the contract's limit for backup_run.log_tail


def rfc3339(moment: datetime) -> str:
    """UTC with an explicit offset, as the contract requires; milliseconds are plenty."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def now() -> datetime:
    return datetime.now(UTC)


def new_event(event_type: str, occurred_at: datetime | None = None, **fields: Any) -> Event:
    # The contract has no nulls: an unknown optional value is left out rather than sent as null.
    event: Event = {"id": str(uuid.uuid4()), "type": event_type, "occurred_at": rfc3339(occurred_at or now())}
    event.update({key: value for key, value in fields.items() if value is not None})
    return event


def heartbeat(interval_seconds: int, probe_interval_seconds: int) -> Event:
    # The intervals go with every heartbeat: Seawall judges this agent silent by the first and its
    # site's links "no data" by the second, so a changed setting counts from the first heartbeat
    # sent with it.
    return new_event("heartbeat", agent_version=__version__, hostname=socket.gethostname(),
                     heartbeat_interval_seconds=interval_seconds, probe_interval_seconds=probe_interval_seconds)


def link_sample(link_ref: str, result: ProbeResult, occurred_at: datetime | None = None) -> Event:
    return new_event(
        "link_sample",
        occurred_at,
        link=link_ref,
        up=result.up,
        latency_ms=result.latency_ms,
        loss_pct=result.loss_pct,
        jitter_ms=result.jitter_ms,
    )


def backup_run(
    job_ref: str,
    *,
    status: str,
    started_at: datetime,
    finished_at: datetime,
    exit_code: int | None = None,
    log_tail: str | None = None,
    bytes_: int | None = None,
    files: int | None = None,
    snapshot_id: str | None = None,
    restore_point_at: datetime | None = None,
) -> Event:
    return new_event(
        "backup_run",
        finished_at,
        job=job_ref,
        status=status,
        started_at=rfc3339(started_at),
        finished_at=rfc3339(finished_at),
        exit_code=exit_code,
        log_tail=log_tail[-LOG_TAIL_CHARS:] if log_tail else None,
        bytes=bytes_,
        files=files,
        snapshot_id=snapshot_id,
        restore_point_at=rfc3339(restore_point_at) if restore_point_at else None,
    )


def describe(event: Event) -> str:
    """The event in words for an operator's terminal or log: what it reports, and about what."""
    kind = event.get("type")
    if kind == "backup_run":
        return f"the report of a run of job {event.get('job')!r}"
    if kind == "link_sample":
        return f"a sample of link {event.get('link')!r}"
    if kind == "heartbeat":
        return "a heartbeat"
    if kind == "restore_test":
        return "a restore test"
    if kind == "failover":
        return f"a failover from link {event.get('from_link')!r} to {event.get('to_link')!r}"
    return f"event {event.get('id')!r}"
