"""PagerDuty Events API v2. dedup_key = the incident id, so trigger/acknowledge/resolve all land on
one PagerDuty incident and a repeated event is harmless (which is why a crash mid-send may retry)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.core.alerts.senders import SendFailed, Target, classify

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
ACTION = {"trigger": "trigger", "escalate": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}


def events_of(payload: dict[str, Any], routing_key: str) -> list[dict[str, Any]]:
    if payload["action"] == "test":
        key = f"seawall-test-{payload.get('test_id', '')}"
        trigger = {"routing_key": routing_key, "event_action": "trigger", "dedup_key": key, "client": "Seawall",
                   "client_url": payload["url"],
                   "payload": {"summary": payload["title"], "source": "seawall", "severity": "info", "class": "test"}}
        # A test should not leave an open incident in PagerDuty.
        return [trigger, {"routing_key": routing_key, "event_action": "resolve", "dedup_key": key}]
    action = ACTION[payload["action"]]
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": payload["incident_id"]}
    if action == "trigger":
        source = " / ".join(x for x in (payload.get("practice"), payload.get("site")) if x) or "seawall"
        event |= {
            "client": "Seawall", "client_url": payload["url"],
            "links": [{"href": payload["url"], "text": "Open in Seawall"}],
            "payload": {
                "summary": payload["title"][:1024], "source": source[:255], "severity": SEVERITY.get(payload["severity"], "warning"),
                "component": payload.get("subject_type"), "group": payload.get("practice") or None,
                "class": payload.get("rule_id"),
                "custom_details": {k: payload.get(k) for k in ("measured", "target", "remediation", "hipaa", "rule_id",
                                                                 "practice", "site") if payload.get(k)},
            },
        }
    return [event]


async def send(target: Target, payload: dict[str, Any], delivery_id: str) -> None:
    if not target.secret:
        raise SendFailed("the PagerDuty channel has no routing key", permanent=True)
    # The Events API host is fixed (not user-entered), so no SSRF vetting is needed here.
    async with httpx.AsyncClient(timeout=15, follow_redirects=False) as client:
        for event in events_of(payload, target.secret):
            try:
                response = await client.post(EVENTS_URL, content=json.dumps(event).encode(),
                                             headers={"Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                raise SendFailed(f"PagerDuty could not be reached ({type(exc).__name__})")
            classify(response, "PagerDuty")
