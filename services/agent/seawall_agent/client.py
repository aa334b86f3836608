"""HTTP calls to Seawall, exactly as docs/api/agent-protocol.md describes them.

This module only speaks HTTP and reports what the server said; deciding what to do about a
429 or a 422 is delivery.py's job. The credential goes in the Authorization header and
nowhere else: not in URLs, exceptions or log lines.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from seawall_agent import __version__

USER_AGENT = f"seawall-agent/{__version__}"
GZIP_ABOVE_BYTES = 4096  # small batches are not worth the CPU; log tails compress very well
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class EnrollError(Exception):
    """The server refused the enrollment token, or could not be reached (`status` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ServerError(Exception):
    """An authenticated call failed; the message is safe to print. `status` is None when the
    server could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class IngestAnswer:
    status: int
    body: Mapping[str, Any] | None
    retry_after: float | None = None

    def event_errors(self) -> list[Mapping[str, Any]]:
        """The problem+json `errors[]` entries (422 answers)."""
        errors = (self.body or {}).get("errors")
        return [error for error in errors if isinstance(error, Mapping)] if isinstance(errors, list) else []

    def describe(self) -> str:
        body = self.body or {}
        detail = body.get("detail") or body.get("title")
        return f"HTTP {self.status}" + (f": {detail}" if detail else "")


def enroll(server: str, token: str, *, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """Exchange a single-use enrollment token for this agent's credential and configuration."""
    payload = {"token": token, "hostname": socket.gethostname(), "agent_version": __version__}
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport, headers={"User-Agent": USER_AGENT}) as http:
            response = http.post(f"{server.rstrip('/')}/api/v1/agents/enroll", json=payload)
    except httpx.HTTPError as exc:
        raise EnrollError(f"cannot reach {server}: {exc}") from None
    if response.status_code != 201:
        raise EnrollError(f"enrollment refused: {_describe_problem(response)}", response.status_code)
    data = _json_or_none(response)
    if data is None or not str(data.get("credential", "")).startswith("swa_"):
        raise EnrollError("enrollment answer carries no agent credential", response.status_code)
    return dict(data)


class SeawallClient:
    def __init__(self, server: str, credential: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout = TIMEOUT) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {credential}", "User-Agent": USER_AGENT},
        )

    def __enter__(self) -> SeawallClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def ingest(self, events: Sequence[Mapping[str, Any]]) -> IngestAnswer:
        """POST one batch. Raises httpx.TransportError when the server cannot be reached."""
        body = json.dumps({"events": list(events)}, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if len(body) > GZIP_ABOVE_BYTES:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        response = self._http.post("/api/v1/ingest", content=body, headers=headers)
        return IngestAnswer(
            status=response.status_code,
            body=_json_or_none(response),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def me(self) -> dict[str, Any]:
        """The agent's current configuration (links, jobs, interval), for `refresh`."""
        try:
            response = self._http.get("/api/v1/agents/me")
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach the server: {exc}") from None
        if response.status_code != 200:
            raise ServerError(_describe_problem(response), response.status_code)
        data = _json_or_none(response)
        if data is None:
            raise ServerError("agents/me answered something that is not a JSON object", response.status_code)
        return dict(data)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _json_or_none(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, Mapping) else None


def _describe_problem(response: httpx.Response) -> str:
    body = _json_or_none(response) or {}
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    errors = body.get("errors")
    fields = [f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, Mapping) and e.get("field")] \
        if isinstance(errors, list) else []
    return f"HTTP {response.status_code}: {detail}" + (f" ({'; '.join(fields)})" if fields else "")
