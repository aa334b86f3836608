"""Evaluate the rules for some practices and bring their incidents in line, in the caller's
transaction.

Called by the telemetry worker after every batch (registered in ON_STATE_CHANGED below) for the
practices where the batch can change a rule's outcome (relevance.py), and by the periodic task
every minute for every rule of every active practice (time alone ages RPOs, silences agents and
makes tests overdue; it also refreshes the incidents' measured values). Readiness's own computation
(services/core/readiness/service.py: after plan and inventory edits and hourly) evaluates too, with
the plan and inventory findings it scores, which become low-urgency incidents.

An incident is the condition itself: the open incidents of a practice are its live findings in
readiness, and every evaluation that changes what readiness shows rescores the practice in its own
transaction (ON_JUDGED; docs/decisions/0013-one-judgement.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import locks
from services.core.alerts import config as alert_config
from services.core.alerts import gather, incidents, policy, recent, relevance
from services.core.alerts.facts import PracticeFacts
from services.core.alerts.liveness import judge_links
from services.core.alerts.models import Incident, IncidentStatus, Urgency
from services.core.alerts.rules import AGENT_SILENT, INTERNET_OUTAGE, SINGLE_CIRCUIT, Hit, catalogue, get
from services.core.alerts.outbox import enqueue
from services.core.db import driver_connection
from services.core.findings import Finding
from services.core.practices.models import Practice
from services.core.telemetry.hooks import ON_STATE_CHANGED, StateChange

# A plan/inventory finding that says the same as a live rule, about the same subject, gives way to it.
SAME_AS_LIVE = {"inventory.single_link": SINGLE_CIRCUIT}

# Called at the end of an evaluation with the practices whose conditions changed in a way their
# readiness shows, in the evaluation's transaction: readiness registers its rescoring here
# (services/core/readiness/service.py), so a condition reaches the score in the very transaction
# that opens, clears or resolves its incident (docs/decisions/0013-one-judgement.md).
Judged = Callable[[AsyncSession, uuid.UUID, set[uuid.UUID], datetime], Awaitable[None]]
ON_JUDGED: list[Judged] = []


async def judged(session: AsyncSession, msp_id: uuid.UUID, practice_ids: set[uuid.UUID], now: datetime) -> None:
    """Tell readiness that these practices' conditions changed outside an evaluation (a person
    resolved an incident by hand)."""
    if practice_ids:
        for hook in ON_JUDGED:
            await hook(session, msp_id, practice_ids, now)


def live_hits(p: PracticeFacts, view: policy.PolicyView, now: datetime) -> list[Hit]:
    """Every live rule's hits for one practice, each judged with the thresholds of its own site."""
    hits: list[Hit] = []
    judge_links(p, view)  # each link's no-data threshold, which link.down and the others also read
    site_ids: list[uuid.UUID | None] = [None, *p.sites]
    for rule in catalogue():
        groups: dict[tuple, tuple[policy.Effective, set]] = {}
        for sid in site_ids:
            eff = view.effective(rule.id, p.practice_id, sid)
            key = (eff.enabled, tuple(sorted(eff.params.items())))
            groups.setdefault(key, (eff, set()))[1].add(sid)
        for eff, sids in groups.values():
            if not eff.enabled:
                continue
            for hit in rule.check(p, eff.params, now):
                site = hit.site_id if hit.site_id in p.sites else None
                if site in sids:
                    hits.append(hit)
    return hits


def finding_hits(p: PracticeFacts, view: policy.PolicyView, live: list[Hit]) -> list[Hit]:
    live_keys = {(h.finding.rule_id, h.finding.subject_type, h.finding.subject_id) for h in live}
    out = []
    for f in p.plan_findings:
        if not view.effective(f.rule_id, p.practice_id).enabled:
            continue
        same = SAME_AS_LIVE.get(f.rule_id)
        if same and (same, f.subject_type, f.subject_id) in live_keys:
            continue
        out.append(Hit(f))
    return out


async def evaluate_practices(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID], now: datetime,
                             *, include_findings: bool = False, config: alert_config.AlertConfig | None = None,
                             written: dict[uuid.UUID, list[Finding]] | None = None, rescore: bool = True) -> set[uuid.UUID]:
    """Open, refresh and settle the incidents of these practices. Never commits. Returns the
    practices whose conditions changed in a way their readiness shows.

    config: the MSP's alerting configuration when the caller has it (alerts/config.py); read
    afresh otherwise. written: the plan and inventory findings when the caller computed them
    (readiness does, to score the same ones); implies include_findings. rescore: run ON_JUDGED for
    the practices that changed (readiness's own computation passes False: it scores next)."""
    ids = sorted(set(practice_ids))
    if not ids:
        return set()
    await locks.lock_practices(session, ids)
    facts = await gather.load(session, msp_id, ids)
    if written is not None:
        include_findings = True
        for p in facts.values():
            p.plan_findings = list(written.get(p.practice_id, []))
    elif include_findings:
        findings = await gather.plan_findings(session, msp_id, list(facts), now)
        for p in facts.values():
            p.plan_findings = findings[p.practice_id]
    if config is None:
        config = await alert_config.load(session, msp_id, now)
    view = config.view
    open_rows = (await session.scalars(select(Incident).where(
        Incident.msp_id == msp_id, Incident.practice_id.in_(ids), Incident.resolved_at.is_(None)))).all()
    bulk = incidents.Bulk({(i.rule_id, i.subject_type, i.subject_id): i for i in open_rows})
    ctx = incidents.Ctx(session, msp_id, now, view, config.windows, {p.practice_id: p.name for p in facts.values()},
                        {sid: s.name for p in facts.values() for sid, s in p.sites.items()}, config.router, bulk)

    firing: list[tuple[uuid.UUID, Hit, Urgency]] = []
    seen: set[tuple[str, str, str]] = set()
    for p in facts.values():
        live = live_hits(p, view, now)
        found = finding_hits(p, view, live) if include_findings else []
        # Outages first: their incidents are the parents of what follows from them.
        live.sort(key=lambda h: h.finding.rule_id != INTERNET_OUTAGE)
        for hit, urgency in [*((h, Urgency.high) for h in live), *((h, Urgency.low) for h in found)]:
            if hit.finding.key not in seen:
                seen.add(hit.finding.key)
                firing.append((p.practice_id, hit, urgency))

    await incidents.open_missing(ctx, firing)
    outages: dict[uuid.UUID, Incident] = {}
    for _, hit, _ in firing:
        rule = get(hit.finding.rule_id)
        parent = outages.get(hit.site_id) if rule and rule.follows_outage and hit.site_id else None
        inc = await incidents.fire(ctx, bulk.open[hit.finding.key], hit, parent)
        if hit.finding.rule_id == INTERNET_OUTAGE and hit.site_id:
            outages[hit.site_id] = inc

    for key, inc in bulk.open.items():
        if key in seen or inc.resolved_at is not None or inc.practice_id not in facts:
            continue
        # Plan/inventory incidents are only judged when their findings were computed; gone, they
        # resolve at once (incidents.clear).
        written_fact = get(inc.rule_id) is None
        # A rule the policy no longer applies here has no condition to wait out either (a plan or
        # inventory rule turned off too: it resolves at the next evaluation, not the next computation).
        turned_off = not view.effective(inc.rule_id, inc.practice_id, inc.site_id).enabled
        if written_fact and not include_findings and not turned_off:
            continue
        await incidents.clear(ctx, inc, at_once=written_fact or turned_off,
                              reason="the alert policy no longer applies this rule here" if turned_off and not written_fact
                              else None)
    await incidents.finish(ctx)
    await session.flush()
    recent.note(session, facts, now)
    changed = bulk.judged & set(facts)
    if rescore and changed:
        await judged(session, msp_id, changed, now)
    return changed


async def escalate_due(session: AsyncSession, msp_id: uuid.UUID, now: datetime,
                       config: alert_config.AlertConfig | None = None) -> int:
    """Send unacknowledged, notified incidents to their routes' escalation channels once overdue.

    config: as for evaluate_practices."""
    if config is None:
        config = await alert_config.load(session, msp_id, now)
    router = config.router
    candidates = [r for r in router.routes if r.escalate_after_minutes]
    if not candidates:
        return 0
    waiting = (Incident.msp_id == msp_id, Incident.status == IncidentStatus.open.value, Incident.escalated_at.is_(None),
               Incident.notified_at.is_not(None), Incident.parent_id.is_(None), Incident.maintenance_window_id.is_(None))
    # Escalating changes incidents, so it holds their practices' incident locks before their rows, as
    # every change does (docs/decisions/0005-lock-order.md); a practice being evaluated, acted on or
    # removed right now is left to the next pass rather than waited for.
    practices = await locks.try_lock_practices(
        session, (await session.scalars(select(Incident.practice_id).where(*waiting).distinct())).all())
    if not practices:
        return 0
    rows = (await session.scalars(select(Incident).where(*waiting, Incident.practice_id.in_(practices))
                                  .order_by(Incident.id).with_for_update(skip_locked=True))).all()
    escalated = 0
    for inc in rows:
        assert inc.notified_at is not None  # `waiting` takes notified incidents only, and they are locked
        due = [r for r in router.matching(inc)
               if r.escalate_after_minutes and inc.notified_at <= now - timedelta(minutes=r.escalate_after_minutes)]
        channels = {router.channels[r.escalation_channel_id].id: router.channels[r.escalation_channel_id]
                    for r in due if r.escalation_channel_id in router.channels
                    and router.channels[r.escalation_channel_id].enabled}
        if not due:
            continue
        inc.escalated_at = now
        minutes = min(m for r in due if (m := r.escalate_after_minutes))  # every route in `due` has one
        if channels:
            practice = await session.get(Practice, (inc.msp_id, inc.practice_id))
            enqueue(session, inc, list(channels.values()), "escalate", {"practice": practice.name if practice else ""},
                    now, {"escalated_after_minutes": minutes})
        incidents.event(session, inc, "escalated", f"Not acknowledged within {minutes} minutes; escalated to "
                        f"{', '.join(c.name for c in channels.values()) or 'no enabled channel'}.", at=now,
                        data={"channels": [str(c) for c in channels]})
        escalated += 1
    await session.flush()
    return escalated


# Open incidents whose next evaluation matters even when the batch changed nothing a rule sees:
# - clearing ones that still need evaluations (resolve_after_evaluations counts them, and every
#   batch of the practice has always counted as one) or whose resolve_after_minutes have passed
#   (this evaluation resolves them) — in between, an evaluation would only raise a count that is
#   already enough, so resolving happens exactly when it did;
# - agent.silent, not clearing, whose agent has been seen since the rule last saw it silent:
#   agent.last_seen_at is refreshed by the API when a request arrives, before its events reach a
#   batch, so the batch cannot tell from what it applied that the agent is back. An agent heard
#   after the last evaluation that saw it silent has last_seen_at > that evaluation >= last_fired_at
#   (SEEN_MARGIN covers a request stamped just before an evaluation that could not yet see it), so
#   it always qualifies; a still-silent agent was last seen at least its interval plus a minute
#   before that evaluation, and last_fired_at lags it by under LAST_FIRED_PRECISION (a minute), so
#   it does not (an interval under SEEN_MARGIN could let it: an evaluation more, never one fewer).
#   Before, every open agent.silent incident qualified: a practice with one agent switched off for
#   good had every batch evaluated.
_POLICY_DEFAULTS = policy.PolicyView(None, {}, {})
SEEN_MARGIN = timedelta(seconds=10)
# On the driver with psycopg's placeholders (it runs for every telemetry batch: SQLAlchemy's
# statement layer was a third of the hook's CPU when nothing needed evaluating).
_TO_SETTLE = """
SELECT DISTINCT i.practice_id FROM incident i
  LEFT JOIN alert_policy p ON p.msp_id = i.msp_id
 WHERE i.msp_id = %(msp)s AND i.resolved_at IS NULL AND i.practice_id = ANY(%(practices)b)
   AND (i.rule_id = %(silent)s AND i.clear_since IS NULL AND EXISTS (
          SELECT 1 FROM agent a
           WHERE a.msp_id = i.msp_id AND a.id = CAST(CASE WHEN i.rule_id = %(silent)s THEN i.subject_id END AS uuid)
             AND a.last_seen_at > i.last_fired_at - make_interval(secs => %(margin)s))
        OR i.clear_since IS NOT NULL AND (
             i.clear_evaluations + 1 < coalesce(p.resolve_after_evaluations, %(evaluations)s)
             OR i.clear_since <= CAST(%(now)s AS timestamptz) - make_interval(mins => coalesce(p.resolve_after_minutes, %(minutes)s))))
"""


async def on_state_changed(session: AsyncSession, msp_id: uuid.UUID, change: StateChange, now: datetime) -> None:
    """The telemetry hook: rules are evaluated inside the batch transaction that changed the state,
    for the practices where an outcome can differ (relevance.py); the periodic evaluation covers
    what changes with time alone."""
    ids = await relevance.outcomes_may_change(session, msp_id, change)
    rest = change.practices - ids
    if rest:
        pg = await driver_connection(session)
        cursor = await pg.execute(_TO_SETTLE, {
            "msp": msp_id, "practices": list(rest), "silent": AGENT_SILENT, "now": now,
            "evaluations": _POLICY_DEFAULTS.resolve_after_evaluations,
            "minutes": _POLICY_DEFAULTS.resolve_after_minutes, "margin": SEEN_MARGIN.total_seconds()})
        ids |= {row[0] for row in await cursor.fetchall()}
    if ids:
        await evaluate_practices(session, msp_id, ids, now, config=await relevance.config_for(session, msp_id, change))


if on_state_changed not in ON_STATE_CHANGED:
    ON_STATE_CHANGED.append(on_state_changed)


def _readiness_listens() -> None:
    # Readiness registers its rescoring in ON_JUDGED when imported; importing it here makes an
    # evaluation rescore whichever module a process imported first (the import is circular but
    # safe: each side only registers at its end).
    try:
        import services.core.readiness.service  # noqa: F401
    except ModuleNotFoundError as exc:  # the readiness domain is not installed: nothing listens
        if not (exc.name or "").startswith("services."):
            raise


_readiness_listens()
