"""Each live rule fires on a scenario built for it and resolves when the condition clears.

The scenarios write the telemetry state rows (backup_job_state, link_state, agent.last_seen_at,
backup_run, restore_test) the telemetry worker maintains, then run the evaluation the worker's hook
runs; the full ingest → worker → rules path is covered in tests/worker/test_notifications_pipeline.py.
"""

from __future__ import annotations

from services.core.alerts import rules as R
from tests import factories_alerts as fa
from tests.factories_alerts import T0, minutes


async def settle(db, t, now):
    """Two clear evaluations at least resolve_after_minutes (5) apart: the incident resolves."""
    await fa.evaluate(db, t, now)
    await fa.evaluate(db, t, now + minutes(6))


async def assert_fires(db, t, rule_id, now, subject_id=None):
    await fa.evaluate(db, t, now)
    open_ = await fa.incidents(db, t.msp_id, rule_id, active=True)
    assert len(open_) == 1, f"{rule_id} did not open exactly one incident: {open_}"
    if subject_id is not None:
        assert open_[0].subject_id.startswith(str(subject_id))
    return open_[0]


async def assert_resolved(db, t, rule_id, now):
    await settle(db, t, now)
    assert await fa.incidents(db, t.msp_id, rule_id, active=True) == []
    assert len(await fa.incidents(db, t.msp_id, rule_id, active=False)) == 1


async def test_rpo_breach_opens_one_incident_per_system_copy_and_resolves_after_a_new_backup(db, tenant):
    s = await fa.system(db, tenant, rpo=60, offsite=False)
    j = await fa.job(db, tenant, systems=[s], last_status="success", last_success_at=T0 - minutes(90),
                     last_restore_point_at=T0 - minutes(90))
    inc = await assert_fires(db, tenant, R.RPO_BREACHED, T0, s.id)
    assert inc.subject_id == f"{s.id}:onsite" and inc.measured == "90 min" and inc.target == "60 min"
    await fa.job_state(db, tenant, j, last_status="success", last_success_at=T0, last_restore_point_at=T0)
    await assert_resolved(db, tenant, R.RPO_BREACHED, T0 + minutes(1))


async def test_rpo_at_risk_fires_at_eighty_percent_of_the_target(db, tenant):
    s = await fa.system(db, tenant, rpo=100, offsite=False)
    j = await fa.job(db, tenant, systems=[s], last_status="success", last_restore_point_at=T0 - minutes(79))
    await fa.evaluate(db, tenant, T0)
    assert await fa.incidents(db, tenant.msp_id, R.RPO_AT_RISK) == []
    await assert_fires(db, tenant, R.RPO_AT_RISK, T0 + minutes(2), s.id)
    await fa.job_state(db, tenant, j, last_status="success", last_restore_point_at=T0 + minutes(2))
    await assert_resolved(db, tenant, R.RPO_AT_RISK, T0 + minutes(3))


async def test_three_failures_in_a_row_fire_and_a_success_resolves(db, tenant):
    j = await fa.job(db, tenant, last_status="failed", consecutive_failures=2)
    await fa.evaluate(db, tenant, T0)
    assert await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW) == []
    await fa.job_state(db, tenant, j, last_status="failed", consecutive_failures=3)
    await assert_fires(db, tenant, R.FAILED_IN_A_ROW, T0, j.id)
    await fa.job_state(db, tenant, j, last_status="success", consecutive_failures=0, last_success_at=T0)
    await assert_resolved(db, tenant, R.FAILED_IN_A_ROW, T0 + minutes(1))


async def test_no_offsite_copy_within_26_hours_fires(db, tenant):
    j = await fa.job(db, tenant, location="cloud", last_status="success", last_success_at=T0 - minutes(27 * 60))
    inc = await assert_fires(db, tenant, R.NO_OFFSITE_WITHIN, T0, j.id)
    assert inc.measured == "27 h"
    await fa.job_state(db, tenant, j, last_status="success", last_success_at=T0)
    await assert_resolved(db, tenant, R.NO_OFFSITE_WITHIN, T0 + minutes(1))


async def test_a_run_far_below_its_baseline_is_suspicious(db, tenant):
    j = await fa.job(db, tenant, last_status="success", last_duration_seconds=12, last_bytes=10_000,
                     baseline_duration_seconds=600, baseline_bytes=5_000_000)
    inc = await assert_fires(db, tenant, R.SUSPICIOUS_RUN, T0, j.id)
    assert "12 s against a usual 600 s" in inc.measured
    await fa.job_state(db, tenant, j, last_status="success", last_duration_seconds=580, last_bytes=4_900_000,
                       baseline_duration_seconds=600, baseline_bytes=5_000_000)
    await assert_resolved(db, tenant, R.SUSPICIOUS_RUN, T0 + minutes(1))


async def test_a_success_reporting_an_old_restore_point_is_a_stale_success(db, tenant):
    j = await fa.job(db, tenant, last_status="success")
    await fa.run(db, tenant, j, T0 - minutes(1440), restore_point=T0 - minutes(1440))
    await fa.run(db, tenant, j, T0 - minutes(10), restore_point=T0 - minutes(1440))
    await assert_fires(db, tenant, R.STALE_SUCCESS, T0, j.id)
    await fa.run(db, tenant, j, T0, restore_point=T0)
    await assert_resolved(db, tenant, R.STALE_SUCCESS, T0 + minutes(1))


async def test_no_restore_test_in_90_days_fires_and_a_test_resolves_it(db, tenant):
    s = await fa.system(db, tenant, rto=240)
    j = await fa.job(db, tenant, systems=[s], last_status="success", last_restore_point_at=T0)
    await fa.restore_test(db, tenant, j, T0 - minutes(91 * 1440), 30)
    inc = await assert_fires(db, tenant, R.NO_RESTORE_TEST, T0, s.id)
    assert inc.measured == "91 days"
    await fa.restore_test(db, tenant, j, T0, 30)
    await assert_resolved(db, tenant, R.NO_RESTORE_TEST, T0 + minutes(1))


async def test_a_restore_slower_than_the_rto_fires_rto_above_target(db, tenant):
    s = await fa.system(db, tenant, rto=60)
    j = await fa.job(db, tenant, systems=[s], last_status="success", last_restore_point_at=T0)
    await fa.restore_test(db, tenant, j, T0 - minutes(60), 150)
    inc = await assert_fires(db, tenant, R.RTO_ABOVE_TARGET, T0, s.id)
    assert (inc.measured, inc.target) == ("2.5 h", "60 min")
    await fa.restore_test(db, tenant, j, T0, 45)
    await assert_resolved(db, tenant, R.RTO_ABOVE_TARGET, T0 + minutes(1))


async def test_an_agent_silent_past_heartbeat_and_grace_fires_the_dead_mans_switch(db, tenant):
    a = await fa.agent(db, tenant, last_seen=T0 - minutes(10))
    await fa.evaluate(db, tenant, T0)  # 10 min < 1 min heartbeat + 10 min grace
    assert await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT) == []
    await assert_fires(db, tenant, R.AGENT_SILENT, T0 + minutes(2), a.id)
    await fa.seen(db, tenant, a, T0 + minutes(3))
    await assert_resolved(db, tenant, R.AGENT_SILENT, T0 + minutes(3))


async def test_an_agent_that_enrolled_and_never_reported_is_silent_from_its_enrollment(db, tenant):
    a = await fa.agent(db, tenant, last_seen=None, enrolled=T0 - minutes(10))
    await fa.evaluate(db, tenant, T0)  # enrolled 10 min ago < 1 min heartbeat + 10 min grace
    assert await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT) == []
    inc = await assert_fires(db, tenant, R.AGENT_SILENT, T0 + minutes(2), a.id)
    assert "never reported" in inc.title and inc.measured == "enrolled 12 min ago, nothing heard since"
    await fa.seen(db, tenant, a, T0 + minutes(3))  # its first heartbeat
    await assert_resolved(db, tenant, R.AGENT_SILENT, T0 + minutes(3))


async def test_silence_is_judged_by_the_agents_own_heartbeat_interval(db, tenant):
    """An agent told to beat every 30 min is not silent after 20 min; one beating every minute is."""
    slow = await fa.agent(db, tenant, last_seen=T0 - minutes(20), interval_seconds=1800)
    fast = await fa.agent(db, tenant, last_seen=T0 - minutes(20), interval_seconds=60)
    await fa.evaluate(db, tenant, T0)
    assert [i.subject_id for i in await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)] == [str(fast.id)]
    assert str(slow.id) not in {i.subject_id for i in await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT)}


async def test_a_link_down_fires_and_coming_back_up_resolves(db, tenant):
    await fa.link(db, tenant, role="backup", up=True)
    li = await fa.link(db, tenant, up=False, state_since=T0 - minutes(3))
    inc = await assert_fires(db, tenant, R.LINK_DOWN, T0, li.id)
    assert inc.severity == "high"
    await fa.link_state(db, tenant, li, up=True, state_since=T0)
    await assert_resolved(db, tenant, R.LINK_DOWN, T0 + minutes(1))


async def test_running_on_the_backup_link_too_long_fires(db, tenant):
    await fa.link(db, tenant, up=False)
    backup = await fa.link(db, tenant, role="backup", up=True, on_backup_since=T0 - minutes(61))
    await assert_fires(db, tenant, R.ON_BACKUP_TOO_LONG, T0, backup.id)
    await fa.link_state(db, tenant, backup, up=True, on_backup_since=None)
    await assert_resolved(db, tenant, R.ON_BACKUP_TOO_LONG, T0 + minutes(1))


async def test_a_backup_link_never_failed_over_to_is_untested_30_days_after_it_was_added_until_a_failover(db, tenant):
    primary = await fa.link(db, tenant, up=True, created=T0 - minutes(29 * 1440))
    backup = await fa.link(db, tenant, role="backup", up=True, created=T0 - minutes(29 * 1440))
    await fa.evaluate(db, tenant, T0)  # 29 days: still within the 30 it has
    assert await fa.incidents(db, tenant.msp_id, R.BACKUP_NOT_EXERCISED) == []
    inc = await assert_fires(db, tenant, R.BACKUP_NOT_EXERCISED, T0 + minutes(6 * 1440), backup.id)
    assert (inc.severity, inc.measured, inc.target) == ("low", "never since it was added 35 days ago", "within 30 days")
    assert inc.title == f"The backup link {backup.name} at {tenant.site.name} has not been tested in 30 days"
    assert str(primary.id) not in {i.subject_id for i in await fa.incidents(db, tenant.msp_id, R.BACKUP_NOT_EXERCISED)}
    await fa.failover(db, tenant, primary, backup, T0 + minutes(6 * 1440 + 1), T0 + minutes(6 * 1440 + 6))
    await assert_resolved(db, tenant, R.BACKUP_NOT_EXERCISED, T0 + minutes(6 * 1440 + 10))


async def test_a_hotspot_last_failed_over_to_41_days_ago_is_untested_and_a_failover_away_from_it_does_not_count(
        db, tenant):
    primary = await fa.link(db, tenant, up=True, created=T0 - minutes(400 * 1440))
    hotspot = await fa.link(db, tenant, role="hotspot", up=True, created=T0 - minutes(400 * 1440))
    await fa.failover(db, tenant, primary, hotspot, T0 - minutes(41 * 1440), T0 - minutes(41 * 1440 - 30))
    await fa.failover(db, tenant, hotspot, primary, T0 - minutes(41 * 1440 - 30))  # back: carried by the primary
    inc = await assert_fires(db, tenant, R.BACKUP_NOT_EXERCISED, T0, hotspot.id)
    assert inc.measured == "last carried traffic 41 days ago" and inc.title.startswith(f"The hotspot {hotspot.name} at ")
    assert inc.remediation == (f"Switch the site to {hotspot.name} for a few minutes (unplug the primary) and check that "
                               "the practice keeps working.")


async def test_a_backup_link_carrying_the_traffic_now_is_being_tested_whenever_the_failover_began(db, tenant):
    primary = await fa.link(db, tenant, up=False, created=T0 - minutes(90 * 1440))
    backup = await fa.link(db, tenant, role="backup", up=True, created=T0 - minutes(90 * 1440),
                           on_backup_since=T0 - minutes(40 * 1440))
    await fa.failover(db, tenant, primary, backup, T0 - minutes(40 * 1440))
    await fa.evaluate(db, tenant, T0)
    assert await fa.incidents(db, tenant.msp_id, R.BACKUP_NOT_EXERCISED) == []


async def test_a_site_with_a_single_circuit_fires_until_a_backup_link_is_added(db, tenant):
    await fa.link(db, tenant, up=True)
    await assert_fires(db, tenant, R.SINGLE_CIRCUIT, T0, tenant.site.id)
    await fa.link(db, tenant, role="hotspot", up=True)
    await assert_resolved(db, tenant, R.SINGLE_CIRCUIT, T0 + minutes(1))


async def test_loss_latency_and_jitter_above_the_links_own_thresholds_fire(db, tenant):
    await fa.link(db, tenant, role="backup", up=True)
    li = await fa.link(db, tenant, up=True, loss_pct=5.0, latency_ms=300.0, jitter_ms=45.0)
    for rule_id in (R.LINK_LOSS, R.LINK_LATENCY, R.LINK_JITTER):
        await assert_fires(db, tenant, rule_id, T0, li.id)
    await fa.link_state(db, tenant, li, up=True, loss_pct=0.1, latency_ms=20.0, jitter_ms=2.0)
    await settle(db, tenant, T0 + minutes(1))
    for rule_id in (R.LINK_LOSS, R.LINK_LATENCY, R.LINK_JITTER):
        assert await fa.incidents(db, tenant.msp_id, rule_id, active=True) == []


async def test_every_catalogue_rule_is_documented_in_rules_md():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text()
    missing = [r.id for r in R.catalogue() if f"`{r.id}`" not in doc]
    assert missing == []


async def test_the_newest_failover_onto_each_backup_link_is_read_from_the_sites_failover_index(db, tenant):
    """The query runs inside telemetry batches: it must walk ix_failover_event_site, never the
    MSP's failover history (seq scans are switched off so a tiny table cannot hide a missing index)."""
    import json

    from services.core.alerts import gather
    from services.core.db import Scope, driver_connection
    from tests.explain import plan_nodes

    primary = await fa.link(db, tenant, up=True)
    backup = await fa.link(db, tenant, role="backup", up=True)
    for day in range(1, 40):
        await fa.failover(db, tenant, primary, backup, T0 - minutes(day * 1440), T0 - minutes(day * 1440 - 5))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        pg = await driver_connection(s)
        await pg.execute("SET LOCAL enable_seqscan = off")
        params = {"msp": tenant.msp_id, "practices": [tenant.practice.id]}
        rows = await (await pg.execute(gather._LAST_FAILOVERS, params)).fetchall()
        plan = (await (await pg.execute("EXPLAIN (FORMAT JSON) " + gather._LAST_FAILOVERS, params)).fetchone())[0]
    assert rows == [(backup.id, T0 - minutes(1440))]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    scans = [n for n in plan_nodes(plan[0]["Plan"]) if n.get("Relation Name") == "failover_event"]
    assert scans and {n["Node Type"] for n in scans} <= {"Index Scan", "Index Only Scan"}
    assert {n["Index Name"] for n in scans} == {"ix_failover_event_site"}
