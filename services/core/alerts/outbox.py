"""Which channels hear of an incident (routing), and the outbox rows that carry the message.

Rows are written in the transaction that changed the incident, so a rolled-back change never
notifies and a committed one always does; services/core/alerts/dispatch.py delivers them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.models import Incident, NotificationChannel, NotificationOutbox, NotificationRoute, Urgency
from services.core.alerts.rules import SEVERITY_RANK
from services.core.settings import get_settings


@dataclass
class Router:
    routes: list[NotificationRoute]
    channels: dict[uuid.UUID, NotificationChannel]

    @classmethod
    async def load(cls, session: AsyncSession, msp_id: uuid.UUID) -> "Router":
        routes = (await session.scalars(select(NotificationRoute).where(
            NotificationRoute.msp_id == msp_id, NotificationRoute.enabled.is_(True)))).all()
        channels = (await session.scalars(select(NotificationChannel).where(NotificationChannel.msp_id == msp_id))).all()
        return cls(list(routes), {c.id: c for c in channels})

    def matching(self, inc: Incident) -> list[NotificationRoute]:
        return [r for r in self.routes
                if (r.practice_id is None or r.practice_id == inc.practice_id)
                and SEVERITY_RANK[inc.severity] >= SEVERITY_RANK[r.min_severity]
                and (inc.urgency == Urgency.high.value or r.include_low_urgency)]

    def channels_for(self, inc: Incident) -> list[NotificationChannel]:
        out: dict[uuid.UUID, NotificationChannel] = {}
        for r in self.matching(inc):
            ch = self.channels.get(r.channel_id)
            if ch is not None and ch.enabled:
                out.setdefault(ch.id, ch)
        return list(out.values())


def message(inc: Incident | None, action: str, names: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The snapshot every sender formats from (so a later edit of the incident does not change a
    message already queued)."""
    base = get_settings().public_url.rstrip("/")
    if inc is None:
        return {"action": action, "title": "Test notification from Seawall", "severity": "low",
                "text": "If you can read this, the channel works.", "url": base, **(extra or {})}
    return {
        "action": action, "incident_id": str(inc.id), "rule_id": inc.rule_id, "title": inc.title, "severity": inc.severity,
        "urgency": inc.urgency, "status": inc.status, "practice_id": str(inc.practice_id), "practice": names.get("practice", ""),
        "site": names.get("site", ""), "subject_type": inc.subject_type, "subject_id": inc.subject_id,
        "measured": inc.measured, "target": inc.target, "remediation": inc.remediation, "hipaa": inc.hipaa,
        "opened_at": inc.opened_at.isoformat(), "reopen_count": inc.reopen_count,
        "acknowledged_by": inc.acknowledged_by, "resolved_by": inc.resolved_by,
        "url": f"{base}/incidents/{inc.id}", **(extra or {}),
    }


def enqueue(session: AsyncSession, inc: Incident, channels: list[NotificationChannel], action: str,
            names: dict[str, str], now: datetime, extra: dict[str, Any] | None = None) -> None:
    """Add one outbox row per channel; the caller's next flush or commit writes them (an evaluation
    notifying many incidents sends their rows together)."""
    payload = message(inc, action, names, extra)
    session.add_all([NotificationOutbox(msp_id=inc.msp_id, channel_id=c.id, incident_id=inc.id, practice_id=inc.practice_id,
                                        action=action, payload=payload, status="pending", attempts=0, next_attempt_at=now,
                                        created_at=now, last_error="") for c in channels])


async def enqueue_test(session: AsyncSession, channel: NotificationChannel, now: datetime, requested_by: str) -> NotificationOutbox:
    row = NotificationOutbox(msp_id=channel.msp_id, channel_id=channel.id, incident_id=None, practice_id=None, action="test",
                             payload=message(None, "test", {}, {"requested_by": requested_by, "test_id": str(uuid.uuid4())}),
                             status="pending", attempts=0, next_attempt_at=now, created_at=now, last_error="")
    session.add(row)
    await session.flush()
    return row


async def channels_notified(session: AsyncSession, incs: list[Incident]) -> dict[uuid.UUID, list[NotificationChannel]]:
    """The enabled channels told about each incident's current opening (trigger or escalation), in
    two queries whatever the number of incidents."""
    since = {inc.id: inc.notified_at for inc in incs if inc.notified_at is not None}
    if not since:
        return {}
    msp_id = incs[0].msp_id
    # Rows before the earliest opening asked about are never wanted (an incident that flapped has
    # many); each incident's own opening is applied below.
    rows = (await session.execute(select(NotificationOutbox.incident_id, NotificationOutbox.channel_id, NotificationOutbox.created_at)
                                  .where(NotificationOutbox.msp_id == msp_id, NotificationOutbox.incident_id.in_(list(since)),
                                         NotificationOutbox.action.in_(("trigger", "escalate")),
                                         NotificationOutbox.created_at >= min(since.values())))).all()
    told: dict[uuid.UUID, list[uuid.UUID]] = {}
    for incident_id, channel_id, created_at in rows:
        assert incident_id is not None  # the query asked for these incidents' rows only
        if created_at >= since[incident_id]:
            ids = told.setdefault(incident_id, [])
            if channel_id not in ids:
                ids.append(channel_id)
    if not told:
        return {}
    channels = {c.id: c for c in (await session.scalars(select(NotificationChannel).where(
        NotificationChannel.msp_id == msp_id, NotificationChannel.id.in_({c for ids in told.values() for c in ids}),
        NotificationChannel.enabled.is_(True)))).all()}
    return {incident_id: [channels[c] for c in ids if c in channels] for incident_id, ids in told.items()}
