"""Deliver outbox rows: claim, send, mark — with retries, a dead-letter state, and at-most-once
delivery for channels that cannot deduplicate.

1. Claim (transaction 1, committed): `FOR UPDATE SKIP LOCKED` the due rows, set status `sending`
   with a fresh attempt id. Several workers never claim the same row.
2. Send, outside any transaction.
3. Mark (transaction 2): `sent`, or back to `pending` with exponential backoff, or `dead` — only if
   the row still carries our attempt id.

A worker killed between 2 and 3 leaves the row in `sending`. After the lease expires,
`recover_stale()` decides: PagerDuty deduplicates on dedup_key (the incident id), so the row is
sent again; every other channel might already have delivered it, so the row goes to
`needs_review` (shown with the dead letters) rather than risking a duplicate page.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, text, update

from services.core.alerts.models import ChannelKind, NotificationChannel, NotificationOutbox, OutboxStatus
from services.core.alerts.senders import SendFailed, Target, email, pagerduty, slack, teams, webhook
from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.secrets import decrypt

log = structlog.get_logger("seawall.notifications")

LEASE = timedelta(minutes=5)  # far above a send's 15 s timeout: a live worker never loses its claim
MAX_ATTEMPTS = 8
BATCH = 20
IDEMPOTENT_KINDS = {ChannelKind.pagerduty.value}
SENDERS = {ChannelKind.email.value: email.send, ChannelKind.webhook.value: webhook.send, ChannelKind.slack.value: slack.send,
           ChannelKind.teams.value: teams.send, ChannelKind.pagerduty.value: pagerduty.send}


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def target_of(channel: NotificationChannel) -> Target:
    return Target(channel.kind, channel.name, dict(channel.config or {}),
                  decrypt(channel.secret_encrypted) if channel.secret_encrypted else None,
                  decrypt(channel.signing_secret_encrypted) if channel.signing_secret_encrypted else None)


@dataclass
class Claimed:
    id: uuid.UUID
    attempt_id: uuid.UUID
    attempts: int
    target: Target = field(repr=False)
    payload: dict[str, Any]


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    needs_review: int = 0
    requeued: int = 0


async def claim(db: Database, msp_id: uuid.UUID, now: datetime, limit: int = BATCH) -> list[Claimed]:
    async with db.transaction(Scope(msp_id)) as s:
        rows = (await s.execute(
            select(NotificationOutbox, NotificationChannel)
            .join(NotificationChannel, (NotificationChannel.msp_id == NotificationOutbox.msp_id)
                  & (NotificationChannel.id == NotificationOutbox.channel_id))
            .where(NotificationOutbox.msp_id == msp_id, NotificationOutbox.status == OutboxStatus.pending.value,
                   NotificationOutbox.next_attempt_at <= now)
            .order_by(NotificationOutbox.next_attempt_at).limit(limit)
            .with_for_update(of=NotificationOutbox, skip_locked=True))).all()
        out = []
        for row, channel in rows:
            row.status, row.attempt_id, row.claimed_at = OutboxStatus.sending.value, uuid.uuid4(), now
            row.attempts += 1
            out.append(Claimed(row.id, row.attempt_id, row.attempts, target_of(channel), dict(row.payload)))
        return out


async def mark(db: Database, msp_id: uuid.UUID, c: Claimed, now: datetime, error: SendFailed | None) -> str:
    if error is None:
        values: dict[str, Any] = {"status": OutboxStatus.sent.value, "sent_at": now, "last_error": ""}
    elif error.permanent or c.attempts >= MAX_ATTEMPTS:
        values = {"status": OutboxStatus.dead.value, "last_error": error.reason[:1000]}
    else:
        values = {"status": OutboxStatus.pending.value, "next_attempt_at": now + backoff(c.attempts),
                  "last_error": error.reason[:1000]}
    async with db.transaction(Scope(msp_id)) as s:
        await s.execute(update(NotificationOutbox).where(
            NotificationOutbox.msp_id == msp_id, NotificationOutbox.id == c.id, NotificationOutbox.attempt_id == c.attempt_id,
            NotificationOutbox.status == OutboxStatus.sending.value).values(**values))
    return values["status"]


async def send(c: Claimed) -> SendFailed | None:
    sender = SENDERS.get(c.target.kind)
    if sender is None:
        return SendFailed(f"unknown channel kind {c.target.kind}", permanent=True)
    try:
        await sender(c.target, c.payload, str(c.id))
    except SendFailed as exc:
        log.warning("notification_failed", outbox_id=str(c.id), channel=c.target.name, kind=c.target.kind,
                    attempt=c.attempts, permanent=exc.permanent, reason=exc.reason)
        return exc
    log.info("notification_sent", outbox_id=str(c.id), channel=c.target.name, kind=c.target.kind, action=c.payload.get("action"))
    return None


async def recover_stale(db: Database, msp_id: uuid.UUID, now: datetime) -> tuple[int, int]:
    """Rows left in `sending` past the lease: requeue the idempotent ones, hold the others for review."""
    async with db.transaction(Scope(msp_id)) as s:
        rows = (await s.execute(
            select(NotificationOutbox, NotificationChannel.kind)
            .join(NotificationChannel, (NotificationChannel.msp_id == NotificationOutbox.msp_id)
                  & (NotificationChannel.id == NotificationOutbox.channel_id))
            .where(NotificationOutbox.msp_id == msp_id, NotificationOutbox.status == OutboxStatus.sending.value,
                   NotificationOutbox.claimed_at < now - LEASE)
            .with_for_update(of=NotificationOutbox, skip_locked=True))).all()
        requeued = held = 0
        for row, kind in rows:
            if kind in IDEMPOTENT_KINDS:
                row.status, row.next_attempt_at = OutboxStatus.pending.value, now
                row.last_error = "the worker stopped while sending; sent again (the channel deduplicates)"
                requeued += 1
            else:
                row.status = OutboxStatus.needs_review.value
                row.last_error = ("the worker stopped while sending: it may or may not have been delivered. "
                                  "Retry only if the receiver did not get it.")
                held += 1
        return requeued, held


async def dispatch_msp(db: Database, msp_id: uuid.UUID, now: datetime | None = None, max_batches: int = 50) -> Report:
    report = Report()
    report.requeued, report.needs_review = await recover_stale(db, msp_id, now or utcnow())
    for _ in range(max_batches):
        claimed = await claim(db, msp_id, now or utcnow())
        if not claimed:
            break
        results = await asyncio.gather(*(send(c) for c in claimed))
        for c, error in zip(claimed, results):
            status = await mark(db, msp_id, c, now or utcnow(), error)
            if status == OutboxStatus.sent.value:
                report.sent += 1
            elif status == OutboxStatus.dead.value:
                report.dead += 1
            else:
                report.retried += 1
    return report


async def due_msps(db: Database) -> list[uuid.UUID]:
    async with db.transaction() as s:
        return list((await s.execute(text("SELECT notification_due_msps()"))).scalars().all())


async def dispatch_all(db: Database) -> Report:
    total = Report()
    for msp_id in await due_msps(db):
        r = await dispatch_msp(db, msp_id)
        for k in vars(total):
            setattr(total, k, getattr(total, k) + getattr(r, k))
    return total
