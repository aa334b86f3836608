"""Incident lifecycle: hysteresis, flapping, re-opening, WAN-aware grouping, maintenance, escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import update

from services.core.alerts import rules as R
from services.core.alerts.models import AlertPolicy, MaintenanceWindow
from services.core.db import Scope
from tests import factories_alerts as fa
from tests.factories_alerts import T0, minutes


async def _policy(db, t, **values):
    async with db.transaction(Scope(t.msp_id)) as s:
        from services.core.alerts.policy import get_or_create_policy

        await get_or_create_policy(s, t.msp_id)
        await s.execute(update(AlertPolicy).where(AlertPolicy.msp_id == t.msp_id).values(**values))


async def test_a_link_flapping_50_times_in_10_minutes_is_one_flapping_incident_with_two_notifications(db, tenant):
    """Each drop lasts 6 s, shorter than link.down's hold: no link-down incident; the flapping rule
    makes one incident, notified once, that resolves once the hour of flaps has passed."""
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    # The backup link samples up all along (its newest sample is never older than the evaluation), so
    # the site is not in an outage while the primary flaps.
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(80))
    li = await fa.link(db, tenant, up=True)
    now, changes = T0, []
    for _ in range(50):  # down 6 s, up 6 s: 50 flaps in 10 minutes
        changes.append(now)
        await fa.link_state(db, tenant, li, up=False, state_since=now, transitions=list(changes))
        await fa.evaluate(db, tenant, now)
        now += timedelta(seconds=6)
        changes.append(now)
        await fa.link_state(db, tenant, li, up=True, state_since=now, transitions=list(changes))
        await fa.evaluate(db, tenant, now)
        now += timedelta(seconds=6)
    assert now - T0 == minutes(10)
    assert await fa.incidents(db, tenant.msp_id, R.LINK_DOWN) == []
    (flapping,) = await fa.incidents(db, tenant.msp_id, R.LINK_FLAPPING)
    assert flapping.resolved_at is None and flapping.measured == "50 times in the last hour"
    # It stays up and keeps sampling (so it never reads "no data").
    later = now + minutes(55)
    await fa.link_state(db, tenant, li, up=True, state_since=now - timedelta(seconds=6), transitions=changes,
                        last_sample_at=later)
    await fa.evaluate(db, tenant, later)  # half the flaps are still within the hour
    assert (await fa.incidents(db, tenant.msp_id, R.LINK_FLAPPING))[0].measured == "25 times in the last hour"
    for later, _ in ((now + minutes(61), "the last flaps left the hour: clearing"), (now + minutes(67), "resolves")):
        await fa.link_state(db, tenant, li, up=True, state_since=now - timedelta(seconds=6), transitions=changes,
                            last_sample_at=later)
        await fa.evaluate(db, tenant, later)
    (flapping,) = await fa.incidents(db, tenant.msp_id, R.LINK_FLAPPING)
    assert flapping.resolved_at is not None and flapping.reopen_count == 0
    every = {i.id: i.rule_id for i in await fa.incidents(db, tenant.msp_id)}
    assert [(every[o.incident_id], o.action) for o in await fa.outbox(db, tenant.msp_id)] == [(R.LINK_FLAPPING, "trigger"),
                                                                                            (R.LINK_FLAPPING, "resolve")]


async def test_flapping_past_the_hysteresis_reopens_the_same_incident_and_respects_the_notification_cap(db, tenant):
    # The lifecycle alone: every drop counts at once (no hold) and the flapping rule is off.
    await _policy(db, tenant, resolve_after_minutes=0, resolve_after_evaluations=1, max_notifications_per_hour=3,
                  rules={R.LINK_DOWN: {"params": {"hold_minutes": 0}}, R.LINK_FLAPPING: {"enabled": False}})
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    # The backup link samples up all along (its newest sample is never older than the evaluation), so
    # the site is not in an outage while the primary flaps.
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    li = await fa.link(db, tenant, up=True)
    now = T0
    for _ in range(50):
        await fa.link_state(db, tenant, li, up=False, state_since=now)
        await fa.evaluate(db, tenant, now)
        now += timedelta(seconds=6)
        await fa.link_state(db, tenant, li, up=True, state_since=now)
        await fa.evaluate(db, tenant, now)
        now += timedelta(seconds=6)
    found = await fa.incidents(db, tenant.msp_id, R.LINK_DOWN)
    assert len(found) == 1 and found[0].reopen_count == 49
    actions = [o.action for o in await fa.outbox(db, tenant.msp_id)]
    assert actions.count("trigger") == 3 and actions.count("resolve") == 3
    assert "throttled" in await fa.timeline(db, tenant.msp_id, found[0].id)


async def test_an_internet_outage_makes_one_outage_incident_with_its_consequences_attached(db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    primary = await fa.link(db, tenant, up=False, state_since=T0 - minutes(30))
    backup = await fa.link(db, tenant, role="hotspot", up=False, state_since=T0 - minutes(20))
    a = await fa.agent(db, tenant, last_seen=T0 - minutes(30))
    offsite = await fa.job(db, tenant, location="offsite", last_status="success", last_success_at=T0 - minutes(27 * 60))
    await fa.evaluate(db, tenant, T0)

    open_ = {i.rule_id: i for i in await fa.incidents(db, tenant.msp_id, active=True)}
    outage = open_[R.INTERNET_OUTAGE]
    assert outage.severity == "critical" and outage.parent_id is None
    children = [i for i in (await fa.incidents(db, tenant.msp_id, active=True)) if i.parent_id == outage.id]
    assert {(i.rule_id, i.subject_id) for i in children} == {
        (R.LINK_DOWN, str(primary.id)), (R.LINK_DOWN, str(backup.id)), (R.AGENT_SILENT, str(a.id)),
        (R.NO_OFFSITE_WITHIN, str(offsite.id))}
    sent = await fa.outbox(db, tenant.msp_id)
    assert [(o.incident_id, o.action) for o in sent] == [(outage.id, "trigger")]

    # The internet comes back and the agent reports again; the off-site job is still late: it is now
    # its own problem and is notified on its own.
    await fa.link_state(db, tenant, primary, up=True, state_since=T0 + minutes(1))
    await fa.seen(db, tenant, a, T0 + minutes(1))
    await fa.evaluate(db, tenant, T0 + minutes(1))
    await fa.evaluate(db, tenant, T0 + minutes(7))
    assert await fa.incidents(db, tenant.msp_id, R.INTERNET_OUTAGE, active=True) == []
    late = (await fa.incidents(db, tenant.msp_id, R.NO_OFFSITE_WITHIN, active=True))[0]
    assert late.parent_id is None
    actions = [(o.incident_id, o.action) for o in await fa.outbox(db, tenant.msp_id)]
    assert (outage.id, "resolve") in actions and (late.id, "trigger") in actions
    assert not any(i == a.id for i, _ in actions)


@pytest.mark.parametrize("outage_first", [True, False])
async def test_an_outage_and_its_consequences_clearing_together_resolve_without_a_page_for_the_consequences(
        db, tenant, monkeypatch, outage_first):
    """With resolution on the first clear evaluation, the outage and everything under it clear in the
    same evaluation, which meets them in whatever order its query returned them. Met outage first, the
    children were once ungrouped ("this condition remains") and paged, then resolved a moment later."""
    from services.core.alerts import incidents

    class Ordered(incidents.Bulk):
        def __init__(self, open_):
            first = sorted(open_.items(), key=lambda kv: (kv[1].rule_id == R.INTERNET_OUTAGE) != outage_first)
            super().__init__(dict(first))

    monkeypatch.setattr(incidents, "Bulk", Ordered)
    await _policy(db, tenant, resolve_after_minutes=0, resolve_after_evaluations=1)
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    primary = await fa.link(db, tenant, up=False, state_since=T0 - minutes(30))
    backup = await fa.link(db, tenant, role="hotspot", up=False, state_since=T0 - minutes(20))
    a = await fa.agent(db, tenant, last_seen=T0 - minutes(30))
    await fa.evaluate(db, tenant, T0)
    outage = (await fa.incidents(db, tenant.msp_id, R.INTERNET_OUTAGE, active=True))[0]
    children = [i for i in await fa.incidents(db, tenant.msp_id, active=True) if i.parent_id == outage.id]
    assert len(children) == 3

    for li in (primary, backup):
        await fa.link_state(db, tenant, li, up=True, state_since=T0 + minutes(1))
    await fa.seen(db, tenant, a, T0 + minutes(1))
    await fa.evaluate(db, tenant, T0 + minutes(1))

    assert await fa.incidents(db, tenant.msp_id, active=True) == []
    assert [(o.incident_id, o.action) for o in await fa.outbox(db, tenant.msp_id)] == [
        (outage.id, "trigger"), (outage.id, "resolve")]
    for child in children:
        assert await fa.timeline(db, tenant.msp_id, child.id) == ["opened", "grouped", "clearing", "resolved"]


async def test_opening_many_incidents_in_one_evaluation_gives_each_its_timeline_and_live_event(db, tenant, database_urls):
    """New incidents are inserted together before what points at them (evaluate.py, open_missing):
    each still gets its own timeline, in order, and its own live event, sent when the evaluation commits."""
    import json

    import psycopg

    from services.core.database_server import libpq
    from services.core.readiness.events import CHANNEL

    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    links = [await fa.link(db, tenant, up=False, state_since=T0 - minutes(30)),
             await fa.link(db, tenant, role="hotspot", up=False, state_since=T0 - minutes(20))]
    agents = [await fa.agent(db, tenant, last_seen=T0 - minutes(30)) for _ in range(3)]
    async with await psycopg.AsyncConnection.connect(libpq(database_urls[0]), autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        await fa.evaluate(db, tenant, T0)
        opened = [json.loads(n.payload) async for n in listener.notifies(timeout=5, stop_after=6)]

    found = await fa.incidents(db, tenant.msp_id, active=True)
    outage = next(i for i in found if i.rule_id == R.INTERNET_OUTAGE)
    children = {i.subject_id: i for i in found if i.parent_id == outage.id}
    assert set(children) == {str(x.id) for x in [*links, *agents]}
    assert await fa.timeline(db, tenant.msp_id, outage.id) == ["opened", "notified"]
    for child in children.values():
        assert await fa.timeline(db, tenant.msp_id, child.id) == ["opened", "grouped"]
        assert child.notified_at is None
    assert sorted(e["data"]["incident_id"] for e in opened if e["type"] == "incident.opened") == sorted(str(i.id) for i in found)
    assert [(o.incident_id, o.action) for o in await fa.outbox(db, tenant.msp_id)] == [(outage.id, "trigger")]


async def test_resolving_many_incidents_in_one_evaluation_tells_each_only_the_channels_that_heard_of_it(db, tenant):
    """Resolve messages are put off to the end of the evaluation and looked up together
    (incidents.finish): each incident still gets one per channel told of its opening, and a
    channel disabled since is left out."""
    from services.core.alerts.models import NotificationChannel

    await _policy(db, tenant, resolve_after_minutes=0, resolve_after_evaluations=1)
    pager = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    other = await fa.channel(db, tenant.msp_id, "pagerduty", secret="j" * 32)
    await fa.route(db, tenant.msp_id, pager)
    await fa.route(db, tenant.msp_id, other)
    agents = [await fa.agent(db, tenant, last_seen=T0 - minutes(30)) for _ in range(4)]
    await fa.evaluate(db, tenant, T0)
    opened = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert len(opened) == 4
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(update(NotificationChannel).where(NotificationChannel.id == other.id).values(enabled=False))

    for a in agents:
        await fa.seen(db, tenant, a, T0 + minutes(1))
    await fa.evaluate(db, tenant, T0 + minutes(1))
    assert await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True) == []
    rows = await fa.outbox(db, tenant.msp_id)
    for inc in opened:
        assert sorted((o.channel_id == pager.id, o.action) for o in rows if o.incident_id == inc.id) == [
            (False, "trigger"), (True, "resolve"), (True, "trigger")]
        assert (await fa.timeline(db, tenant.msp_id, inc.id))[-2:] == ["resolved", "notified_update"]


async def test_a_maintenance_window_suppresses_notifications_and_the_incident_says_so(db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, c)
    await fa.add(db, tenant.msp_id, MaintenanceWindow(
        msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=None, name="Server swap", kind="once",
        starts_at=T0 - minutes(5), ends_at=T0 + minutes(30), timezone="UTC", created_by="test"))
    await fa.job(db, tenant, last_status="failed", consecutive_failures=4)
    await fa.evaluate(db, tenant, T0)
    inc = (await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW, active=True))[0]
    assert inc.maintenance_window_id is not None and inc.notified_at is None
    assert await fa.outbox(db, tenant.msp_id) == []
    assert "suppressed" in await fa.timeline(db, tenant.msp_id, inc.id)
    # The window ends and the job still fails: now somebody hears of it.
    await fa.evaluate(db, tenant, T0 + minutes(31))
    assert [o.action for o in await fa.outbox(db, tenant.msp_id)] == ["trigger"]


async def test_a_weekly_window_applies_in_its_own_time_zone(db, tenant):
    from datetime import time

    from services.core.alerts.maintenance import occurrence, weekday_mask

    w = MaintenanceWindow(kind="weekly", weekdays=weekday_mask(["sun"]), start_time=time(22, 0), duration_minutes=240,
                          timezone="America/New_York")
    # Sunday 22:00 in New York is Monday 03:00 UTC (January: UTC-5); T0 is Monday 09:00 UTC.
    assert occurrence(w, T0 - timedelta(hours=5, minutes=30)) is not None
    assert occurrence(w, T0 - timedelta(hours=1)) is None


async def test_an_unacknowledged_incident_escalates_once_to_the_escalation_channel(db, tenant):
    first = await fa.channel(db, tenant.msp_id, "slack", secret="https://hooks.slack.com/services/T/B/x")
    second = await fa.channel(db, tenant.msp_id, "pagerduty", secret="k" * 32)
    await fa.route(db, tenant.msp_id, first, escalate_after_minutes=15, escalation_channel_id=second.id)
    await fa.job(db, tenant, last_status="failed", consecutive_failures=3)
    await fa.evaluate(db, tenant, T0)
    assert await fa.escalate(db, tenant.msp_id, T0 + minutes(14)) == 0
    assert await fa.escalate(db, tenant.msp_id, T0 + minutes(16)) == 1
    assert await fa.escalate(db, tenant.msp_id, T0 + minutes(30)) == 0
    rows = [(o.channel_id, o.action) for o in await fa.outbox(db, tenant.msp_id)]
    assert rows == [(first.id, "trigger"), (second.id, "escalate")]


async def test_a_disabled_rule_at_the_site_resolves_its_incident(db, tenant):
    from services.core.alerts.models import AlertOverride

    await fa.link(db, tenant, up=True)
    await fa.evaluate(db, tenant, T0)
    assert len(await fa.incidents(db, tenant.msp_id, R.SINGLE_CIRCUIT, active=True)) == 1
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=tenant.site.id,
                                                  rule_id=R.SINGLE_CIRCUIT, enabled=False, params={}))
    await fa.evaluate(db, tenant, T0 + minutes(1))
    await fa.evaluate(db, tenant, T0 + minutes(7))
    assert await fa.incidents(db, tenant.msp_id, R.SINGLE_CIRCUIT, active=True) == []
