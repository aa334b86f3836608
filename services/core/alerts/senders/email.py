"""Email through services/core/mail.py (aiosmtplib), rendered from Jinja2 plain-text and HTML templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.core import mail
from services.core.alerts.senders import SEVERITY_WORDS, SendFailed, Target, headline

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
)


def render(payload: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one notification."""
    p = {k: None for k in ("practice", "site", "measured", "target", "remediation", "text", "rule_id", "hipaa",
                           "acknowledged_by", "resolved_by")} | payload
    context = {"p": p, "headline": headline(payload), "severity": SEVERITY_WORDS.get(payload["severity"], payload["severity"])}
    subject = f"[Seawall] [{context['severity']}] {headline(payload)}"[:200]
    return subject, _env.get_template("incident.txt").render(**context), _env.get_template("incident.html").render(**context)


async def send(target: Target, payload: dict[str, Any], delivery_id: str) -> None:
    recipients = [r for r in target.config.get("to", []) if r]
    if not recipients:
        raise SendFailed("the email channel has no recipients", permanent=True)
    subject, text, html = render(payload)
    message = mail.build_message(", ".join(recipients), subject, text, html)
    message["X-Seawall-Delivery"] = delivery_id
    try:
        await mail.send_message(message)
    except mail.MailError as exc:
        raise SendFailed(str(exc))
