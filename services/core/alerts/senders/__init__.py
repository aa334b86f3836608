"""One module per channel kind; each turns an outbox payload into that service's request.

A sender raises SendFailed(permanent=True) for answers that will never change (a revoked webhook,
a malformed routing key) and SendFailed(permanent=False) for those worth retrying (timeouts, 429, 5xx).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from services.core.alerts import ssrf


class SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    """A channel as the sender needs it, secrets decrypted (never logged, never stored here)."""

    kind: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    secret: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)


SEVERITY_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
ACTION_WORDS = {"trigger": "", "escalate": "Escalated: ", "acknowledge": "Acknowledged: ", "resolve": "Resolved: ",
                "test": ""}


def headline(payload: dict[str, Any]) -> str:
    prefix = ACTION_WORDS.get(payload.get("action", ""), "")
    where = f" — {payload['practice']}" if payload.get("practice") else ""
    return f"{prefix}{payload['title']}{where}"


def classify(response: httpx.Response, service: str) -> None:
    """2xx passes; 408/429/5xx are worth retrying; any other answer will not change by itself."""
    if 200 <= response.status_code < 300:
        return
    retry = response.status_code in (408, 425, 429) or response.status_code >= 500
    raise SendFailed(f"{service} answered HTTP {response.status_code}", permanent=not retry)


async def post_json(url: str, body: bytes, headers: dict[str, str], service: str) -> httpx.Response:
    """POST to a user-entered URL: vetted again now, connected to the vetted address, no redirects."""
    try:
        vetted = await ssrf.vet(url)
    except ssrf.UnsafeUrl as exc:
        raise SendFailed(f"refused: {exc}", permanent=True)
    try:
        async with ssrf.pinned_client(vetted) as client:
            response = await client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.HTTPError as exc:
        raise SendFailed(f"{service} could not be reached ({type(exc).__name__})")
    classify(response, service)
    return response
