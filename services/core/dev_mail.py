"""Development mail: a local SMTP sink that `seawall run` starts, and the messages it kept.

On a fresh machine nobody has a mail server, so without this an invitation or a password reset
ends with "the email could not be sent" and nobody can join. The sink listens on loopback only,
accepts everything, and keeps the newest `KEEP` messages as files under
`<data_dir>/dev-mail/` (the API runs in another process, so memory would not be shared). The
development-only page /dev/mail reads them back. Never in production: `seawall run` refuses to
run there, and the API mounts the route only outside production (services/api/app.py).

The messages carry one-time links; like services/core/mail.py, nothing here logs a body.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from services.core.settings import Settings

KEEP = 50  # bounded: a long-running `make run` must not fill the disk
MAX_MESSAGE_BYTES = 1_000_000  # our own emails are a few kB; anything larger is not ours to keep
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Links as our templates write them (services/core/templates/email/*.txt): whole, on their own.
_LINK = re.compile(r"https?://[^\s<>\"']+")


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "dev-mail"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Sink:
    """aiosmtpd handler: every message it receives is written to `directory`, the oldest beyond
    `KEEP` removed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        content: bytes = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        if len(content) > MAX_MESSAGE_BYTES:
            return "552 Message too large for the development mail sink"
        header = "X-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\r\n"
        # A sortable name: the time it arrived, then a random part so two in one microsecond differ.
        name = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(header.encode() + content)
        os.replace(partial, self.directory / name)  # the page never reads half a message
        for old in sorted(self.directory.glob("*.eml"))[:-KEEP]:
            old.unlink(missing_ok=True)
        return "250 Message accepted for delivery"


def start_sink(directory: Path, host: str, port: int):  # -> aiosmtpd.controller.Controller
    """Start the sink in a thread of this process; the caller stops it (`.stop()`)."""
    if host not in LOOPBACK:
        raise ValueError(f"the development mail sink listens on loopback only, not {host}")
    from aiosmtpd.controller import Controller  # a development dependency (pyproject: test extra)

    controller = Controller(Sink(directory), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class KeptMessage:
    id: str
    received_at: datetime
    to: str
    subject: str
    text: str
    links: list[str]


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    if body is None:
        return ""
    return str(body.get_content())


def _received_at(name: str, path: Path) -> datetime:
    try:
        return datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def kept_messages(directory: Path, limit: int = KEEP) -> list[KeptMessage]:
    """The kept messages, newest first."""
    if not directory.is_dir():
        return []
    out: list[KeptMessage] = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:limit]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # rotated away between listing and reading
            continue
        message = message_from_bytes(raw, policy=policy.default)
        text = _plain_text(message)
        out.append(KeptMessage(id=path.stem, received_at=_received_at(path.stem, path),
                               to=str(message["X-Envelope-To"] or message["To"] or ""),
                               subject=str(message["Subject"] or ""), text=text,
                               links=list(dict.fromkeys(_LINK.findall(text)))))
    return out
