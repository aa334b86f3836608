"""Notification channels, routing rules and the dead-letter list (MSP managers).

Secrets — webhook/Slack/Teams URLs (they embed credentials), PagerDuty routing keys, webhook signing
secrets — are encrypted at rest, shown back only as a hint, and never put in an audit event.
"""

from __future__ import annotations

import re
import secrets as _secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import outbox, ssrf
from services.core.alerts.models import ChannelKind, NotificationChannel, NotificationOutbox, NotificationRoute, OutboxStatus
from services.core.alerts.schemas import ChannelIn, ChannelPatch, RouteIn, RoutePatch
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from services.core.practices.models import Practice
from services.core.secrets import encrypt

URL_KINDS = {ChannelKind.webhook.value, ChannelKind.slack.value, ChannelKind.teams.value}
ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{20,64}$")


def url_hint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


def out(c: NotificationChannel, signing_secret: str | None = None) -> dict[str, Any]:
    data = {"id": c.id, "name": c.name, "kind": c.kind, "enabled": c.enabled, "to": (c.config or {}).get("to"),
            "secret_hint": c.secret_hint, "has_signing_secret": c.signing_secret_encrypted is not None,
            "created_at": c.created_at}
    if signing_secret is not None:
        data["signing_secret"] = signing_secret
    return data


async def _set_secret(c: NotificationChannel, kind: str, to: list[str] | None, url: str | None, routing_key: str | None,
                      creating: bool) -> None:
    """Validate what the kind needs and store it (URLs vetted against SSRF now, and again at send time)."""
    if kind == ChannelKind.email.value:
        if to is not None:
            c.config = {"to": [str(t) for t in to]}
        elif creating:
            raise ValidationFailed("An email channel needs recipients.", errors=[FieldError("to", "at least one address")])
    elif kind in URL_KINDS:
        if url is not None:
            try:
                await ssrf.vet(url)
            except ssrf.UnsafeUrl as exc:
                raise ValidationFailed("This URL may not receive notifications.", errors=[FieldError("url", str(exc))])
            c.secret_encrypted, c.secret_hint = encrypt(url), url_hint(url)
        elif creating:
            raise ValidationFailed("This channel needs a URL.", errors=[FieldError("url", "required")])
    elif kind == ChannelKind.pagerduty.value:
        if routing_key is not None:
            if not ROUTING_KEY.match(routing_key):
                raise ValidationFailed("Not a PagerDuty routing key.",
                                       errors=[FieldError("routing_key", "20–64 letters and digits (the integration key)")])
            c.secret_encrypted, c.secret_hint = encrypt(routing_key), f"…{routing_key[-4:]}"
        elif creating:
            raise ValidationFailed("A PagerDuty channel needs a routing key.", errors=[FieldError("routing_key", "required")])


async def list_channels(session: AsyncSession, msp_id: uuid.UUID) -> list[NotificationChannel]:
    return list((await session.scalars(select(NotificationChannel).where(NotificationChannel.msp_id == msp_id)
                                       .order_by(NotificationChannel.name))).all())


async def get_channel(session: AsyncSession, msp_id: uuid.UUID, channel_id: uuid.UUID) -> NotificationChannel:
    c = await session.scalar(select(NotificationChannel).where(NotificationChannel.msp_id == msp_id,
                                                               NotificationChannel.id == channel_id))
    if c is None:
        raise NotFound("No such notification channel.")
    return c


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("A channel with this name already exists.", errors=[FieldError("name", "already used")])


async def create_channel(session: AsyncSession, msp_id: uuid.UUID, actor: Actor, body: ChannelIn) -> dict[str, Any]:
    c = NotificationChannel(msp_id=msp_id, name=body.name, kind=body.kind, enabled=body.enabled, config={}, secret_hint="")
    await _set_secret(c, body.kind, body.to, body.url.get_secret_value() if body.url else None,
                      body.routing_key.get_secret_value() if body.routing_key else None, creating=True)
    signing = None
    if body.kind == ChannelKind.webhook.value:
        signing = "whsec_" + _secrets.token_urlsafe(32)
        c.signing_secret_encrypted = encrypt(signing)
    first = not await session.scalar(select(exists().where(NotificationChannel.msp_id == msp_id)))
    session.add(c)
    await _flush_unique(session)
    await record(session, msp_id=msp_id, actor=actor, action="notification_channel.created", object_type="notification_channel",
                 object_id=c.id, changes={"name": c.name, "kind": c.kind, "secret_hint": c.secret_hint})
    data = out(c, signing)
    if first:
        # A channel without a route hears nothing, and an MSP adding its first one means "tell us
        # here": every practice, every severity (high urgency; plan and inventory findings stay in
        # the queue until a route asks for them). Later channels get no route of their own, since
        # the MSP has said by then how it routes (docs/decisions/0019-default-route.md).
        route = await create_route(session, msp_id, actor, RouteIn(channel_id=c.id, min_severity="low"),
                                   default_for_first_channel=True)
        data["default_route_id"] = route.id
    return data


async def update_channel(session: AsyncSession, c: NotificationChannel, actor: Actor, body: ChannelPatch) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.name is not None and body.name != c.name:
        changes["name"], c.name = [c.name, body.name], body.name
    if body.enabled is not None and body.enabled != c.enabled:
        changes["enabled"], c.enabled = [c.enabled, body.enabled], body.enabled
    hint = c.secret_hint
    await _set_secret(c, c.kind, body.to, body.url.get_secret_value() if body.url else None,
                      body.routing_key.get_secret_value() if body.routing_key else None, creating=False)
    if body.to is not None:
        changes["to"] = c.config["to"]
    if c.secret_hint != hint:
        changes["secret_hint"] = [hint, c.secret_hint]  # that the secret changed, never the secret
    await _flush_unique(session)
    await record(session, msp_id=c.msp_id, actor=actor, action="notification_channel.updated",
                 object_type="notification_channel", object_id=c.id, changes=changes)
    return out(c)


async def rotate_signing_secret(session: AsyncSession, c: NotificationChannel, actor: Actor) -> dict[str, Any]:
    if c.kind != ChannelKind.webhook.value:
        raise ValidationFailed("Only webhook channels sign their requests.", errors=[FieldError("kind", "not a webhook")])
    signing = "whsec_" + _secrets.token_urlsafe(32)
    c.signing_secret_encrypted = encrypt(signing)
    await session.flush()
    await record(session, msp_id=c.msp_id, actor=actor, action="notification_channel.signing_secret_rotated",
                 object_type="notification_channel", object_id=c.id)
    return out(c, signing)


async def delete_channel(session: AsyncSession, c: NotificationChannel, actor: Actor) -> None:
    await session.delete(c)
    await session.flush()
    await record(session, msp_id=c.msp_id, actor=actor, action="notification_channel.deleted",
                 object_type="notification_channel", object_id=c.id, changes={"name": c.name, "kind": c.kind})


async def send_test(session: AsyncSession, c: NotificationChannel, actor: Actor) -> NotificationOutbox:
    row = await outbox.enqueue_test(session, c, utcnow(), actor.label)
    await record(session, msp_id=c.msp_id, actor=actor, action="notification_channel.test_sent",
                 object_type="notification_channel", object_id=c.id, changes={"outbox_id": row.id})
    return row


# --- routes -----------------------------------------------------------------------------------

async def list_routes(session: AsyncSession, msp_id: uuid.UUID) -> list[NotificationRoute]:
    return list((await session.scalars(select(NotificationRoute).where(NotificationRoute.msp_id == msp_id)
                                       .order_by(NotificationRoute.created_at))).all())


async def _channel_exists(session: AsyncSession, msp_id: uuid.UUID, channel_id: uuid.UUID) -> bool:
    return await session.scalar(select(NotificationChannel.id).where(
        NotificationChannel.msp_id == msp_id, NotificationChannel.id == channel_id)) is not None


async def _check_route(session: AsyncSession, msp_id: uuid.UUID, body: RouteIn) -> None:
    # Every problem at once, each at its field and in words a person reads in the form (the web app
    # shows them under the field; another MSP's channel or practice reads as unknown, as it is).
    errors = []
    if not await _channel_exists(session, msp_id, body.channel_id):
        errors.append(FieldError("channel_id", "Choose one of your channels."))
    if body.escalate_after_minutes is not None and body.escalation_channel_id is None:
        errors.append(FieldError("escalation_channel_id", "Choose the channel to escalate to, or leave the delay empty."))
    if body.escalation_channel_id is not None and body.escalate_after_minutes is None:
        errors.append(FieldError("escalate_after_minutes", "Say after how many minutes to escalate, or choose no escalation."))
    if body.escalation_channel_id is not None and not await _channel_exists(session, msp_id, body.escalation_channel_id):
        errors.append(FieldError("escalation_channel_id", "Choose one of your channels."))
    if body.practice_id is not None and await session.scalar(select(Practice.id).where(
            Practice.msp_id == msp_id, Practice.id == body.practice_id)) is None:
        errors.append(FieldError("practice_id", "Choose one of your practices, or all practices."))
    if errors:
        raise ValidationFailed("The route is not valid.", errors=errors)


async def create_route(session: AsyncSession, msp_id: uuid.UUID, actor: Actor, body: RouteIn, *,
                       default_for_first_channel: bool = False) -> NotificationRoute:
    await _check_route(session, msp_id, body)
    r = NotificationRoute(msp_id=msp_id, **body.model_dump())
    session.add(r)
    await session.flush()
    changes = body.model_dump(mode="json") | ({"default_for_first_channel": True} if default_for_first_channel else {})
    await record(session, msp_id=msp_id, actor=actor, action="notification_route.created", object_type="notification_route",
                 object_id=r.id, changes=changes)
    return r


async def get_route(session: AsyncSession, msp_id: uuid.UUID, route_id: uuid.UUID) -> NotificationRoute:
    r = await session.scalar(select(NotificationRoute).where(NotificationRoute.msp_id == msp_id, NotificationRoute.id == route_id))
    if r is None:
        raise NotFound("No such route.")
    return r


async def update_route(session: AsyncSession, r: NotificationRoute, actor: Actor, patch: RoutePatch) -> NotificationRoute:
    current = {k: getattr(r, k) for k in RouteIn.model_fields}
    body = RouteIn(**(current | patch.model_dump(exclude_unset=True)))
    await _check_route(session, r.msp_id, body)
    before = {k: getattr(r, k) for k in body.model_dump()}
    for k, v in body.model_dump().items():
        setattr(r, k, v)
    await session.flush()
    await record(session, msp_id=r.msp_id, actor=actor, action="notification_route.updated", object_type="notification_route",
                 object_id=r.id, changes={k: [before[k], v] for k, v in body.model_dump().items() if before[k] != v})
    return r


async def delete_route(session: AsyncSession, r: NotificationRoute, actor: Actor) -> None:
    await session.delete(r)
    await session.flush()
    await record(session, msp_id=r.msp_id, actor=actor, action="notification_route.deleted", object_type="notification_route",
                 object_id=r.id)


# --- dead letters -----------------------------------------------------------------------------

DEAD = (OutboxStatus.dead.value, OutboxStatus.needs_review.value)


async def dead_letters(session: AsyncSession, msp_id: uuid.UUID, limit: int, offset: int) -> list[NotificationOutbox]:
    return list((await session.scalars(select(NotificationOutbox).where(
        NotificationOutbox.msp_id == msp_id, NotificationOutbox.status.in_(DEAD))
        .order_by(NotificationOutbox.created_at.desc()).limit(limit).offset(offset))).all())


async def get_outbox(session: AsyncSession, msp_id: uuid.UUID, outbox_id: uuid.UUID) -> NotificationOutbox:
    row = await session.scalar(select(NotificationOutbox).where(NotificationOutbox.msp_id == msp_id,
                                                                NotificationOutbox.id == outbox_id))
    if row is None:
        raise NotFound("No such notification.")
    return row


async def retry_dead_letter(session: AsyncSession, msp_id: uuid.UUID, outbox_id: uuid.UUID, actor: Actor) -> NotificationOutbox:
    row = await session.scalar(select(NotificationOutbox).where(
        NotificationOutbox.msp_id == msp_id, NotificationOutbox.id == outbox_id).with_for_update())
    if row is None:
        raise NotFound("No such notification.")
    if row.status not in DEAD:
        raise Conflict(f"Only dead or held notifications can be retried; this one is {row.status}.")
    previous = row.status
    row.status, row.attempts, row.next_attempt_at, row.attempt_id = OutboxStatus.pending.value, 0, utcnow(), None
    await session.flush()
    await record(session, msp_id=msp_id, actor=actor, action="notification.retried", object_type="notification_outbox",
                 object_id=row.id, practice_id=row.practice_id, changes={"status": [previous, "pending"]})
    return row

