"""Slack incoming webhook: a `text` fallback plus Block Kit blocks."""

from __future__ import annotations

import json
from typing import Any

from services.core.alerts.senders import SEVERITY_WORDS, SendFailed, Target, headline, post_json

EMOJI = {"critical": ":rotating_light:", "high": ":red_circle:", "medium": ":large_orange_circle:", "low": ":white_circle:"}


def body_of(payload: dict[str, Any]) -> dict[str, Any]:
    title = headline(payload)
    emoji = ":white_check_mark:" if payload["action"] == "resolve" else EMOJI.get(payload["severity"], "")
    fields = [{"type": "mrkdwn", "text": f"*Severity*\n{SEVERITY_WORDS.get(payload['severity'], payload['severity'])}"}]
    for label, key in (("Practice", "practice"), ("Site", "site"), ("Measured", "measured"), ("Target", "target")):
        if payload.get(key):
            fields.append({"type": "mrkdwn", "text": f"*{label}*\n{payload[key]}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{title}"[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} {payload.get('remediation') or payload.get('text', '')}"[:3000]},
         "fields": fields[:10]},
    ]
    if payload.get("rule_id"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Rule `{payload['rule_id']}`"
                                                       + (f" · {payload['hipaa']}" if payload.get("hipaa") else "")}]})
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open in Seawall"}, "url": payload["url"]}]})
    return {"text": title, "blocks": blocks}


async def send(target: Target, payload: dict[str, Any], delivery_id: str) -> None:
    if not target.secret:
        raise SendFailed("the Slack channel has no webhook URL", permanent=True)
    await post_json(target.secret, json.dumps(body_of(payload)).encode(), {}, "Slack")
