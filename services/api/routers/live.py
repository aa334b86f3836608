"""Live updates: one Server-Sent Events stream per signed-in user (services/core/readiness/events.py).

The stream is left out of the OpenAPI document on purpose: OpenAPI cannot describe an endless event
stream, generated clients cannot consume one (the web app uses EventSource), and contract tools
that call every operation would wait on it forever. docs/readiness.md documents it instead.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from services.api import deps
from services.core.base import utcnow
from services.core.database_server import libpq
from services.core.errors import Unauthorized
from services.core.identity import sessions
from services.core.identity.models import User, UserSession
from services.core.identity.principal import Principal
from services.core.readiness.events import LiveBus
from services.core.settings import get_settings

HEARTBEAT_SECONDS = 15.0
_bus_lock = asyncio.Lock()


@asynccontextmanager
async def _lifespan(app: FastAPI):
    yield
    bus: LiveBus | None = getattr(app.state, "live_bus", None)
    if bus is not None:
        await bus.stop()


router = APIRouter(tags=["live"], lifespan=_lifespan)


async def live_bus(request: Request) -> LiveBus:
    """The process's one listener, started on the first stream."""
    app = request.app
    async with _bus_lock:
        bus: LiveBus | None = getattr(app.state, "live_bus", None)
        if bus is None:
            bus = LiveBus(libpq(app.state.db.engine.url.render_as_string(hide_password=False)))
            app.state.live_bus = bus
        bus.start()
    return bus


async def _resolve(request: Request) -> Principal | None:
    """The caller, re-read from the database without extending the session's idle timer.

    A stream is not activity: a user who leaves a tab open is signed out on the usual idle timeout,
    and the stream ends with the session.
    """
    auth = request.headers.get("authorization", "")
    async with request.app.state.db.transaction() as db:
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            return await sessions.principal_for_token(db, token, deps.client_ip(request)) if token.startswith("swt_") else None
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        if not cookie:
            return None
        s = await db.scalar(select(UserSession).where(UserSession.token_hash == sessions.hash_token(cookie)))
        now = utcnow()
        idle = timedelta(minutes=get_settings().session_idle_minutes)
        if s is None or not s.mfa_passed or s.ended_at is not None or now >= s.expires_at or now - s.last_seen_at >= idle:
            return None
        user = await db.get(User, s.user_id)
        if user is None or not user.is_active:
            return None
        return await sessions.principal_for_user(db, user, s.active_msp_id, session_id=s.id, ip=deps.client_ip(request))


def _frame(event: dict) -> str:
    data = json.dumps({"practice_id": event.get("practice_id"), **event.get("data", {})}, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n"


@router.get("/api/v1/live", operation_id="stream_live_events", include_in_schema=False)
async def stream_live_events(request: Request) -> StreamingResponse:
    """Server-Sent Events for the caller: incidents, readiness changes and agents going on- or offline."""
    principal = await _resolve(request)
    if principal is None or principal.kind == "agent":
        raise Unauthorized("Sign in, or send a personal API token.")
    bus = await live_bus(request)
    if not await bus.wait_listening():
        raise RuntimeError("the live listener could not reach the database")
    sub = bus.subscribe(principal)

    async def frames():
        try:
            yield f"retry: 5000\n: connected as {principal.label or principal.kind}\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    refreshed = await _resolve(request)
                    if refreshed is None:
                        yield "event: session.ended\ndata: {}\n\n"
                        return
                    # Visibility may have changed (a technician unassigned): filter with the new one.
                    sub.principal = refreshed
                    yield ": heartbeat\n\n"
                    continue
                yield _frame(event)
                if sub.overflowed and sub.queue.empty():
                    yield "event: resync\ndata: {}\n\n"
                    return
        finally:
            bus.unsubscribe(sub)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
