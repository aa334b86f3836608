"""Generic webhook: JSON body signed with HMAC-SHA256 over `timestamp.body` (docs/webhooks.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from services.core.alerts.senders import SendFailed, Target, post_json

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp_header: str, signature_header: str, body: bytes, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (also used by our own tests): fresh timestamp, matching v1 signature."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))


def body_of(payload: dict[str, Any], delivery_id: str) -> bytes:
    return json.dumps({"type": f"incident.{payload['action']}" if payload["action"] != "test" else "test",
                       "delivery_id": delivery_id, "data": payload}, separators=(",", ":"), sort_keys=True).encode()


async def send(target: Target, payload: dict[str, Any], delivery_id: str) -> None:
    if not target.secret or not target.signing_secret:
        raise SendFailed("the webhook channel has no URL or signing secret", permanent=True)
    body = body_of(payload, delivery_id)
    timestamp = int(time.time())
    await post_json(target.secret, body, {
        "Seawall-Timestamp": str(timestamp), "Seawall-Signature": sign(target.signing_secret, timestamp, body),
        "Seawall-Delivery": delivery_id, "Seawall-Event": payload["action"], "User-Agent": "Seawall-Webhooks/1",
    }, "the webhook receiver")
