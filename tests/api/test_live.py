"""GET /api/v1/live: Server-Sent Events over a real HTTP server, filtered by what the caller may see."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import text

from services.api.routers import live
from services.core.db import Scope
from services.core.readiness.events import publish
from tests.factories import sign_in


class Stream:
    """An open SSE stream collecting (event, data) frames in the background."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.frames: list[tuple[str, dict]] = []
        self.comments: list[str] = []
        self.ended = asyncio.Event()
        self.connected = asyncio.Event()
        self.status: int | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        try:
            async with self.client.stream("GET", "/api/v1/live", timeout=httpx.Timeout(30, read=30)) as r:
                self.status = r.status_code
                event = None
                async for line in r.aiter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.connected.set()
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event:
                        self.frames.append((event, json.loads(line[6:])))
                        event = None
        finally:
            self.connected.set()
            self.ended.set()

    def of_type(self, type_: str) -> list[dict]:
        return [d for e, d in self.frames if e == type_]

    async def close(self):
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass


@pytest.fixture
async def live_client(live_server):
    async with httpx.AsyncClient(base_url=live_server.url) as c:
        yield c


async def sign_in_live(client, live_client, person) -> None:
    """Sign in through the in-process app, then carry the session cookie to the plain-HTTP server.

    The auth router marks cookies Secure from the global settings, so a browser-like client would
    not send them over the live server's http:// URL.
    """
    await sign_in(client, person)
    live_client.cookies.set("seawall_session", client.cookies.get("seawall_session"))


async def publish_all(db, tenant, other_tenant, type_="readiness.changed"):
    for t, practice in ((tenant, tenant.practice), (tenant, tenant.sibling), (other_tenant, other_tenant.practice)):
        async with db.transaction(Scope(t.msp_id)) as s:
            await publish(s, t.msp_id, practice.id, type_, {"score": 42, "marker": str(practice.id)})


async def open_stream(client) -> Stream:
    stream = Stream(client)
    await asyncio.wait_for(stream.connected.wait(), 20)
    assert stream.status == 200
    return stream


@pytest.mark.parametrize("person,sees_sibling", [("msp_technician", True), ("assigned_technician", False),
                                                 ("practice_staff", False), ("practice_owner", False)])
async def test_each_user_receives_only_events_of_practices_they_may_see(db, client, live_client, tenant, other_tenant, person, sees_sibling):
    await sign_in_live(client, live_client, tenant[person])
    stream = await open_stream(live_client)
    try:
        await publish_all(db, tenant, other_tenant)
        async with db.transaction(Scope(tenant.msp_id)) as s:  # rolled back: never delivered
            await publish(s, tenant.msp_id, tenant.practice.id, "incident.opened", {"marker": "rolled-back"})
            await s.rollback()
        expected = {str(tenant.practice.id)} | ({str(tenant.sibling.id)} if sees_sibling else set())
        for _ in range(100):
            if {d["practice_id"] for d in stream.of_type("readiness.changed")} >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        got = {d["practice_id"] for d in stream.of_type("readiness.changed")}
        assert got == expected
        assert stream.of_type("incident.opened") == []
    finally:
        await stream.close()


async def test_the_stream_heartbeats_and_ends_when_the_session_ends(db, owner_db, client, live_client, tenant, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.3)
    await sign_in_live(client, live_client, tenant["practice_staff"])
    stream = await open_stream(live_client)
    try:
        await asyncio.sleep(1.0)
        assert any("heartbeat" in c for c in stream.comments)
        async with owner_db.transaction() as s:
            await s.execute(text("UPDATE user_session SET ended_at = now() WHERE user_id = :u AND ended_at IS NULL"),
                            {"u": tenant["practice_staff"].user_id})
        await asyncio.wait_for(stream.ended.wait(), 10)
        assert stream.frames[-1][0] == "session.ended"
    finally:
        await stream.close()


async def test_anonymous_callers_get_401(live_client):
    r = await live_client.get("/api/v1/live")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


async def test_other_msp_gets_404(db, client, live_client, tenant, other_tenant):
    """The stream has no object in its path; another MSP's events simply never arrive."""
    await sign_in_live(client, live_client, other_tenant["msp_owner"])
    stream = await open_stream(live_client)
    try:
        await publish_all(db, tenant, other_tenant)
        for _ in range(100):
            if stream.of_type("readiness.changed"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert {d["practice_id"] for d in stream.of_type("readiness.changed")} == {str(other_tenant.practice.id)}
    finally:
        await stream.close()
    r = await live_client.get(f"/api/v1/practices/{tenant.practice.id}/readiness")
    assert r.status_code == 404


async def test_an_agent_going_silent_and_coming_back_is_one_offline_and_one_online_event(db, client, live_server, tenant):
    """The dead man's switch publishes agent.offline; the batch that hears the agent again publishes
    agent.online. Someone who may not see the agent's practice gets neither."""
    from services.core.telemetry import deadman
    from tests.factories_telemetry import create_agent
    from tests.factories_worker import at, ev, send_and_process

    agent = await create_agent(db, tenant.sibling_site, hostname="reception-pc")
    await send_and_process(client, db, agent, [ev("heartbeat", at(0.5), hostname="reception-pc")])
    async with httpx.AsyncClient(base_url=live_server.url) as sees, httpx.AsyncClient(base_url=live_server.url) as blind:
        await sign_in_live(client, sees, tenant["msp_technician"])
        await sign_in_live(client, blind, tenant["practice_staff"])  # tenant.practice only, not the sibling
        seeing, not_seeing = await open_stream(sees), await open_stream(blind)
        try:
            async with db.transaction(Scope(tenant.msp_id)) as s:
                await s.execute(text("UPDATE agent SET last_seen_at = now() - interval '20 minutes' WHERE id = :a"),
                                {"a": agent.agent_id})
            assert await deadman.sweep(db) >= 1
            assert await deadman.sweep(db) == 0  # already marked: no second offline
            await send_and_process(client, db, agent, [ev("heartbeat", at(0), hostname="reception-pc")])
            # Another batch from the agent, now online: no second online.
            await send_and_process(client, db, agent, [ev("heartbeat", at(0), hostname="reception-pc")])
            for _ in range(100):
                if seeing.of_type("agent.offline") and seeing.of_type("agent.online"):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            mine = [d for d in seeing.of_type("agent.offline") + seeing.of_type("agent.online")
                    if d["agent_id"] == str(agent.agent_id)]
            assert [(e, d["agent_id"]) for e, d in seeing.frames if e.startswith("agent.")] == [
                ("agent.offline", str(agent.agent_id)), ("agent.online", str(agent.agent_id))]
            offline, online = mine
            assert offline["practice_id"] == online["practice_id"] == str(tenant.sibling.id)
            assert offline["hostname"] == "reception-pc" and offline["site_id"] == str(tenant.sibling_site.id)
            assert offline["at"] and online["at"]
            assert [e for e, _ in not_seeing.frames if e.startswith("agent.")] == []
        finally:
            await seeing.close()
            await not_seeing.close()
