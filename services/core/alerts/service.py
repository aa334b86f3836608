"""What people do with incidents, the policy, overrides and maintenance windows (the API's services)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import locks
from services.core.alerts import evaluate, incidents, maintenance, policy
from services.core.readiness.service import MARK_LATER, mark_dirty_many
from services.core.alerts.models import AlertOverride, Incident, IncidentEvent, IncidentStatus, MaintenanceWindow
from services.core.alerts.schemas import MaintenanceIn, OverrideIn, PolicyIn
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from services.core.practices.models import Practice, Site


# --- incidents --------------------------------------------------------------------------------

async def list_incidents(session: AsyncSession, msp_id: uuid.UUID, visible: frozenset[uuid.UUID] | None, *,
                         practice_id: uuid.UUID | None, status: str | None, severity: str | None, rule_id: str | None,
                         limit: int, offset: int) -> tuple[list[Incident], int]:
    q = select(Incident).where(Incident.msp_id == msp_id)
    if visible is not None:
        q = q.where(Incident.practice_id.in_(visible))
    if practice_id is not None:
        q = q.where(Incident.practice_id == practice_id)
    if status == "active":
        q = q.where(Incident.resolved_at.is_(None))
    elif status:
        q = q.where(Incident.status == status)
    if severity:
        q = q.where(Incident.severity == severity)
    if rule_id:
        q = q.where(Incident.rule_id == rule_id)
    total = await session.scalar(select(func.count()).select_from(q.subquery()))
    rank = func.array_position(["critical", "high", "medium", "low"], Incident.severity)
    # The id last: incidents opened by one evaluation share opened_at, and offset pages over an order
    # with ties may repeat or skip them.
    rows = (await session.scalars(q.order_by(Incident.resolved_at.is_not(None), rank, Incident.opened_at.desc(), Incident.id)
                                  .limit(limit).offset(offset))).all()
    return list(rows), total or 0


def _incident_q(msp_id: uuid.UUID, practice_id: uuid.UUID, incident_id: uuid.UUID):
    return select(Incident).where(Incident.msp_id == msp_id, Incident.practice_id == practice_id, Incident.id == incident_id)


async def get_incident(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, incident_id: uuid.UUID) -> Incident:
    inc = await session.scalar(_incident_q(msp_id, practice_id, incident_id))
    if inc is None:
        raise NotFound("No such incident.")
    return inc


async def _incident_to_change(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID,
                              incident_id: uuid.UUID) -> Incident:
    """The incident, locked for a change: the practice's incident lock first, then the row — the
    order an evaluation takes them in (docs/decisions/0005-lock-order.md). Row first, as before,
    deadlocked with an evaluation that held the practice and was about to write the row.

    Read after the practice lock, so a change an evaluation just committed is what is checked."""
    await locks.lock_practices(session, [practice_id])
    inc = await session.scalar(_incident_q(msp_id, practice_id, incident_id).with_for_update())
    if inc is None:
        raise NotFound("No such incident.")
    return inc


async def detail(session: AsyncSession, inc: Incident) -> dict[str, Any]:
    timeline = (await session.scalars(select(IncidentEvent).where(
        IncidentEvent.msp_id == inc.msp_id, IncidentEvent.incident_id == inc.id).order_by(IncidentEvent.at, IncidentEvent.created_at))).all()
    children = (await session.scalars(select(Incident).where(
        Incident.msp_id == inc.msp_id, Incident.parent_id == inc.id).order_by(Incident.opened_at))).all()
    window = await session.get(MaintenanceWindow, (inc.msp_id, inc.maintenance_window_id)) if inc.maintenance_window_id else None
    return {**{c.key: getattr(inc, c.key) for c in Incident.__table__.columns},
            "timeline": timeline, "children": children, "suppressed_by": window.name if window else None}


async def _ctx(session: AsyncSession, inc: Incident) -> incidents.Ctx:
    practice = await session.get(Practice, (inc.msp_id, inc.practice_id))
    site = await session.get(Site, (inc.msp_id, inc.site_id)) if inc.site_id else None
    return incidents.Ctx(session, inc.msp_id, utcnow(), await policy.load(session, inc.msp_id, [inc.practice_id]),
                         practice_names={inc.practice_id: practice.name if practice else ""},
                         site_names={site.id: site.name} if site else {})


async def acknowledge(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, incident_id: uuid.UUID,
                      actor: Actor) -> Incident:
    inc = await _incident_to_change(session, msp_id, practice_id, incident_id)
    if inc.status != IncidentStatus.open.value:
        raise Conflict(f"Only an open incident can be acknowledged; this one is {inc.status}.")
    ctx = await _ctx(session, inc)
    await incidents.acknowledge(ctx, inc, actor.label, actor.id)
    await session.flush()
    await record(session, msp_id=inc.msp_id, actor=actor, action="incident.acknowledged", object_type="incident",
                 object_id=inc.id, practice_id=inc.practice_id)
    return inc


async def resolve(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, incident_id: uuid.UUID,
                  actor: Actor, note: str) -> Incident:
    inc = await _incident_to_change(session, msp_id, practice_id, incident_id)
    if inc.status == IncidentStatus.resolved.value:
        raise Conflict("The incident is already resolved.")
    ctx = await _ctx(session, inc)
    await incidents.resolve(ctx, inc, actor.label, actor.id, note)
    await session.flush()
    # The incident is the condition: its finding leaves readiness with it (and both come back at
    # the next evaluation if the condition still holds). A practice never scored is marked after the
    # audit event, as every mark is (docs/decisions/0005-lock-order.md).
    later: set[uuid.UUID] = set()
    session.info[MARK_LATER] = later
    try:
        await evaluate.judged(session, inc.msp_id, {inc.practice_id}, ctx.now)
    finally:
        session.info.pop(MARK_LATER, None)
    await record(session, msp_id=inc.msp_id, actor=actor, action="incident.resolved", object_type="incident",
                 object_id=inc.id, practice_id=inc.practice_id, changes={"note": note} if note else None)
    await mark_dirty_many(session, inc.msp_id, later)
    return inc


async def add_note(session: AsyncSession, inc: Incident, actor: Actor, text: str) -> IncidentEvent:
    e = incidents.event(session, inc, "note", text, at=utcnow(), actor=actor.label, actor_id=actor.id)
    await session.flush()
    await record(session, msp_id=inc.msp_id, actor=actor, action="incident.note_added", object_type="incident",
                 object_id=inc.id, practice_id=inc.practice_id, changes={"event_id": e.id})
    return e


# --- policy and overrides ---------------------------------------------------------------------

def policy_out(p: Any) -> dict[str, Any]:
    return {"rules": p.rules, "resolve_after_minutes": p.resolve_after_minutes,
            "resolve_after_evaluations": p.resolve_after_evaluations,
            "reopen_cooldown_minutes": p.reopen_cooldown_minutes, "max_notifications_per_hour": p.max_notifications_per_hour}


async def update_policy(session: AsyncSession, msp_id: uuid.UUID, actor: Actor, body: PolicyIn) -> dict[str, Any]:
    p = await policy.get_or_create_policy(session, msp_id)
    before = policy_out(p)
    if body.rules is not None:
        rules: dict[str, Any] = {}
        for rule_id, setting in body.rules.items():
            level = policy.validate_level(rule_id, setting.enabled, setting.params, f"rules.{rule_id}.")
            if level.enabled is not None or level.params:
                rules[rule_id] = {"enabled": level.enabled, "params": level.params}
        p.rules = rules
    for k in ("resolve_after_minutes", "resolve_after_evaluations", "reopen_cooldown_minutes", "max_notifications_per_hour"):
        if (v := getattr(body, k)) is not None:
            setattr(p, k, v)
    await session.flush()
    after = policy_out(p)
    await record(session, msp_id=msp_id, actor=actor, action="alert_policy.updated", object_type="alert_policy",
                 object_id=p.id, changes={k: [before[k], v] for k, v in after.items() if before[k] != v})
    return after


async def _site_of(session: AsyncSession, practice: Practice, site_id: uuid.UUID | None) -> None:
    if site_id is not None and await session.scalar(select(Site.id).where(
            Site.msp_id == practice.msp_id, Site.practice_id == practice.id, Site.id == site_id)) is None:
        raise ValidationFailed("No such site in this practice.", errors=[FieldError("site_id", "no such site")])


async def list_overrides(session: AsyncSession, practice: Practice) -> list[AlertOverride]:
    return list((await session.scalars(select(AlertOverride).where(
        AlertOverride.msp_id == practice.msp_id, AlertOverride.practice_id == practice.id)
        .order_by(AlertOverride.rule_id, AlertOverride.site_id.is_not(None)))).all())


async def put_override(session: AsyncSession, practice: Practice, rule_id: str, actor: Actor, body: OverrideIn) -> AlertOverride | None:
    """Set (or, when it would inherit everything, remove) the practice's or a site's override of one rule."""
    await _site_of(session, practice, body.site_id)
    level = policy.validate_level(rule_id, body.enabled, body.params)
    q = select(AlertOverride).where(AlertOverride.msp_id == practice.msp_id, AlertOverride.practice_id == practice.id,
                                    AlertOverride.rule_id == rule_id)
    q = q.where(AlertOverride.site_id == body.site_id) if body.site_id else q.where(AlertOverride.site_id.is_(None))
    row = await session.scalar(q.with_for_update())
    before = {"enabled": row.enabled, "params": row.params} if row else None
    if level.enabled is None and not level.params:
        if row is not None:
            await session.delete(row)
    elif row is None:
        row = AlertOverride(msp_id=practice.msp_id, practice_id=practice.id, site_id=body.site_id, rule_id=rule_id,
                            enabled=level.enabled, params=level.params)
        session.add(row)
    else:
        row.enabled, row.params = level.enabled, level.params
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("The override changed at the same time; try again.")
    await record(session, msp_id=practice.msp_id, actor=actor, action="alert_override.set", object_type="alert_override",
                 object_id=f"{rule_id}:{body.site_id or practice.id}", practice_id=practice.id,
                 changes={"before": before, "after": {"enabled": level.enabled, "params": level.params}})
    return row if (level.enabled is not None or level.params) else None


async def effective(session: AsyncSession, practice: Practice) -> list[dict[str, Any]]:
    from services.core.alerts.rules import catalogue

    view = await policy.load(session, practice.msp_id, [practice.id])
    sites = (await session.scalars(select(Site.id).where(Site.msp_id == practice.msp_id, Site.practice_id == practice.id))).all()
    out = []
    for r in catalogue():
        for sid in [None, *sites]:
            e = view.effective(r.id, practice.id, sid)
            out.append({"rule_id": r.id, "site_id": sid, "enabled": e.enabled, "params": e.params, "source": e.source})
    return out


# --- maintenance windows ----------------------------------------------------------------------

def window_out(w: MaintenanceWindow) -> dict[str, Any]:
    data = {c.key: getattr(w, c.key) for c in MaintenanceWindow.__table__.columns}
    data["weekdays"] = maintenance.weekday_names(w.weekdays)
    data["active_now"] = maintenance.occurrence(w, utcnow()) is not None
    return data


async def create_window(session: AsyncSession, practice: Practice, actor: Actor, body: MaintenanceIn) -> MaintenanceWindow:
    await _site_of(session, practice, body.site_id)
    tz = body.timezone or practice.timezone or "UTC"
    maintenance.zone(tz)
    w = MaintenanceWindow(msp_id=practice.msp_id, practice_id=practice.id, site_id=body.site_id, name=body.name,
                          kind=body.kind, timezone=tz, created_by=actor.label)
    if body.kind == "once":
        errors = [FieldError(f, "required for a one-off window") for f in ("starts_at", "ends_at") if getattr(body, f) is None]
        errors += [FieldError(f, "must include a time zone offset") for f in ("starts_at", "ends_at")
                   if getattr(body, f) is not None and getattr(body, f).tzinfo is None]
        if errors:
            raise ValidationFailed("The window is not valid.", errors=errors)
        assert body.starts_at is not None and body.ends_at is not None  # refused just above when missing
        if body.ends_at <= body.starts_at:
            raise ValidationFailed("The window is not valid.", errors=[FieldError("ends_at", "must be after starts_at")])
        w.starts_at, w.ends_at = body.starts_at, body.ends_at
    else:
        errors = [FieldError(f, "required for a weekly window") for f in ("weekdays", "start_time", "duration_minutes")
                  if not getattr(body, f)]
        if errors:
            raise ValidationFailed("The window is not valid.", errors=errors)
        assert body.weekdays is not None  # refused just above when missing or empty
        w.weekdays, w.start_time, w.duration_minutes = maintenance.weekday_mask(body.weekdays), body.start_time, body.duration_minutes
    session.add(w)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="maintenance_window.created",
                 object_type="maintenance_window", object_id=w.id, practice_id=practice.id,
                 changes=body.model_dump(mode="json"))
    return w


async def list_windows(session: AsyncSession, practice: Practice) -> list[MaintenanceWindow]:
    return list((await session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.msp_id == practice.msp_id, MaintenanceWindow.practice_id == practice.id)
        .order_by(MaintenanceWindow.created_at))).all())


async def delete_window(session: AsyncSession, practice: Practice, window_id: uuid.UUID, actor: Actor) -> None:
    # Removing the window lifts it from the incidents it suppresses (the foreign key sets them
    # free): a change to incidents, so the practice's incident lock comes first (docs/decisions/0005-lock-order.md).
    await locks.lock_practices(session, [practice.id])
    w = await session.scalar(select(MaintenanceWindow).where(
        MaintenanceWindow.msp_id == practice.msp_id, MaintenanceWindow.practice_id == practice.id, MaintenanceWindow.id == window_id))
    if w is None:
        raise NotFound("No such maintenance window.")
    await session.delete(w)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="maintenance_window.deleted",
                 object_type="maintenance_window", object_id=window_id, practice_id=practice.id, changes={"name": w.name})
