"""Delivering the outbox: real SMTP (aiosmtpd), a real signed-webhook receiver on 127.0.0.1,
Slack/Teams/PagerDuty at the HTTP boundary (respx), retries, dead letters, and a worker killed
between sending and marking sent."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import sys
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes

import httpx
import pytest
import respx
from sqlalchemy import select

from services.core.alerts import ssrf
from services.core.alerts.dispatch import dispatch_msp
from services.core.alerts.models import NotificationOutbox
from services.core.alerts.senders import webhook
from services.core.base import utcnow
from services.core.db import Scope
from services.core.settings import get_settings
from tests import factories_alerts as fa
from tests.factories_alerts import T0

SLACK = "https://hooks.slack.com/services/T000/B000/fake-test-webhook"  # respx answers it; never sent
TEAMS = "https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"


@pytest.fixture
def public_dns(monkeypatch):
    """The sandbox has no DNS: the public webhook hosts resolve to a public address here."""

    async def fake(host, port):
        return [ipaddress.ip_address("52.10.20.30")]

    monkeypatch.setattr(ssrf, "resolve_host", fake)


@pytest.fixture
def loopback(monkeypatch):
    monkeypatch.setenv("SEAWALL_ALLOW_LOOPBACK_WEBHOOKS", "true")


async def failing_job_incident(db, t, kind, **channel):
    c = await fa.channel(db, t.msp_id, kind, **channel)
    await fa.route(db, t.msp_id, c)
    await fa.job(db, t, last_status="failed", consecutive_failures=3)
    await fa.evaluate(db, t, utcnow())
    return c, (await fa.incidents(db, t.msp_id, active=True))[0]


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests; `hang` never answers (to kill the sender mid-send)."""

    hang: bool = False
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    got_one: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        self.got_one.set()
        if self.hang:
            await asyncio.sleep(3600)
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def receiver():
    r = Receiver()
    server = await asyncio.start_server(r.handle, "127.0.0.1", 0)
    r.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/seawall"
    yield r
    server.close()


async def test_a_real_smtp_server_receives_the_incident_email_in_text_and_html(db, tenant, monkeypatch):
    from aiosmtpd.controller import Controller

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
        monkeypatch.setattr(get_settings(), "smtp_port", port)
        await failing_job_incident(db, tenant, "email", to=["tech@msp.example", "oncall@msp.example"])
        report = await dispatch_msp(db, tenant.msp_id)
    finally:
        controller.stop()
    assert report.sent == 1
    envelope = handler.messages[0]
    assert sorted(envelope.rcpt_tos) == ["oncall@msp.example", "tech@msp.example"]
    msg = message_from_bytes(envelope.content)
    assert msg["Subject"].startswith("[Seawall] [High] Backup job")
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    assert "What to do: Read the run log" in parts["text/plain"]
    assert "<strong>What to do:</strong>" in parts["text/html"]


async def test_a_local_receiver_verifies_the_webhook_signature(db, tenant, receiver, loopback):
    secret = "whsec_test_secret"
    _, inc = await failing_job_incident(db, tenant, "webhook", secret=receiver.url, signing_secret=secret)
    assert (await dispatch_msp(db, tenant.msp_id)).sent == 1
    headers, body = receiver.requests[0]
    assert webhook.verify(secret, headers["seawall-timestamp"], headers["seawall-signature"], body)
    assert not webhook.verify("wrong", headers["seawall-timestamp"], headers["seawall-signature"], body)
    assert not webhook.verify(secret, headers["seawall-timestamp"], headers["seawall-signature"], body + b" ")
    assert not webhook.verify(secret, headers["seawall-timestamp"], headers["seawall-signature"], body,
                              now=int(headers["seawall-timestamp"]) + 301)
    event = json.loads(body)
    assert event["type"] == "incident.trigger" and event["data"]["incident_id"] == str(inc.id)
    assert headers["seawall-delivery"] == event["delivery_id"]


async def test_a_webhook_url_that_now_resolves_inside_is_refused_at_send_time_and_dead_lettered(db, tenant, monkeypatch):
    async def rebinding(host, port):
        return [ipaddress.ip_address("10.1.2.3")]

    monkeypatch.setattr(ssrf, "resolve_host", rebinding)
    await failing_job_incident(db, tenant, "webhook", secret="https://hooks.example.com/x", signing_secret="s")
    report = await dispatch_msp(db, tenant.msp_id)
    assert report.dead == 1
    row = (await fa.outbox(db, tenant.msp_id))[0]
    assert row.status == "dead" and "private address" in row.last_error


@respx.mock
async def test_slack_gets_blocks_with_a_text_fallback(db, tenant, public_dns):
    route = respx.post(SLACK).mock(return_value=httpx.Response(200, text="ok"))
    await failing_job_incident(db, tenant, "slack", secret=SLACK)
    assert (await dispatch_msp(db, tenant.msp_id)).sent == 1
    body = json.loads(route.calls.last.request.content)
    assert body["text"].startswith("Backup job")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context", "actions"]
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert body["blocks"][3]["elements"][0]["url"].startswith(get_settings().public_url)


@respx.mock
async def test_teams_gets_an_adaptive_card_in_the_message_attachments_envelope(db, tenant, public_dns):
    route = respx.post(TEAMS).mock(return_value=httpx.Response(202))
    await failing_job_incident(db, tenant, "teams", secret=TEAMS)
    assert (await dispatch_msp(db, tenant.msp_id)).sent == 1
    body = json.loads(route.calls.last.request.content)
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["type"] == "TextBlock" and card["actions"][0]["type"] == "Action.OpenUrl"


@respx.mock
async def test_pagerduty_triggers_acknowledges_and_resolves_with_the_incident_id_as_dedup_key(db, tenant):
    from services.core.alerts import service
    from services.core.audit.service import Actor

    route = respx.post("https://events.pagerduty.com/v2/enqueue").mock(return_value=httpx.Response(202, json={"status": "success"}))
    key = "R" * 32
    _, inc = await failing_job_incident(db, tenant, "pagerduty", secret=key)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await service.acknowledge(s, tenant.msp_id, tenant.practice.id, inc.id, Actor("user", None, "tech@x"))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await service.resolve(s, tenant.msp_id, tenant.practice.id, inc.id, Actor("user", None, "tech@x"), "")
    assert (await dispatch_msp(db, tenant.msp_id)).sent == 3
    events = [json.loads(c.request.content) for c in route.calls]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {str(inc.id)} and {e["routing_key"] for e in events} == {key}
    payload = events[0]["payload"]
    assert payload["severity"] == "error" and payload["summary"].startswith("Backup job") and payload["source"]


@respx.mock
async def test_a_5xx_is_retried_with_backoff_and_a_4xx_goes_to_the_dead_letters(db, tenant):
    route = respx.post("https://events.pagerduty.com/v2/enqueue").mock(
        side_effect=[httpx.Response(503), httpx.Response(400, json={"status": "invalid event"})])
    await failing_job_incident(db, tenant, "pagerduty", secret="R" * 32)
    now = utcnow()
    assert (await dispatch_msp(db, tenant.msp_id, now=now)).retried == 1
    row = (await fa.outbox(db, tenant.msp_id))[0]
    assert row.status == "pending" and row.next_attempt_at == now + timedelta(seconds=30) and "503" in row.last_error
    assert (await dispatch_msp(db, tenant.msp_id, now=now + timedelta(seconds=10))).sent == 0  # not due yet
    assert (await dispatch_msp(db, tenant.msp_id, now=now + timedelta(seconds=31))).dead == 1
    assert route.call_count == 2


KILLABLE_SENDER = """
import asyncio, sys, uuid
import services.core.models  # every table, as the worker loads them
from services.core.db import Database
from services.core.alerts.dispatch import dispatch_msp

async def main():
    db = Database.connect(sys.argv[1], 2)
    await dispatch_msp(db, uuid.UUID(sys.argv[2]))

asyncio.run(main())
"""


async def test_a_sender_killed_between_sending_and_marking_never_delivers_twice(db, database_urls, tenant, receiver, loopback):
    receiver.hang = True
    await failing_job_incident(db, tenant, "webhook", secret=receiver.url, signing_secret="s")
    env = {**os.environ, "SEAWALL_ALLOW_LOOPBACK_WEBHOOKS": "true"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", KILLABLE_SENDER, database_urls[1], str(tenant.msp_id),
                                                env=env, cwd=str(get_settings().data_dir.parent))
    try:
        await asyncio.wait_for(receiver.got_one.wait(), 60)  # delivered, but not yet marked
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    row = (await fa.outbox(db, tenant.msp_id))[0]
    assert row.status == "sending" and row.attempt_id is not None

    receiver.hang = False
    report = await dispatch_msp(db, tenant.msp_id, now=utcnow() + timedelta(minutes=6))
    assert (report.needs_review, report.sent) == (1, 0)
    assert len(receiver.requests) == 1
    assert (await fa.outbox(db, tenant.msp_id))[0].status == "needs_review"


@respx.mock
async def test_a_pagerduty_row_left_mid_send_is_sent_again_because_pagerduty_deduplicates(db, tenant):
    route = respx.post("https://events.pagerduty.com/v2/enqueue").mock(return_value=httpx.Response(202))
    await failing_job_incident(db, tenant, "pagerduty", secret="R" * 32)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        row = await s.scalar(select(NotificationOutbox).where(NotificationOutbox.msp_id == tenant.msp_id))
        row.status, row.attempt_id, row.claimed_at, row.attempts = "sending", uuid.uuid4(), utcnow(), 1
    report = await dispatch_msp(db, tenant.msp_id, now=utcnow() + timedelta(minutes=6))
    assert (report.requeued, report.sent) == (1, 1) and route.call_count == 1


async def test_rows_written_for_an_incident_change_that_rolls_back_never_exist(db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await fa.route(db, tenant.msp_id, c)
    await fa.job(db, tenant, last_status="failed", consecutive_failures=3)
    with pytest.raises(RuntimeError):
        async with db.transaction(Scope(tenant.msp_id)) as s:
            from services.core.alerts.evaluate import evaluate_practices

            await evaluate_practices(s, tenant.msp_id, [tenant.practice.id], T0)
            assert len((await s.scalars(select(NotificationOutbox).where(NotificationOutbox.msp_id == tenant.msp_id))).all()) == 1
            raise RuntimeError("the telemetry batch failed after the rules ran")
    assert await fa.outbox(db, tenant.msp_id) == [] and await fa.incidents(db, tenant.msp_id) == []


def test_the_python_snippet_in_docs_webhooks_md_verifies_our_signatures():
    import re
    import time
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    scope: dict = {}
    exec(snippet, scope)
    body, ts = b'{"type":"test"}', int(time.time())
    assert scope["verify"]("whsec_x", str(ts), webhook.sign("whsec_x", ts, body), body)
    assert not scope["verify"]("whsec_x", str(ts - 301), webhook.sign("whsec_x", ts - 301, body), body)
