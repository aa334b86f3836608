"""Microsoft Teams through a Workflows (Power Automate) webhook: an Adaptive Card inside the
`message` + `attachments` envelope the "post to a channel when a webhook request is received"
workflow expects."""

from __future__ import annotations

import json
from typing import Any

from services.core.alerts.senders import SEVERITY_WORDS, SendFailed, Target, headline, post_json

COLOR = {"critical": "Attention", "high": "Attention", "medium": "Warning", "low": "Default"}


def card(payload: dict[str, Any]) -> dict[str, Any]:
    facts = [{"title": "Severity", "value": SEVERITY_WORDS.get(payload["severity"], payload["severity"])}]
    for label, key in (("Practice", "practice"), ("Site", "site"), ("Measured", "measured"), ("Target", "target"),
                       ("Rule", "rule_id")):
        if payload.get(key):
            facts.append({"title": label, "value": str(payload[key])})
    color = "Good" if payload["action"] == "resolve" else COLOR.get(payload["severity"], "Default")
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": headline(payload), "weight": "Bolder", "size": "Medium", "wrap": True, "color": color},
            {"type": "TextBlock", "text": payload.get("remediation") or payload.get("text", ""), "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Seawall", "url": payload["url"]}],
    }


def body_of(payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card(payload)}]}


async def send(target: Target, payload: dict[str, Any], delivery_id: str) -> None:
    if not target.secret:
        raise SendFailed("the Teams channel has no workflow URL", permanent=True)
    await post_json(target.secret, json.dumps(body_of(payload)).encode(), {}, "Microsoft Teams")
