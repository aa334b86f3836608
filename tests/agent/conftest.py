"""A small in-process stand-in for Seawall's agent endpoints, per docs/api/agent-protocol.md.

It validates events the way the contract says the server does (unknown fields, required
fields, occurred_at window, batch limits, jobs and links it does not know), deduplicates by
event id, and can be told to
answer 422/429/503, to lose a response, or to go away entirely and come back on the same
port. The real-server end-to-end test lives with the telemetry code.
"""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from seawall_agent.config import AgentConfig, JobConfig, LinkConfig, write_config

ENROLL_TOKEN = "swe_" + "t" * 32
CREDENTIAL = "swa_" + secrets.token_urlsafe(32)[:43]

COMMON = {"id", "type", "occurred_at"}
FIELDS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional)
    "heartbeat": (set(), {"agent_version", "hostname", "heartbeat_interval_seconds", "probe_interval_seconds"}),
    "backup_run": ({"job", "status", "started_at"},
                   {"finished_at", "bytes", "files", "restore_point_at", "snapshot_id", "verified",
                    "exit_code", "log_tail"}),
    "restore_test": ({"started_at", "finished_at", "success"}, {"job", "system", "notes"}),
    "link_sample": ({"link", "up"}, {"latency_ms", "loss_pct", "jitter_ms"}),
    "failover": ({"from_link", "to_link", "started_at"}, {"ended_at"}),
}
TIME_FIELDS = {"occurred_at", "started_at", "finished_at", "restore_point_at", "ended_at"}


@dataclass
class Scripted:
    status: int | None = None  # None: answer as the contract says (after any lose_response)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    lose_response: bool = False  # store the batch, then hang up without answering


@dataclass
class IngestCall:
    at: float
    ids: list[str]
    status: int


class FakeSeawall:
    def __init__(self) -> None:
        self.port = _free_port()
        self.events: list[dict[str, Any]] = []  # accepted events, first copy only, in order
        self.calls: list[IngestCall] = []
        self.script: deque[Scripted] = deque()
        self.reject_ids: set[str] = set()
        self.reject_types: set[str] = set()
        self.jobs: list[dict[str, Any]] = [
            {"id": "7d1c1f0e-0000-4000-8000-00000000022a", "name": "nightly-restic", "tool": "restic"}]
        self.enroll_requests: list[dict[str, Any]] = []
        self.used_tokens: set[str] = set()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def event_ids(self) -> list[str]:
        return [event["id"] for event in self.events]

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"seawall": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def agent_payload(self) -> dict[str, Any]:
        return {
            "agent_id": "7d1c1f0e-0000-4000-8000-000000000001",
            "msp_id": "7d1c1f0e-0000-4000-8000-0000000000aa",
            "practice_id": "7d1c1f0e-0000-4000-8000-0000000000bb",
            "site_id": "7d1c1f0e-0000-4000-8000-0000000000cc",
            "heartbeat_interval_seconds": 60,
            "probe_interval_seconds": 60,
            "links": [
                {"id": "7d1c1f0e-0000-4000-8000-00000000011a", "name": "Comcast fiber", "role": "primary"},
                {"id": "7d1c1f0e-0000-4000-8000-00000000011b", "name": "T-Mobile LTE", "role": "backup"},
            ],
            "jobs": [dict(job) for job in self.jobs],
        }

    # --- the contract, server side ---------------------------------------------------------

    def ingest(self, events: list[Any]) -> tuple[int, dict[str, Any]]:
        errors = []
        if len(events) > 1000:
            return 422, _problem(422, "too many events", [{"field": "events", "message": "at most 1,000"}])
        for index, event in enumerate(events):
            for fld, message in validate_event(event):
                errors.append({"event_index": index, "event_id": event.get("id") if isinstance(event, dict) else None,
                               "field": fld, "message": message})
            if isinstance(event, dict) and event.get("id") in self.reject_ids:
                errors.append({"event_index": index, "event_id": event["id"], "field": "id",
                               "message": "rejected by test"})
            if isinstance(event, dict) and event.get("type") in self.reject_types:
                errors.append({"event_index": index, "event_id": event.get("id"), "field": "type",
                               "message": "rejected by test"})
            for fld, message in self.unknown_references(event):
                errors.append({"event_index": index, "event_id": event.get("id"), "field": fld, "message": message})
        if errors:
            return 422, _problem(422, "invalid events", errors)
        known = {e["id"] for e in self.events}
        new = [e for e in events if e["id"] not in known]
        self.events.extend(new)
        return 202, {"accepted": len(new), "duplicates": len(events) - len(new)}

    def unknown_references(self, event: Any) -> list[tuple[str, str]]:
        """Jobs and links are named by id or name, and only the agent's own (as the server does)."""
        if not isinstance(event, dict):
            return []
        payload = self.agent_payload()
        problems = []
        for fld, kind in (("job", "jobs"), ("link", "links"), ("from_link", "links"), ("to_link", "links")):
            ref = event.get(fld)
            if ref is not None and ref not in {x["id"] for x in payload[kind]} | {x["name"] for x in payload[kind]}:
                problems.append((fld, f"names no {kind[:-1]} of this agent's practice"))
        return problems


def validate_event(event: Any) -> list[tuple[str, str]]:
    if not isinstance(event, dict):
        return [("", "must be an object")]
    problems = []
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 64:
        problems.append(("id", "1-64 characters"))
    spec = FIELDS.get(event.get("type"))  # type: ignore[arg-type]
    if spec is None:
        return problems + [("type", "unknown event type")]
    required, optional = spec
    for name in required | {"occurred_at"}:
        if name not in event:
            problems.append((name, "required"))
    for name in set(event) - COMMON - required - optional:
        problems.append((name, "unknown field"))
    for name in TIME_FIELDS & set(event):
        try:
            moment = datetime.fromisoformat(event[name])
        except (TypeError, ValueError):
            problems.append((name, "not RFC 3339"))
            continue
        if moment.tzinfo is None:
            problems.append((name, "needs an offset"))
    try:
        occurred = datetime.fromisoformat(event["occurred_at"])
        if occurred.tzinfo and not (datetime.now(UTC) - timedelta(days=30) <= occurred
                                    <= datetime.now(UTC) + timedelta(minutes=5)):
            problems.append(("occurred_at", "outside the accepted window"))
    except (KeyError, TypeError, ValueError):
        pass
    if event.get("type") == "backup_run":
        if event.get("status") not in ("success", "failed", "warning", "running"):
            problems.append(("status", "unknown status"))
        if len(event.get("log_tail", "")) > 10_000:
            problems.append(("log_tail", "at most 10,000 characters"))
    if event.get("type") == "link_sample":
        if not isinstance(event.get("up"), bool):
            problems.append(("up", "must be a boolean"))
        if "loss_pct" in event and not 0 <= event["loss_pct"] <= 100:
            problems.append(("loss_pct", "0-100"))
    return problems


def _problem(status: int, detail: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "about:blank", "title": "Unprocessable Content", "status": status, "detail": detail,
            "errors": errors}


class _Handler(BaseHTTPRequestHandler):
    seawall: FakeSeawall

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        content_type = "application/problem+json" if status >= 400 else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw)

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {CREDENTIAL}"

    def do_GET(self) -> None:
        if self.path == "/api/v1/agents/me":
            if not self._authorized():
                return self._send(401, _problem(401, "bad credential", []))
            return self._send(200, self.seawall.agent_payload())
        if self.path.startswith("/probe"):
            return self._send(204)
        self._send(404, _problem(404, "not found", []))

    def do_POST(self) -> None:
        seawall = self.seawall
        if self.path == "/api/v1/agents/enroll":
            body = self._body()
            with seawall.lock:
                seawall.enroll_requests.append(body)
                if set(body) != {"token", "hostname", "agent_version"}:
                    return self._send(422, _problem(422, "bad enroll body", []))
                if body["token"] != ENROLL_TOKEN or body["token"] in seawall.used_tokens:
                    return self._send(401, _problem(401, "enrollment token invalid or used", []))
                seawall.used_tokens.add(body["token"])
            return self._send(201, {**seawall.agent_payload(), "credential": CREDENTIAL})
        if self.path != "/api/v1/ingest":
            return self._send(404, _problem(404, "not found", []))
        if not self._authorized():
            with seawall.lock:
                seawall.calls.append(IngestCall(time.time(), [], 401))
            return self._send(401, _problem(401, "bad credential", []))
        events = self._body()["events"]
        ids = [e.get("id") for e in events]
        with seawall.lock:
            scripted = seawall.script.popleft() if seawall.script else None
            if scripted and scripted.status is not None:
                seawall.calls.append(IngestCall(time.time(), ids, scripted.status))
                return self._send(scripted.status, scripted.body, scripted.headers)
            status, answer = seawall.ingest(events)
            seawall.calls.append(IngestCall(time.time(), ids, status))
        if scripted and scripted.lose_response:
            self.close_connection = True  # stored, but the agent never hears the 202
            return
        self._send(status, answer)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def seawall() -> Any:
    server = FakeSeawall()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config_path(tmp_path: Path, seawall: FakeSeawall) -> Path:
    """An enrolled agent's config (as `enroll` would write it) pointing at the fake server."""
    path = tmp_path / "etc" / "config.toml"
    payload = seawall.agent_payload()
    write_config(path, AgentConfig(
        server=seawall.url,
        credential=CREDENTIAL,
        state_dir=tmp_path / "state",
        agent_id=payload["agent_id"],
        site_id=payload["site_id"],
        links=tuple(LinkConfig(name=ln["name"], id=ln["id"], role=ln["role"]) for ln in payload["links"]),
        jobs=tuple(JobConfig(name=j["name"], id=j["id"], tool=j["tool"]) for j in payload["jobs"]),
    ))
    return path
