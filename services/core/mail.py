"""Outgoing email over SMTP (aiosmtplib), rendered from Jinja2 templates in plain text and HTML.

Templates live in services/core/templates/email/ as `<name>.txt` and `<name>.html`; the HTML ones
are autoescaped. Message bodies often carry one-time links (invitations, password resets), so
nothing here ever logs a body: only the recipient, the subject and the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.core.settings import get_settings

TEMPLATES = Path(__file__).parent / "templates" / "email"
log = structlog.get_logger("seawall.mail")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,  # a missing variable is a bug, not an empty sentence in someone's inbox
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def render(template: str, **context: Any) -> tuple[str, str]:
    """The plain-text and HTML bodies of `template` (templates/email/<template>.txt and .html)."""
    context.setdefault("product", "Seawall")
    return _env.get_template(f"{template}.txt").render(**context), _env.get_template(f"{template}.html").render(**context)


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    sender = parseaddr(settings.mail_from)[1]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send_message(message: EmailMessage) -> None:
    """Deliver a built message; raise MailError when the server cannot take it."""
    settings = get_settings()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=password, start_tls=True if settings.smtp_starttls else False, timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("email_failed", to=message["To"], subject=message["Subject"], error=type(exc).__name__)
        raise MailError(f"the mail server at {settings.smtp_host}:{settings.smtp_port} did not accept the message") from exc
    log.info("email_sent", to=message["To"], subject=message["Subject"])


async def send_email(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send one email (plain text, optionally with an HTML alternative); raise MailError on failure."""
    await send_message(build_message(to, subject, text, html))


async def send_template(to: str, subject: str, template: str, **context: Any) -> None:
    """Render templates/email/<template>.{txt,html} with `context` and send it."""
    text, html = render(template, **context)
    await send_email(to, subject, text, html)


# Strong references to mail sent in the background, so a pending send is not garbage-collected.
_background: set[asyncio.Task[None]] = set()


def send_in_background(send: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Send without making the caller wait (used where the response time must not reveal whether
    an email was sent at all, such as a password reset for an unknown address)."""

    async def run() -> None:
        try:
            await send
        except MailError:
            pass  # already logged by send_message; the caller chose not to wait for the outcome

    task = asyncio.get_running_loop().create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task
