"""Identity test helpers: a real SMTP server (aiosmtpd), links from emails, memberships, audit reads.

The `smtp_server` and `mailbox` fixtures are defined here and registered for every test by
`pytest_plugins` in tests/conftest.py; helpers are imported as usual.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from services.core.audit.models import AuditEvent
from services.core.db import Database, Scope
from services.core.identity.models import Membership, Role
from services.core.settings import get_settings


class Mailbox:
    """Collects every message the SMTP server accepts (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in m["X-Envelope-To"].lower()]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The newest message to `address` once at least `count` have arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.to(address)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"no email #{count} to {address} within {timeout}s (got {len(self.to(address))})")
            await asyncio.sleep(0.02)
        return self.to(address)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on 127.0.0.1 for the whole run."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server, monkeypatch) -> Mailbox:
    """The app sends to the test SMTP server (settings are cached, so their fields are patched)."""
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", smtp_server.hostname)
    monkeypatch.setattr(settings, "smtp_port", smtp_server.port)
    return smtp_server.handler


def plain_body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_body(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def link_token(message: EmailMessage, page: str) -> str:
    """The token of the `{public_url}/{page}?token=…` link in both bodies of the email."""
    base = re.escape(get_settings().public_url.rstrip("/"))
    pattern = re.compile(base + "/" + re.escape(page) + r"\?token=([A-Za-z0-9_\-]+)")
    found = pattern.search(plain_body(message))
    assert found, f"no {page} link in: {plain_body(message)}"
    assert found.group(1) in html_body(message), "the HTML body does not carry the same link"
    return found.group(1)


def anonymous(app) -> httpx.AsyncClient:
    """A fresh browser: no cookies, no CSRF header."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


async def add_membership(db: Database, msp_id: uuid.UUID, user_id: uuid.UUID, role: Role,
                         practice_id: uuid.UUID | None = None) -> uuid.UUID:
    async with db.transaction(Scope(msp_id)) as s:
        m = Membership(msp_id=msp_id, user_id=user_id, role=role.value, practice_id=practice_id)
        s.add(m)
        await s.flush()
        return m.id


async def membership_of(db: Database, msp_id: uuid.UUID, user_id: uuid.UUID, practice_id: uuid.UUID | None = None) -> uuid.UUID:
    async with db.transaction(Scope(msp_id)) as s:
        scope = Membership.practice_id.is_(None) if practice_id is None else Membership.practice_id == practice_id
        return (await s.scalars(select(Membership.id).where(Membership.msp_id == msp_id, Membership.user_id == user_id, scope))).one()


async def audit_events(db: Database, msp_id: uuid.UUID, action_prefix: str = "") -> list[AuditEvent]:
    async with db.transaction(Scope(msp_id)) as s:
        return list(await s.scalars(select(AuditEvent).where(AuditEvent.msp_id == msp_id, AuditEvent.action.startswith(action_prefix))
                                    .order_by(AuditEvent.seq)))


async def owner_execute(owner_db: Database, sql: str, **params) -> None:
    """Change rows as the owner role, which row-level security and the grants do not stop."""
    async with owner_db.transaction() as s:
        await s.execute(text(sql), params)
