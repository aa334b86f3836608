"""A link with no sample for N of its sample intervals is "no data" (link.no_data), never its last
state: link.down, site.internet_outage and the quality rules stop judging it, and every screen reads
the same (docs/decisions/0015-links-with-no-data.md). The interval is the smallest probe interval
its site's agents state in their heartbeats."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.core.alerts import rules as R
from services.core.alerts.models import AlertOverride
from services.core.db import Scope
from services.core.telemetry import liveness, state
from tests import factories_alerts as fa
from tests.factories_alerts import T0, minutes


async def active(db, t, rule_id):
    """Subjects of the incidents of a rule that are firing (open and not clearing)."""
    return sorted(i.subject_id for i in await fa.incidents(db, t.msp_id, rule_id, active=True) if i.clear_since is None)


async def override(db, t, rule_id, enabled=None, **params):
    await fa.add(db, t.msp_id, AlertOverride(msp_id=t.msp_id, practice_id=t.practice.id, site_id=t.site.id,
                                             rule_id=rule_id, enabled=enabled, params=params))


async def test_a_link_down_that_stops_sampling_is_no_data_after_five_intervals_not_down_for_ever(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    li = await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0)
    await fa.evaluate(db, tenant, T0 + minutes(5))  # 5 min = 5 × 60 s: not yet past it
    assert await active(db, tenant, R.LINK_DOWN) == [str(li.id)]
    assert await active(db, tenant, R.LINK_NO_DATA) == []

    await fa.evaluate(db, tenant, T0 + minutes(13))
    assert await active(db, tenant, R.LINK_DOWN) == []
    [inc] = await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True)
    assert inc.subject_id == str(li.id) and inc.severity == "medium" and inc.component == "connectivity"
    assert (inc.measured, inc.target) == ("no sample for 13 min", "a sample every 1 min")


async def test_the_interval_is_the_smallest_probe_interval_of_the_sites_agents(db, tenant):
    slow = await fa.agent(db, tenant, last_seen=T0, probe_interval_seconds=300)
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    li = await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0)
    await fa.evaluate(db, tenant, T0 + minutes(11))  # < 5 × 5 min
    assert (await active(db, tenant, R.LINK_DOWN), await active(db, tenant, R.LINK_NO_DATA)) == ([str(li.id)], [])

    await fa.agent(db, tenant, last_seen=T0, probe_interval_seconds=120)  # a second, faster agent at the site
    await fa.evaluate(db, tenant, T0 + minutes(12))  # > 5 × 2 min
    assert (await active(db, tenant, R.LINK_DOWN), await active(db, tenant, R.LINK_NO_DATA)) == ([], [str(li.id)])
    [inc] = await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True)
    assert inc.target == "a sample every 2 min"
    assert slow.probe_interval_seconds == 300


async def test_a_link_never_sampled_is_no_data_once_the_sites_agent_has_been_enrolled_five_intervals(db, tenant):
    li = await fa.link(db, tenant)  # recorded, never sampled
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    await fa.evaluate(db, tenant, T0 + minutes(30))
    assert await active(db, tenant, R.LINK_NO_DATA) == []  # no agent: nothing was expected yet

    await fa.agent(db, tenant, last_seen=T0 + minutes(30), enrolled=T0 + minutes(10))
    await fa.evaluate(db, tenant, T0 + minutes(14))
    assert await active(db, tenant, R.LINK_NO_DATA) == []
    await fa.evaluate(db, tenant, T0 + minutes(30))
    [inc] = await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True)
    assert inc.subject_id == str(li.id) and inc.measured == "no sample since the agent enrolled 20 min ago"


async def test_an_outage_is_judged_by_the_links_with_data(db, tenant):
    await fa.agent(db, tenant, last_seen=T0 + minutes(60))
    await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0 + minutes(60))
    backup = await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 - minutes(30))
    await fa.evaluate(db, tenant, T0)
    # The backup's "up" is half an hour old: it is no data, neither up nor down; every link with data is down.
    assert await active(db, tenant, R.INTERNET_OUTAGE) == [str(tenant.site.id)]
    assert await active(db, tenant, R.LINK_NO_DATA) == [str(backup.id)]


async def test_a_site_whose_links_all_have_no_data_is_not_in_an_outage(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    await fa.link(db, tenant, up=False, state_since=T0 - minutes(40), last_sample_at=T0 - minutes(30))
    await fa.link(db, tenant, role="backup", up=False, state_since=T0 - minutes(40), last_sample_at=T0 - minutes(30))
    await fa.evaluate(db, tenant, T0)
    assert await active(db, tenant, R.INTERNET_OUTAGE) == []
    assert await active(db, tenant, R.LINK_DOWN) == []
    assert len(await active(db, tenant, R.LINK_NO_DATA)) == 2


async def test_quality_rules_do_not_judge_figures_of_a_link_with_no_data(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    li = await fa.link(db, tenant, up=True, loss_pct=5.0, latency_ms=300.0, jitter_ms=45.0, last_sample_at=T0)
    await fa.evaluate(db, tenant, T0 + minutes(1))
    for rule_id in (R.LINK_LOSS, R.LINK_LATENCY, R.LINK_JITTER):
        assert await active(db, tenant, rule_id) == [str(li.id)]
    await fa.evaluate(db, tenant, T0 + minutes(6))
    for rule_id in (R.LINK_LOSS, R.LINK_LATENCY, R.LINK_JITTER):
        assert await active(db, tenant, rule_id) == []
    assert await active(db, tenant, R.LINK_NO_DATA) == [str(li.id)]


async def test_a_sites_intervals_override_moves_no_data_and_link_down_together(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    li = await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0)
    await override(db, tenant, R.LINK_NO_DATA, intervals=20)
    await fa.evaluate(db, tenant, T0 + minutes(13))
    assert (await active(db, tenant, R.LINK_DOWN), await active(db, tenant, R.LINK_NO_DATA)) == ([str(li.id)], [])
    await fa.evaluate(db, tenant, T0 + minutes(21))
    assert (await active(db, tenant, R.LINK_DOWN), await active(db, tenant, R.LINK_NO_DATA)) == ([], [str(li.id)])


async def test_disabling_link_no_data_does_not_make_a_stale_state_fresh(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(60))
    await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0)
    await override(db, tenant, R.LINK_NO_DATA, enabled=False)
    await fa.evaluate(db, tenant, T0 + minutes(13))
    assert (await active(db, tenant, R.LINK_DOWN), await active(db, tenant, R.LINK_NO_DATA)) == ([], [])


async def test_the_state_api_reads_the_link_as_the_rules_do(db, tenant):
    await fa.agent(db, tenant, last_seen=T0)
    stale = await fa.link(db, tenant, up=False, state_since=T0 - minutes(3), last_sample_at=T0)
    fresh = await fa.link(db, tenant, role="backup", up=True, last_sample_at=T0 + minutes(12))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        links = {x.link_id: x for x in await state.link_states(s, tenant.msp_id, tenant.practice.id, T0 + minutes(13))}
    assert (links[stale.id].state, links[stale.id].no_data_since, links[stale.id].up) == ("no_data", T0, False)
    assert (links[fresh.id].state, links[fresh.id].no_data_since) == ("up", None)


def test_site_sampling_takes_the_smallest_interval_and_the_first_enrollment():
    site, other = uuid.uuid4(), uuid.uuid4()
    got = liveness.site_sampling([(site, 300, T0), (site, 60, T0 + minutes(5)), (other, 30, T0 - minutes(1))])
    assert got == {site: liveness.SiteSampling(60, T0), other: liveness.SiteSampling(30, T0 - minutes(1))}
    sampling = liveness.SiteSampling(60, T0)
    assert liveness.link_reading(True, T0, sampling, 5, T0 + minutes(5)) == "up"
    assert liveness.link_reading(True, T0, sampling, 5, T0 + minutes(5) + timedelta(seconds=1)) == "no_data"
    assert liveness.link_reading(None, None, liveness.SiteSampling(), 5, T0 + minutes(500)) == "unknown"
