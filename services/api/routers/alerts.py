"""Alert rules and policy, practice/site overrides, maintenance windows, notification channels,
routing rules and the dead-letter list."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Path, Query, Response

from services.api.deps import CurrentPrincipal, DbSession, MspManager, MspReader, PracticeOperator, PracticeReader, actor_of
from services.core.alerts import channels, policy, service
from services.core.alerts.rules import catalogue
from services.core.alerts.schemas import (
    ChannelCreated,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    EffectiveOut,
    MaintenanceIn,
    MaintenanceOut,
    OutboxOut,
    OverrideIn,
    OverrideOut,
    PolicyIn,
    PolicyOut,
    RouteIn,
    RouteOut,
    RoutePatch,
    RuleOut,
)
from services.core.errors import Forbidden
from services.core.identity.policy import Permission
from services.core.identity.principal import Principal

router = APIRouter(tags=["alerts"])
RULE_ID = r"^[a-z]+\.[a-z0-9_]+$"


def _manager(principal: Principal) -> None:
    # Checked after the object lookup on MSP-level object paths: another MSP's object is 404 for everyone.
    if not principal.can(Permission.msp_manage):
        raise Forbidden("Only an MSP owner or admin may change notification settings.")


@router.get("/api/v1/alert-rules", operation_id="list_alert_rules", response_model=list[RuleOut])
async def list_alert_rules(principal: CurrentPrincipal):
    """The live-rules catalogue: ids, meanings, default thresholds, severities."""
    return [{"id": r.id, "title": r.title, "meaning": r.meaning, "component": r.component.value, "severity": r.severity.value,
             "hipaa": r.hipaa, "params": r.defaults(), "param_meanings": {k: p.meaning for k, p in r.params.items()},
             "time_based": r.time_based, "follows_outage": r.follows_outage} for r in catalogue()]


@router.get("/api/v1/alert-policy", operation_id="get_alert_policy", response_model=PolicyOut)
async def get_alert_policy(principal: MspReader, db: DbSession):
    """The MSP-wide alert policy (rules not listed use the catalogue defaults)."""
    p = await policy.get_policy(db, principal.msp_id)
    if p is None:
        return {"rules": {}, "resolve_after_minutes": 5, "resolve_after_evaluations": 2, "reopen_cooldown_minutes": 60,
                "max_notifications_per_hour": 3}
    return service.policy_out(p)


@router.put("/api/v1/alert-policy", operation_id="update_alert_policy", response_model=PolicyOut)
async def update_alert_policy(body: PolicyIn, principal: MspManager, db: DbSession):
    """Change the MSP-wide policy: per-rule enabled and thresholds, and how incidents settle."""
    return await service.update_policy(db, principal.msp_id, actor_of(principal), body)


@router.get("/api/v1/practices/{practice_id}/alert-overrides", operation_id="list_alert_overrides",
            response_model=list[OverrideOut])
async def list_alert_overrides(access: PracticeReader, db: DbSession):
    """The practice's and its sites' deviations from the MSP policy."""
    return await service.list_overrides(db, access.practice)


@router.put("/api/v1/practices/{practice_id}/alert-overrides/{rule_id}", operation_id="set_alert_override",
            response_model=OverrideOut,
            responses={204: {"description": "The override inherited everything and was removed: the MSP policy applies"}})
async def set_alert_override(body: OverrideIn, access: PracticeOperator, db: DbSession,
                             rule_id: str = Path(pattern=RULE_ID, max_length=64)):
    """Override one rule for the practice (or one of its sites); null enabled and no params = inherit (removes it, 204)."""
    row = await service.put_override(db, access.practice, rule_id, access.actor, body)
    # No override is left to show; what applies now is get_effective_alert_policy's to say.
    return Response(status_code=204) if row is None else row


@router.get("/api/v1/practices/{practice_id}/alert-policy", operation_id="get_effective_alert_policy",
            response_model=list[EffectiveOut])
async def get_effective_alert_policy(access: PracticeReader, db: DbSession):
    """What applies to the practice and each site, rule by rule, and where each value comes from."""
    return await service.effective(db, access.practice)


@router.get("/api/v1/practices/{practice_id}/maintenance-windows", operation_id="list_maintenance_windows",
            response_model=list[MaintenanceOut])
async def list_maintenance_windows(access: PracticeReader, db: DbSession):
    """The practice's maintenance windows."""
    return [service.window_out(w) for w in await service.list_windows(db, access.practice)]


@router.post("/api/v1/practices/{practice_id}/maintenance-windows", operation_id="create_maintenance_window",
             response_model=MaintenanceOut, status_code=201)
async def create_maintenance_window(body: MaintenanceIn, access: PracticeOperator, db: DbSession):
    """Plan a one-off or weekly window during which incidents are not notified."""
    return service.window_out(await service.create_window(db, access.practice, access.actor, body))


@router.delete("/api/v1/practices/{practice_id}/maintenance-windows/{window_id}", operation_id="delete_maintenance_window",
               status_code=204)
async def delete_maintenance_window(window_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> Response:
    """Remove a maintenance window."""
    await service.delete_window(db, access.practice, window_id, access.actor)
    return Response(status_code=204)


# --- channels, routes, dead letters (MSP managers) ---------------------------------------------

@router.get("/api/v1/notification-channels", operation_id="list_notification_channels", response_model=list[ChannelOut])
async def list_notification_channels(principal: MspManager, db: DbSession):
    """The MSP's notification channels (secrets shown only as hints)."""
    return [channels.out(c) for c in await channels.list_channels(db, principal.msp_id)]


@router.post("/api/v1/notification-channels", operation_id="create_notification_channel", response_model=ChannelCreated,
             status_code=201)
async def create_notification_channel(body: ChannelIn, principal: MspManager, db: DbSession):
    """Add a channel; a webhook's signing secret is returned this once."""
    return await channels.create_channel(db, principal.msp_id, actor_of(principal), body)


@router.get("/api/v1/notification-channels/{channel_id}", operation_id="get_notification_channel", response_model=ChannelOut)
async def get_notification_channel(channel_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession):
    """One channel."""
    c = await channels.get_channel(db, principal.msp_id, channel_id)
    _manager(principal)
    return channels.out(c)


@router.patch("/api/v1/notification-channels/{channel_id}", operation_id="update_notification_channel",
              response_model=ChannelOut)
async def update_notification_channel(channel_id: uuid.UUID, body: ChannelPatch, principal: CurrentPrincipal, db: DbSession):
    """Rename, enable/disable, or replace a channel's recipients, URL or routing key."""
    c = await channels.get_channel(db, principal.msp_id, channel_id)
    _manager(principal)
    return await channels.update_channel(db, c, actor_of(principal), body)


@router.post("/api/v1/notification-channels/{channel_id}/rotate-signing-secret", operation_id="rotate_webhook_signing_secret",
             response_model=ChannelCreated)
async def rotate_webhook_signing_secret(channel_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession):
    """Issue a new signing secret for a webhook channel (returned this once)."""
    c = await channels.get_channel(db, principal.msp_id, channel_id)
    _manager(principal)
    return await channels.rotate_signing_secret(db, c, actor_of(principal))


@router.delete("/api/v1/notification-channels/{channel_id}", operation_id="delete_notification_channel", status_code=204)
async def delete_notification_channel(channel_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> Response:
    """Remove a channel, its routes and its queued notifications."""
    c = await channels.get_channel(db, principal.msp_id, channel_id)
    _manager(principal)
    await channels.delete_channel(db, c, actor_of(principal))
    return Response(status_code=204)


@router.post("/api/v1/notification-channels/{channel_id}/test", operation_id="test_notification_channel",
             response_model=OutboxOut, status_code=202)
async def test_notification_channel(channel_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession):
    """Queue a test message to the channel; its delivery shows in the outbox row (and dead letters on failure)."""
    c = await channels.get_channel(db, principal.msp_id, channel_id)
    _manager(principal)
    return await channels.send_test(db, c, actor_of(principal))


@router.get("/api/v1/notification-routes", operation_id="list_notification_routes", response_model=list[RouteOut])
async def list_notification_routes(principal: MspManager, db: DbSession):
    """Routing rules: which incidents (severity, practice) go to which channel, and escalation."""
    return await channels.list_routes(db, principal.msp_id)


@router.post("/api/v1/notification-routes", operation_id="create_notification_route", response_model=RouteOut, status_code=201)
async def create_notification_route(body: RouteIn, principal: MspManager, db: DbSession):
    """Add a routing rule."""
    return await channels.create_route(db, principal.msp_id, actor_of(principal), body)


@router.patch("/api/v1/notification-routes/{route_id}", operation_id="update_notification_route", response_model=RouteOut)
async def update_notification_route(route_id: uuid.UUID, body: RoutePatch, principal: CurrentPrincipal, db: DbSession):
    """Change a routing rule (fields left out keep their value)."""
    r = await channels.get_route(db, principal.msp_id, route_id)
    _manager(principal)
    return await channels.update_route(db, r, actor_of(principal), body)


@router.delete("/api/v1/notification-routes/{route_id}", operation_id="delete_notification_route", status_code=204)
async def delete_notification_route(route_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> Response:
    """Remove a routing rule."""
    r = await channels.get_route(db, principal.msp_id, route_id)
    _manager(principal)
    await channels.delete_route(db, r, actor_of(principal))
    return Response(status_code=204)


@router.get("/api/v1/notifications/dead-letters", operation_id="list_dead_letters", response_model=list[OutboxOut])
async def list_dead_letters(principal: MspManager, db: DbSession, limit: int = Query(default=50, ge=1, le=200),
                            offset: int = Query(default=0, ge=0, le=100_000)):
    """Notifications that could not be delivered, or whose delivery is uncertain (held for review)."""
    return await channels.dead_letters(db, principal.msp_id, limit, offset)


@router.post("/api/v1/notifications/dead-letters/{outbox_id}/retry", operation_id="retry_dead_letter",
             response_model=OutboxOut)
async def retry_dead_letter(outbox_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession):
    """Queue a dead or held notification again."""
    row = await channels.get_outbox(db, principal.msp_id, outbox_id)
    _manager(principal)
    return await channels.retry_dead_letter(db, principal.msp_id, row.id, actor_of(principal))
