"""The incident lifecycle: open → acknowledged → resolved, with hysteresis, re-opening, grouping
under a site's internet outage, maintenance windows, and the timeline.

Every change writes its IncidentEvent and, where someone must hear of it, its outbox rows, in the
caller's transaction (services/core/alerts/outbox.py enqueue()).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import maintenance, outbox
from services.core.alerts.models import Incident, IncidentEvent, IncidentStatus, MaintenanceWindow, Urgency
from services.core.alerts.policy import PolicyView
from services.core.alerts.rules import Hit
from services.core.readiness import events as live_events


@dataclass
class Ctx:
    """What one evaluation (or one API action) needs to move incidents."""

    session: AsyncSession
    msp_id: uuid.UUID
    now: datetime
    policy: PolicyView
    windows: list[MaintenanceWindow] = field(default_factory=list)
    practice_names: dict[uuid.UUID, str] = field(default_factory=dict)
    site_names: dict[uuid.UUID, str] = field(default_factory=dict)
    router: outbox.Router | None = None
    # Set by an evaluation, which moves many incidents at once (None for API actions: one incident).
    bulk: Bulk | None = None

    async def routes(self) -> outbox.Router:
        if self.router is None:
            self.router = await outbox.Router.load(self.session, self.msp_id)
        return self.router


@dataclass
class Bulk:
    """What an evaluation keeps in memory or puts off to its end (finish()), so that moving a hundred
    incidents at once costs a few statements rather than a few per incident: every incident of its
    practices by (rule, subject) — the open ones, then those open_missing() opened or re-opens —, the
    incidents it inserted, its live events, and the resolve messages owed to the channels that heard
    of the incidents it resolves."""

    open: dict[tuple[str, str, str], Incident]
    # Inserted by open_missing(): nothing can have been notified for them yet.
    opened: set[uuid.UUID] = field(default_factory=set)
    live: live_events.Held = field(default_factory=live_events.Held)
    follow_ups: list[tuple[Incident, str]] = field(default_factory=list)
    # Practices whose conditions changed in a way that can move their score (a condition started,
    # ended, changed severity, or entered or left a maintenance window): the evaluation rescores them
    # in the same transaction (docs/decisions/0013-one-judgement.md; shown()).
    judged: set[uuid.UUID] = field(default_factory=set)


def shown(inc: Incident) -> tuple:
    """What of a condition can move points: whether it is open, its severity, and the maintenance
    window listed with it. Its words ("last seen 13 min ago") and its clearing move no point, and
    readiness reads them from the incident itself when it is shown (readiness/live_rules.py
    `with_current_words`): rescoring a telemetry batch for them (a flapping link rewords and clears
    its findings at every flap) doubled the worker's lag at 5,000 events/s (docs/performance.md)."""
    return (inc.resolved_at is None, inc.severity, inc.maintenance_window_id)


def _note(ctx: Ctx, inc: Incident, before: tuple | None) -> None:
    if ctx.bulk is not None and before != shown(inc):
        ctx.bulk.judged.add(inc.practice_id)



LAST_FIRED_PRECISION = timedelta(minutes=1)


def event(session: AsyncSession, inc: Incident, kind: str, message: str = "", *, at: datetime, actor: str = "seawall",
          actor_id: uuid.UUID | None = None, data: dict[str, Any] | None = None) -> IncidentEvent:
    e = IncidentEvent(msp_id=inc.msp_id, practice_id=inc.practice_id, incident_id=inc.id, at=at, kind=kind,
                      actor=actor, actor_id=actor_id, message=message, data=data or {})
    session.add(e)
    return e


# The newest incident per (rule, subject) resolved since the cooldown began, for many subjects in
# one statement (ix_incident_subject finds each).
_RECENTLY_RESOLVED = text("""
SELECT i.* FROM unnest(CAST(:rules AS text[]), CAST(:types AS text[]), CAST(:subjects AS text[])) AS k(rule_id, subject_type, subject_id)
 CROSS JOIN LATERAL (
   SELECT * FROM incident i
    WHERE i.msp_id = :msp AND i.rule_id = k.rule_id AND i.subject_type = k.subject_type AND i.subject_id = k.subject_id
      AND i.resolved_at >= :since
    ORDER BY i.resolved_at DESC LIMIT 1) AS i
""")


async def open_missing(ctx: Ctx, firing: list[tuple[uuid.UUID, Hit, Urgency]]) -> None:
    """Give every firing condition without an open incident one, in ctx.bulk.open, before fire() runs for them.

    A condition back within the cooldown re-opens its resolved incident (fire() says so on its
    timeline); any other gets a new incident. The new ones are inserted together, in one statement,
    before anything that points at them: the timeline, the outbox rows and each other (an outage's
    consequences) follow in a later flush. One at a time, inserting and flushing each
    took 4–8 ms, and a new MSP's first evaluation (or a site whose every condition starts at once)
    held the practices' incident locks, and so their telemetry, for seconds."""
    bulk = ctx.bulk
    if bulk is None:
        raise ValueError("open_missing is for evaluations, whose context has a Bulk")
    missing = [(practice_id, hit, urgency) for practice_id, hit, urgency in firing if hit.finding.key not in bulk.open]
    if not missing:
        return
    since = ctx.now - timedelta(minutes=ctx.policy.reopen_cooldown_minutes)
    keys = [hit.finding.key for _, hit, _ in missing]
    rows = (await ctx.session.scalars(select(Incident).from_statement(_RECENTLY_RESOLVED), {
        "msp": ctx.msp_id, "since": since, "rules": [k[0] for k in keys], "types": [k[1] for k in keys],
        "subjects": [k[2] for k in keys]})).all()
    for inc in rows:
        bulk.open[(inc.rule_id, inc.subject_type, inc.subject_id)] = inc
    new = []
    for practice_id, hit, urgency in missing:
        f = hit.finding
        if f.key in bulk.open:
            continue
        inc = Incident(msp_id=ctx.msp_id, practice_id=practice_id, rule_id=f.rule_id, subject_type=f.subject_type,
                       subject_id=f.subject_id, severity=f.severity.value, component=f.component.value,
                       urgency=urgency.value, status=IncidentStatus.open.value, opened_at=ctx.now, last_fired_at=ctx.now,
                       clear_evaluations=0, reopen_count=0, title="", remediation="", hipaa="")
        _copy_finding(inc, hit)
        bulk.open[f.key] = inc
        new.append(inc)
    if new:
        ctx.session.add_all(new)
        await ctx.session.flush()
        bulk.opened.update(inc.id for inc in new)


def _copy_finding(inc: Incident, hit: Hit) -> None:
    f = hit.finding
    inc.title, inc.remediation, inc.hipaa = f.title[:500], f.remediation, f.hipaa[:200]
    inc.measured, inc.target = (f.measured or None), (f.target or None)
    inc.judged_run_finished_at = f.judged_run_finished_at
    inc.component = f.component.value
    inc.site_id = hit.site_id if hit.site_id else inc.site_id


async def fire(ctx: Ctx, inc: Incident, hit: Hit, parent: Incident | None) -> Incident:
    """The condition holds now: open, re-open or refresh its incident, and notify when due.

    inc: the condition's incident, as open_missing() left it — just opened, resolved within the
    cooldown, or open all along."""
    f, now = hit.finding, ctx.now
    before = None if _just_opened(ctx, inc) else shown(inc)
    if _just_opened(ctx, inc):
        event(ctx.session, inc, "opened", f.title, at=now, data={"measured": f.measured, "target": f.target})
        await _live(ctx, inc, "incident.opened")
    elif inc.resolved_at is not None:
        inc.status, inc.resolved_at, inc.resolved_by = IncidentStatus.open.value, None, None
        inc.acknowledged_at = inc.acknowledged_by = inc.escalated_at = inc.notified_at = None
        inc.clear_since, inc.clear_evaluations, inc.reopen_count = None, 0, inc.reopen_count + 1
        inc.last_fired_at, inc.severity = now, f.severity.value
        _copy_finding(inc, hit)
        event(ctx.session, inc, "reopened", f"The condition came back within {ctx.policy.reopen_cooldown_minutes} minutes "
              f"of resolving: {f.measured or f.title}.", at=now)
        await _live(ctx, inc, "incident.opened")
    else:
        if inc.clear_since is not None:
            event(ctx.session, inc, "fired_again", f"The condition is back before the incident resolved: {f.measured or ''}".strip(),
                  at=now)
            inc.clear_since, inc.clear_evaluations = None, 0
        if inc.severity != f.severity.value:
            event(ctx.session, inc, "severity_changed", f"Severity {inc.severity} → {f.severity.value}.", at=now)
            inc.severity = f.severity.value
        # Every telemetry batch re-evaluates open incidents; rewriting each one every time was most
        # of the evaluation's cost. A minute is precise enough for "last seen firing".
        if now - inc.last_fired_at >= LAST_FIRED_PRECISION:
            inc.last_fired_at = now
        _copy_finding(inc, hit)
    _group(ctx, inc, parent)
    _maintenance(ctx, inc)
    _note(ctx, inc, before)
    if inc.notified_at is None and inc.parent_id is None and inc.maintenance_window_id is None:
        await notify_trigger(ctx, inc)
    return inc


def _just_opened(ctx: Ctx, inc: Incident) -> bool:
    return ctx.bulk is not None and inc.id in ctx.bulk.opened


async def _live(ctx: Ctx, inc: Incident, kind: str) -> None:
    """Tell signed-in viewers of the practice, when the transaction commits (the SSE stream)."""
    data = {"incident_id": str(inc.id), "rule_id": inc.rule_id, "severity": inc.severity, "title": inc.title[:200]}
    if ctx.bulk is not None:
        ctx.bulk.live.add(inc.msp_id, inc.practice_id, kind, data)
    else:
        await live_events.publish(ctx.session, inc.msp_id, inc.practice_id, kind, data)


def _group(ctx: Ctx, inc: Incident, parent: Incident | None) -> None:
    if parent is not None and inc.parent_id != parent.id:
        inc.parent_id = parent.id
        event(ctx.session, inc, "grouped", f"Part of the internet outage at the site ({parent.title}); "
              "not notified separately while the outage lasts.", at=ctx.now, data={"parent_id": str(parent.id)})
    elif parent is None and inc.parent_id is not None:
        inc.parent_id = None
        event(ctx.session, inc, "ungrouped", "The site's internet is back but this condition remains.", at=ctx.now)


def _maintenance(ctx: Ctx, inc: Incident) -> None:
    active = maintenance.active_for(ctx.windows, inc.practice_id, inc.site_id, ctx.now)
    if active is not None and inc.maintenance_window_id != active[0].id:
        w, ends = active
        inc.maintenance_window_id = w.id
        event(ctx.session, inc, "suppressed", f"Notifications suppressed: maintenance window “{w.name}” until "
              f"{ends.isoformat(timespec='minutes')}.", at=ctx.now, data={"maintenance_window_id": str(w.id)})
    elif active is None and inc.maintenance_window_id is not None:
        inc.maintenance_window_id = None
        event(ctx.session, inc, "maintenance_ended", "The maintenance window ended and the condition remains.", at=ctx.now)


async def notify_trigger(ctx: Ctx, inc: Incident) -> None:
    """Send the incident to its routes, unless it already had its share of notifications this hour."""
    hour_ago = ctx.now - timedelta(hours=1)
    # An incident opened in this evaluation has no notifications to count.
    sent = 0 if _just_opened(ctx, inc) else (await ctx.session.execute(select(func.count()).select_from(IncidentEvent).where(
        IncidentEvent.msp_id == ctx.msp_id, IncidentEvent.incident_id == inc.id, IncidentEvent.kind == "notified",
        IncidentEvent.at > hour_ago))).scalar_one()
    if sent >= ctx.policy.max_notifications_per_hour:
        event(ctx.session, inc, "throttled", f"Not notified: {sent} notifications in the last hour already "
              f"(the policy allows {ctx.policy.max_notifications_per_hour}).", at=ctx.now)
        return
    router = await ctx.routes()
    channels = router.channels_for(inc)
    inc.notified_at = ctx.now
    if channels:
        outbox.enqueue(ctx.session, inc, channels, "trigger", _names(ctx, inc), ctx.now)
        event(ctx.session, inc, "notified", f"Sent to {', '.join(c.name for c in channels)}.", at=ctx.now,
              data={"action": "trigger", "channels": [str(c.id) for c in channels]})


def _names(ctx: Ctx, inc: Incident) -> dict[str, str]:
    return {"practice": ctx.practice_names.get(inc.practice_id, ""), "site": ctx.site_names.get(inc.site_id, "") if inc.site_id else ""}


async def clear(ctx: Ctx, inc: Incident, *, at_once: bool = False, reason: str | None = None) -> None:
    """The condition no longer holds: resolve once it has stayed clear long enough (hysteresis).

    at_once: a written fact (a plan or inventory finding) that is gone resolves now. It changes only
    when someone edits the plan or the inventory, so it cannot flap, and the person who fixed it
    sees the finding and its incident go together (docs/decisions/0013-one-judgement.md). So does a
    condition whose rule the policy turned off (reason says so)."""
    before = shown(inc)
    if at_once:
        await resolve(ctx, inc, None, reason=reason or "the plan or inventory no longer shows it")
        _note(ctx, inc, before)
        return
    if inc.clear_since is None:
        inc.clear_since, inc.clear_evaluations = ctx.now, 1
        event(ctx.session, inc, "clearing", "The condition has cleared; the incident resolves if it stays clear.", at=ctx.now)
    else:
        inc.clear_evaluations += 1
    settled = ctx.now - inc.clear_since >= timedelta(minutes=ctx.policy.resolve_after_minutes)
    if settled and inc.clear_evaluations >= ctx.policy.resolve_after_evaluations:
        await resolve(ctx, inc, None)
    _note(ctx, inc, before)


async def resolve(ctx: Ctx, inc: Incident, actor: str | None, actor_id: uuid.UUID | None = None, note: str = "",
                  reason: str = "the condition stayed clear") -> None:
    inc.status, inc.resolved_at, inc.resolved_by = IncidentStatus.resolved.value, ctx.now, actor
    message = f"Resolved by {actor}." if actor else f"Resolved automatically: {reason}."
    event(ctx.session, inc, "resolved", (message + (f" {note}" if note else "")), at=ctx.now, actor=actor or "seawall",
          actor_id=actor_id)
    await _live(ctx, inc, "incident.resolved")
    if inc.notified_at is not None:
        await _follow_up(ctx, inc, "resolve")
    if ctx.bulk is not None:
        # An evaluation resolves an outage only once it no longer fires; a child still firing was
        # ungrouped and notified by fire() (no outage firing to hang under), so any child still
        # under it has cleared as well and settles on its own. Ungrouping it here ("this condition
        # remains") would notify a condition that is gone, when the evaluation happened to meet the
        # outage before the child.
        return
    children = (await ctx.session.scalars(select(Incident).where(
        Incident.msp_id == inc.msp_id, Incident.parent_id == inc.id, Incident.resolved_at.is_(None)))).all()
    for child in children:
        # The outage is over; anything still wrong is its own problem now, and is notified on its own.
        _group(ctx, child, None)
        if child.clear_since is None and child.notified_at is None and child.maintenance_window_id is None:
            await notify_trigger(ctx, child)


async def acknowledge(ctx: Ctx, inc: Incident, actor: str, actor_id: uuid.UUID | None) -> None:
    inc.status, inc.acknowledged_at, inc.acknowledged_by = IncidentStatus.acknowledged.value, ctx.now, actor
    event(ctx.session, inc, "acknowledged", f"Acknowledged by {actor}.", at=ctx.now, actor=actor, actor_id=actor_id)
    await _live(ctx, inc, "incident.acknowledged")
    if inc.notified_at is not None:
        await _follow_up(ctx, inc, "acknowledge")


async def _follow_up(ctx: Ctx, inc: Incident, action: str) -> None:
    """Acknowledge/resolve go to exactly the channels that were told about the incident (at the end
    of an evaluation, for all of its incidents at once)."""
    if ctx.bulk is not None:
        ctx.bulk.follow_ups.append((inc, action))
        return
    await _send_follow_ups(ctx, [(inc, action)])


async def _send_follow_ups(ctx: Ctx, follow_ups: list[tuple[Incident, str]]) -> None:
    told = await outbox.channels_notified(ctx.session, [inc for inc, _ in follow_ups])
    for inc, action in follow_ups:
        channels = told.get(inc.id)
        if channels:
            outbox.enqueue(ctx.session, inc, channels, action, _names(ctx, inc), ctx.now)
            event(ctx.session, inc, "notified_update", f"{action.capitalize()} sent to {', '.join(c.name for c in channels)}.",
                  at=ctx.now, data={"action": action, "channels": [str(c.id) for c in channels]})


async def finish(ctx: Ctx) -> None:
    """End an evaluation: what it put off goes out, the follow-ups' lookup in one query and the live
    events in one statement."""
    if ctx.bulk is None:
        return
    follow_ups, ctx.bulk.follow_ups = ctx.bulk.follow_ups, []
    if follow_ups:
        await _send_follow_ups(ctx, follow_ups)
    await ctx.bulk.live.flush(ctx.session)
