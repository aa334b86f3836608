"""The whole path for a link that stops sampling: an agent states its probe interval in a heartbeat
and posts samples through the real ingest API, the worker's batch opens link.down; once nothing
has come for five of those intervals, the periodic evaluation replaces it with link.no_data and
the screens say "no data" rather than "down for …" (docs/decisions/0015-links-with-no-data.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

import services.core.alerts.evaluate  # noqa: F401  (registers the hook, as services/worker/main.py does)
from services.core.alerts import rules as R
from services.core.base import utcnow
from services.worker.tasks_alerts import evaluate_all
from tests import factories_alerts as fa
from tests.factories import sign_in
from tests.factories_inventory import create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, one, sample_event, send_and_process


async def test_a_link_that_samples_down_then_stops_is_no_data_after_five_probe_intervals(client, db, tenant, other_tenant,
                                                                                      monkeypatch):
    agent = await create_agent(db, tenant.site)
    fiber = await create_link(db, tenant.site, "Fiber")
    await create_link(db, tenant.site, "LTE", role="backup", medium="5g_lte")
    last = at(1)
    await send_and_process(client, db, agent, [
        ev("heartbeat", at(3), heartbeat_interval_seconds=60, probe_interval_seconds=120),
        sample_event("Fiber", at(3), up=False), sample_event("Fiber", last, up=False), sample_event("LTE", last)])
    row = await one(db, tenant.msp_id, "SELECT probe_interval_seconds FROM agent WHERE msp_id = :m AND id = :a",
                    a=agent.agent_id)
    assert row == {"probe_interval_seconds": 120}
    [down] = await fa.incidents(db, tenant.msp_id, R.LINK_DOWN, active=True)
    assert down.subject_id == str(fiber.id) and down.clear_since is None

    # Ten minutes on, nothing has come: the newest sample is 11 min old, past 5 × 2 min.
    later = utcnow() + timedelta(minutes=10)
    monkeypatch.setattr("services.worker.tasks_alerts.utcnow", lambda: later)
    await evaluate_all(db, include_findings=False)
    [down] = await fa.incidents(db, tenant.msp_id, R.LINK_DOWN, active=True)
    assert down.clear_since is not None  # no longer judged down: clearing
    no_data = {i.subject_id: i for i in await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True)}
    assert str(fiber.id) in no_data and no_data[str(fiber.id)].target == "a sample every 2 min"
    assert no_data[str(fiber.id)].measured == "no sample for 11 min"
    assert await fa.incidents(db, tenant.msp_id, R.INTERNET_OUTAGE) == []

    # The screens read it the same way.
    monkeypatch.setattr("services.api.routers.telemetry.utcnow", lambda: later)
    monkeypatch.setattr("services.api.routers.readiness.utcnow", lambda: later)
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/telemetry/state")
    assert r.status_code == 200, r.text
    link = next(x for x in r.json()["links"] if x["link_id"] == str(fiber.id))
    assert (link["state"], link["up"]) == ("no_data", False)
    assert abs(datetime.fromisoformat(link["no_data_since"]) - last) < timedelta(seconds=1)
    d = (await client.get(f"/api/v1/practices/{tenant.practice.id}/dashboard")).json()
    card = next(x for x in d["links"] if x["id"] == str(fiber.id))
    assert card["state"] == "no_data" and abs(datetime.fromisoformat(card["no_data_since"]) - last) < timedelta(seconds=1)
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/telemetry/state")).status_code == 404


async def test_a_new_sample_brings_the_link_back_from_no_data_to_its_state(client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    fiber = await create_link(db, tenant.site, "Fiber")
    await create_link(db, tenant.site, "LTE", role="backup", medium="5g_lte")
    # A spool replayed late: the newest sample is 20 min old, past 5 × 60 s (a heartbeat that states
    # no probe interval means 60 s), so the batch finds the link with no data, not down.
    await send_and_process(client, db, agent, [ev("heartbeat", at(20)), sample_event("Fiber", at(20), up=False),
                                               sample_event("LTE", at(20))])
    assert str(fiber.id) in {i.subject_id for i in await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True)}
    assert await fa.incidents(db, tenant.msp_id, R.LINK_DOWN) == []

    await send_and_process(client, db, agent, [sample_event("Fiber", at(0.5), up=False), sample_event("LTE", at(0.5))])
    later = utcnow() + timedelta(minutes=1)
    monkeypatch.setattr("services.worker.tasks_alerts.utcnow", lambda: later)
    await evaluate_all(db, include_findings=False)
    [down] = await fa.incidents(db, tenant.msp_id, R.LINK_DOWN, active=True)
    assert down.subject_id == str(fiber.id) and down.clear_since is None
    assert all(i.clear_since is not None for i in await fa.incidents(db, tenant.msp_id, R.LINK_NO_DATA, active=True))
