"""Incidents API: queue, filters, detail with timeline, acknowledge, resolve, notes — tenant-scoped and audited."""

from __future__ import annotations

from sqlalchemy import select

from services.core.alerts import rules as R
from services.core.audit.models import AuditEvent
from services.core.base import utcnow
from services.core.db import Scope
from tests import factories_alerts as fa
from tests.factories import sign_in


async def open_incident(db, t):
    c = await fa.channel(db, t.msp_id, "pagerduty", secret="R" * 32)
    await fa.route(db, t.msp_id, c)
    await fa.job(db, t, last_status="failed", consecutive_failures=3)
    await fa.evaluate(db, t, utcnow())
    return (await fa.incidents(db, t.msp_id, R.FAILED_IN_A_ROW, active=True))[0]


async def test_a_technician_lists_filters_and_reads_an_incident_with_its_timeline(client, db, tenant):
    inc = await open_incident(db, tenant)
    await sign_in(client, tenant["msp_technician"])
    r = await client.get("/api/v1/incidents", params={"severity": "high"})
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [str(inc.id)]
    assert (await client.get("/api/v1/incidents", params={"severity": "low"})).json()["total"] == 0
    assert (await client.get("/api/v1/incidents", params={"rule_id": R.LINK_DOWN})).json()["total"] == 0
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}")
    assert r.status_code == 200
    assert [e["kind"] for e in r.json()["timeline"]] == ["opened", "notified"]


async def test_acknowledge_resolve_and_note_are_recorded_on_the_timeline_audited_and_notified(client, db, tenant):
    inc = await open_incident(db, tenant)
    await sign_in(client, tenant["msp_technician"])
    base = f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}"
    r = await client.post(f"{base}/acknowledge")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert (await client.post(f"{base}/acknowledge")).status_code == 409
    assert (await client.post(f"{base}/notes", json={"text": "Called the clinic; NAS was unplugged."})).status_code == 201
    r = await client.post(f"{base}/resolve", json={"note": "Plugged back in."})
    assert r.status_code == 200 and r.json()["resolved_by"] == tenant["msp_technician"].email
    kinds = [e["kind"] for e in (await client.get(base)).json()["timeline"]]
    assert kinds == ["opened", "notified", "acknowledged", "notified_update", "note", "resolved", "notified_update"]
    assert [o.action for o in await fa.outbox(db, tenant.msp_id)] == ["trigger", "acknowledge", "resolve"]
    async with db.transaction(Scope(tenant.msp_id)) as s:
        actions = (await s.scalars(select(AuditEvent.action).where(AuditEvent.msp_id == tenant.msp_id,
                                                                   AuditEvent.object_id == str(inc.id)))).all()
    assert sorted(actions) == ["incident.acknowledged", "incident.note_added", "incident.resolved"]


async def test_practice_staff_can_read_but_not_acknowledge(client, db, tenant):
    inc = await open_incident(db, tenant)
    await sign_in(client, tenant["practice_staff"])
    base = f"/api/v1/practices/{tenant.practice.id}/incidents"
    assert (await client.get(base)).json()["total"] == 1
    assert (await client.post(f"{base}/{inc.id}/acknowledge")).status_code == 403


async def test_the_msp_queue_shows_an_assigned_technician_only_the_practices_they_see(client, db, tenant):
    await open_incident(db, tenant)
    sibling = type(tenant)(tenant.msp_id, tenant.sibling, tenant.practice, tenant.sibling_site, tenant.site, tenant.people)
    await fa.job(db, sibling, last_status="failed", consecutive_failures=5, site_id=tenant.sibling_site.id)
    await fa.evaluate(db, tenant, utcnow())
    await sign_in(client, tenant["assigned_technician"])
    items = (await client.get("/api/v1/incidents")).json()["items"]
    assert {i["practice_id"] for i in items} == {str(tenant.practice.id)}
    await sign_in(client, tenant["msp_admin"])
    items = (await client.get("/api/v1/incidents")).json()["items"]
    assert {i["practice_id"] for i in items} == {str(tenant.practice.id), str(tenant.sibling.id)}


async def test_other_msp_gets_404(client, db, tenant, other_tenant):
    inc = await open_incident(db, other_tenant)
    await sign_in(client, tenant["msp_owner"])
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/incidents/{inc.id}")).status_code == 404
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}")).status_code == 404
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}/acknowledge")
    assert r.status_code == 404
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0


async def test_acknowledging_an_incident_tells_live_viewers_after_commit(client, db, tenant, database_urls):
    import psycopg

    from services.core.database_server import libpq
    from services.core.readiness.events import CHANNEL

    inc = await open_incident(db, tenant)
    async with await psycopg.AsyncConnection.connect(libpq(database_urls[0]), autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        await sign_in(client, tenant["msp_technician"])
        r = await client.post(f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}/acknowledge")
        assert r.status_code == 200, r.text
        received = []
        async for note in listener.notifies(timeout=5, stop_after=5):
            received.append(__import__("json").loads(note.payload))
            if any(e["type"] == "incident.acknowledged" for e in received):
                break
    acked = [e for e in received if e["type"] == "incident.acknowledged"]
    assert acked and acked[0]["data"]["incident_id"] == str(inc.id)
    assert acked[0]["practice_id"] == str(tenant.practice.id)


async def test_incidents_opened_at_the_same_instant_page_in_one_order_without_repeats(client, owner_db, tenant):
    """One evaluation opens many incidents with the same opened_at; offset pages must still cover each once."""
    import uuid

    from sqlalchemy import text

    ids = sorted((uuid.uuid4() for _ in range(7)), reverse=True)
    async with owner_db.transaction() as s:
        for n, incident_id in enumerate(ids):  # inserted in descending id order, so the heap order is not the answer
            await s.execute(text(
                "INSERT INTO incident (msp_id, id, created_at, practice_id, rule_id, subject_type, subject_id, severity,"
                " component, urgency, title, remediation, hipaa, status, opened_at, last_fired_at, clear_evaluations,"
                " reopen_count, updated_at) VALUES (:m, :id, now(), :p, 'link.down', 'link', :subject, 'high', 'connectivity',"
                " 'high', 'Link down', '', '', 'open', now(), now(), 0, 0, now())"),
                {"m": tenant.msp_id, "id": incident_id, "p": tenant.practice.id, "subject": f"link-{n}"})
    await sign_in(client, tenant["msp_technician"])
    seen = []
    for offset in range(0, 7, 2):
        r = await client.get("/api/v1/incidents", params={"limit": 2, "offset": offset})
        assert r.status_code == 200, r.text
        seen += [i["id"] for i in r.json()["items"]]
    assert seen == sorted(str(i) for i in ids)
