"""Healthchecks-compatible pings (`/ping/<key>[/start|/fail|/log|/<exit-code>]`, a trailing slash
allowed) and each backup job's ping URL.

A ping is answered "OK"; an error is problem+json like the rest of the API. The tools that speak
this protocol (borgmatic, curl -f in cron jobs, Healthchecks client libraries) read only the status
code, so the error bodies are free to say what went wrong.

In the running app, services/api/hotpath.py answers /ping/… before FastAPI's own stack; the ping
routes here document the operations and serve them when the app is used without that front.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from services.api.deps import DbSession, PracticeOperator, PracticeReader, client_ip
from services.core import ratelimit
from services.core.db import Database
from services.core.errors import PayloadTooLarge
from services.core.settings import get_settings
from services.core.telemetry import pings
from services.core.telemetry.schemas_ingest import PingUrlOut

router = APIRouter(tags=["pings"])

MAX_UPLOAD = 10 * 1024 * 1024  # a larger body is refused (413); of a smaller one the first MAX_BODY bytes are kept


async def _log_head(chunks: AsyncIterator[bytes]) -> str:
    """The body's first MAX_BODY bytes, as Healthchecks keeps them (the rest is read and dropped)."""
    head, size = b"", 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise PayloadTooLarge(f"The body is larger than {MAX_UPLOAD // (1024 * 1024)} MiB; "
                                  f"the first {pings.MAX_BODY:,} bytes of a ping's body are kept.")
        if len(head) < pings.MAX_BODY:
            head += chunk[:pings.MAX_BODY - len(head)]
    # A NUL byte is replaced like invalid UTF-8: PostgreSQL cannot store it, and a log is kept as text.
    return head.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


async def answer_ping(database: Database, key: str, signal: str | None, rid: str | None, chunks: AsyncIterator[bytes],
                      user_agent: str, remote_addr: str | None) -> str:
    """One ping, whichever front serves it (services/api/hotpath.py, or the routes below): the answer's
    text. An error is raised as a DomainError, which both fronts answer as problem+json."""
    kind, exit_code = pings.parse_signal(signal)
    run_id = pings.parse_rid(rid)
    target = await pings.find_target(database, key)
    if target is None:
        raise pings.UnknownPingKey()
    await ratelimit.hit(get_settings().ping_rate_limit, "ping", str(target.job_id))
    body = await _log_head(chunks)
    if not await pings.record_ping(database, target, kind, exit_code, run_id, body, user_agent, remote_addr):
        raise pings.UnknownPingKey()
    return "OK"


async def _ping(request: Request, key: str, signal: str | None) -> PlainTextResponse:
    return PlainTextResponse(await answer_ping(request.app.state.db, key, signal, request.query_params.get("rid"),
                                               request.stream(), request.headers.get("user-agent", ""), client_ip(request)))


_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_DOC: dict[str, Any] = {"responses": {"200": {"description": "OK", "content": {"text/plain": {}}},
                      "400": {"description": "The run id (rid) is not a UUID", **_PROBLEM},
                      "404": {"description": "No backup job has this key, or the signal is not one of the protocol's",
                              **_PROBLEM},
                      "413": {"description": "The body is larger than 10 MiB", **_PROBLEM},
                      "429": {"description": "Too many pings for this job; retry after Retry-After seconds", **_PROBLEM}}}
# curl -fsS "$URL/" must not get a redirect (curl exits 0 on a 307 and the ping is lost).
_SLASH: dict[str, Any] = {"include_in_schema": False, "response_class": PlainTextResponse}


@router.get("/ping/{key}/", **_SLASH)
@router.get("/ping/{key}", operation_id="ping_get", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_get(key: str, request: Request) -> PlainTextResponse:
    """Report that the backup job succeeded (Healthchecks-compatible; HEAD works as GET)."""
    return await _ping(request, key, None)


@router.post("/ping/{key}/", **_SLASH)
@router.post("/ping/{key}", operation_id="ping_post", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_post(key: str, request: Request) -> PlainTextResponse:
    """Report that the backup job succeeded; the body (its first 100,000 bytes) is a line of the run's log."""
    return await _ping(request, key, None)


@router.head("/ping/{key}/", **_SLASH)
@router.head("/ping/{key}", **_SLASH)
async def ping_head(key: str, request: Request) -> PlainTextResponse:
    return await _ping(request, key, None)


@router.get("/ping/{key}/{signal}/", **_SLASH)
@router.get("/ping/{key}/{signal}", operation_id="ping_signal_get", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_signal_get(key: str, signal: str, request: Request) -> PlainTextResponse:
    """Report a run's start, failure, log line or exit code (`start`, `fail`, `log`, `0`–`255`)."""
    return await _ping(request, key, signal)


@router.post("/ping/{key}/{signal}/", **_SLASH)
@router.post("/ping/{key}/{signal}", operation_id="ping_signal_post", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_signal_post(key: str, signal: str, request: Request) -> PlainTextResponse:
    """Report a run's start, failure, log or exit code; the body (its first 100,000 bytes) is a line of the run's log."""
    return await _ping(request, key, signal)


@router.head("/ping/{key}/{signal}/", **_SLASH)
@router.head("/ping/{key}/{signal}", **_SLASH)
async def ping_signal_head(key: str, signal: str, request: Request) -> PlainTextResponse:
    return await _ping(request, key, signal)


@router.get("/api/v1/practices/{practice_id}/backup-jobs/{backup_job_id}/ping-url", operation_id="get_backup_job_ping_url",
            response_model=PingUrlOut)
async def get_backup_job_ping_url(backup_job_id: uuid.UUID, access: PracticeReader, db: DbSession) -> PingUrlOut:
    """The backup job's Healthchecks-compatible ping URL (created on first use)."""
    job = await pings.get_backup_job(db, access.msp_id, access.practice_id, backup_job_id)
    return await pings.get_or_create_url(db, job, access.actor)


@router.post("/api/v1/practices/{practice_id}/backup-jobs/{backup_job_id}/ping-url/rotate",
             operation_id="rotate_backup_job_ping_url", response_model=PingUrlOut)
async def rotate_backup_job_ping_url(backup_job_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> PingUrlOut:
    """Replace the job's ping URL; the old one stops working at once."""
    job = await pings.get_backup_job(db, access.msp_id, access.practice_id, backup_job_id)
    return await pings.rotate_url(db, job, access.actor)
