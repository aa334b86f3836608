"""The whole path: an agent posts telemetry to the real ingest API, the worker's batch processing
updates state and (through the ON_STATE_CHANGED hook, in the same transaction) evaluates the rules,
opening incidents and writing their outbox rows; the periodic tasks do the rest."""

from __future__ import annotations

import services.core.alerts.evaluate  # noqa: F401  (registers the hook, as services/worker/main.py does)
from services.core.alerts import rules as R
from services.core.telemetry import hooks
from services.worker.tasks_alerts import evaluate_all
from tests import factories_alerts as fa
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, run_event, sample_event, send_and_process


def test_the_rule_evaluation_is_registered_on_the_telemetry_hook():
    assert services.core.alerts.evaluate.on_state_changed in hooks.ON_STATE_CHANGED


async def test_three_failed_runs_sent_by_an_agent_open_an_incident_and_queue_its_notification(client, db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await fa.route(db, tenant.msp_id, c)
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    failures = [run_event("nas", at(300 - 60 * i), at(299 - 60 * i), status="failed", exit_code=1) for i in range(3)]
    await send_and_process(client, db, agent, failures)
    (inc,) = await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW, active=True)
    assert inc.subject_id == str(job.id)
    assert [(o.incident_id, o.action) for o in await fa.outbox(db, tenant.msp_id)] == [(inc.id, "trigger")]
    await send_and_process(client, db, agent, [run_event("nas", at(10), at(5))])
    (inc,) = await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW)
    assert inc.clear_since is not None and inc.resolved_at is None  # hysteresis: clear, not yet resolved


async def test_all_links_reported_down_open_one_outage_incident(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    await create_link(db, tenant.site, "LTE", role="backup", medium="5g_lte")
    # Both down for longer than the rules' two-minute hold.
    await send_and_process(client, db, agent, [sample_event("Fiber", at(4), up=False), sample_event("LTE", at(3), up=False)])
    open_ = await fa.incidents(db, tenant.msp_id, active=True)
    outage = [i for i in open_ if i.rule_id == R.INTERNET_OUTAGE]
    assert len(outage) == 1
    assert {i.rule_id for i in open_ if i.parent_id == outage[0].id} == {R.LINK_DOWN}


async def test_the_periodic_evaluation_brings_plan_findings_in_as_low_urgency_incidents(db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await fa.route(db, tenant.msp_id, c)
    assert await evaluate_all(db, include_findings=True) >= 2
    found = [i for i in await fa.incidents(db, tenant.msp_id, active=True) if i.urgency == "low"]
    assert found and all(i.rule_id.startswith(("plan.", "inventory.", "people.")) for i in found)
    # The route does not ask for low-urgency incidents: the queue shows them, nobody is paged.
    assert await fa.outbox(db, tenant.msp_id) == []
    # A time-only evaluation leaves them alone (it does not compute findings).
    await evaluate_all(db, include_findings=False)
    assert len([i for i in await fa.incidents(db, tenant.msp_id, active=True) if i.urgency == "low"]) == len(found)
