"""Healthchecks-compatible pings (`/ping/<key>[/start|/fail|/log|/<exit-code>]`) and each backup
job's ping URL.

Ping answers are plain text — "OK", "not found", "rate limited" — not problem+json: the tools that
speak this protocol (borgmatic, curl in cron jobs, Healthchecks client libraries) were written
against Healthchecks, and some of them log or compare the body they get back.

In the running app, services/api/hotpath.py answers /ping/… before FastAPI's own stack; the ping
routes here document the operations and serve them when the app is used without that front.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from services.api.deps import DbSession, PracticeOperator, PracticeReader, client_ip
from services.core import ratelimit
from services.core.db import Database
from services.core.errors import RateLimited
from services.core.settings import get_settings
from services.core.telemetry import pings
from services.core.telemetry.schemas_ingest import PingUrlOut

router = APIRouter(tags=["pings"])

MAX_UPLOAD = 10 * 1024 * 1024  # read at most this much of a ping body; its last 100 KB are kept


async def _log_tail(chunks: AsyncIterator[bytes]) -> str | None:
    """The body's last 100 KB — the end of a backup log is what explains a failure (Healthchecks keeps
    the start; borgmatic already sends only the tail, so for it the two agree)."""
    tail, size = b"", 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_UPLOAD:
            return None
        tail = (tail + chunk)[-pings.MAX_BODY:]
    # A NUL byte is replaced like invalid UTF-8: PostgreSQL cannot store it, and a log is kept as text.
    return tail.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


async def answer_ping(database: Database, key: str, signal: str | None, rid: str | None, chunks: AsyncIterator[bytes],
                      user_agent: str, remote_addr: str | None) -> tuple[int, str, dict[str, str]]:
    """One ping, whichever front serves it (services/api/hotpath.py, or the routes below): status, text, headers."""
    parsed = pings.parse_signal(signal)
    if parsed is None:
        return 404, "not found", {}
    if rid is not None and (not 0 < len(rid) <= 64 or "\x00" in rid):  # PostgreSQL stores no NUL
        return 400, "invalid rid", {}
    target = await pings.find_target(database, key)
    if target is None:
        return 404, "not found", {}
    try:
        await ratelimit.hit(get_settings().ping_rate_limit, "ping", str(target.job_id))
    except RateLimited as exc:
        return 429, "rate limited", {"Retry-After": str(exc.retry_after)}
    body = await _log_tail(chunks)
    if body is None:
        return 413, "request body too large", {}
    kind, exit_code = parsed
    if not await pings.record_ping(database, target, kind, exit_code, rid, body, user_agent, remote_addr):
        return 404, "not found", {}
    return 200, "OK", {}


async def _ping(request: Request, key: str, signal: str | None) -> PlainTextResponse:
    status, words, headers = await answer_ping(request.app.state.db, key, signal, request.query_params.get("rid"),
                                               request.stream(), request.headers.get("user-agent", ""), client_ip(request))
    return PlainTextResponse(words, status_code=status, headers=headers or None)


_DOC = {"responses": {"200": {"description": "OK", "content": {"text/plain": {}}},
                      "404": {"description": "not found", "content": {"text/plain": {}}}}}


@router.get("/ping/{key}", operation_id="ping_get", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_get(key: str, request: Request) -> PlainTextResponse:
    """Report that the backup job succeeded (Healthchecks-compatible)."""
    return await _ping(request, key, None)


@router.post("/ping/{key}", operation_id="ping_post", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_post(key: str, request: Request) -> PlainTextResponse:
    """Report that the backup job succeeded; the body (≤ 100 KB kept) is the run's log."""
    return await _ping(request, key, None)


@router.head("/ping/{key}", include_in_schema=False)
async def ping_head(key: str, request: Request) -> PlainTextResponse:
    return await _ping(request, key, None)


@router.get("/ping/{key}/{signal}", operation_id="ping_signal_get", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_signal_get(key: str, signal: str, request: Request) -> PlainTextResponse:
    """Report a run's start, failure, log line or exit code (`start`, `fail`, `log`, `0`–`255`)."""
    return await _ping(request, key, signal)


@router.post("/ping/{key}/{signal}", operation_id="ping_signal_post", response_class=PlainTextResponse, openapi_extra=_DOC)
async def ping_signal_post(key: str, signal: str, request: Request) -> PlainTextResponse:
    """Report a run's start, failure, log or exit code, with the body as the run's log."""
    return await _ping(request, key, signal)


@router.head("/ping/{key}/{signal}", include_in_schema=False)
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
