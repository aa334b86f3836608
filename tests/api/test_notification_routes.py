"""Notification routes as the web app uses them: the first channel's default route, field errors, tenancy."""

from __future__ import annotations

import re

from tests import factories_alerts as fa
from tests.factories import sign_in

EMAIL = {"kind": "email", "to": ["oncall@harbor.example"]}


async def test_the_first_channel_gets_a_default_route_for_every_practice_and_severity_and_later_ones_do_not(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    first = await client.post("/api/v1/notification-channels", json={"name": "On call", **EMAIL})
    assert first.status_code == 201, first.text
    routes = (await client.get("/api/v1/notification-routes")).json()
    assert [(r["id"], r["channel_id"], r["practice_id"], r["min_severity"], r["enabled"]) for r in routes] == [
        (first.json()["default_route_id"], first.json()["id"], None, "low", True)]
    events = (await client.get("/api/v1/audit-events", params={"action": "notification_route.created"})).json()["items"]
    assert [(e["object_id"], e["changes"]["default_for_first_channel"], e["actor_label"]) for e in events] == [
        (routes[0]["id"], True, tenant["msp_owner"].email)]

    second = await client.post("/api/v1/notification-channels", json={"name": "Front desk", **EMAIL})
    assert second.status_code == 201 and second.json()["default_route_id"] is None
    assert [r["id"] for r in (await client.get("/api/v1/notification-routes")).json()] == [routes[0]["id"]]


async def test_route_errors_name_each_field_in_plain_words(client, db, tenant, other_tenant):
    mine = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    theirs = await fa.channel(db, other_tenant.msp_id, "pagerduty", secret="R" * 32)
    await sign_in(client, tenant["msp_admin"])
    cases = [
        ({"channel_id": str(theirs.id)}, "channel_id"),
        ({"channel_id": str(mine.id), "practice_id": str(other_tenant.practice.id)}, "practice_id"),
        ({"channel_id": str(mine.id), "escalation_channel_id": str(mine.id)}, "escalate_after_minutes"),
        ({"channel_id": str(mine.id), "escalate_after_minutes": 30}, "escalation_channel_id"),
        ({"channel_id": str(mine.id), "escalate_after_minutes": 30, "escalation_channel_id": str(theirs.id)}, "escalation_channel_id"),
        ({"channel_id": str(mine.id), "min_severity": "urgent"}, "min_severity"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/notification-routes", json=body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), body
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field], (body, errors)
        if field != "min_severity":  # pydantic's own words list the choices
            assert not re.search(r"[a-z]+_[a-z]+", errors[0]["message"]), errors[0]["message"]
    assert (await client.get("/api/v1/notification-routes")).json() == []

    created = await client.post("/api/v1/notification-routes", json={"channel_id": str(mine.id), "practice_id": str(tenant.practice.id)})
    r = await client.patch(f"/api/v1/notification-routes/{created.json()['id']}", json={"escalate_after_minutes": 10})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["escalation_channel_id"]
    r = await client.patch(f"/api/v1/notification-routes/{created.json()['id']}", json={"practice_id": None, "min_severity": "high"})
    assert r.status_code == 200 and (r.json()["practice_id"], r.json()["min_severity"]) == (None, "high")


async def test_another_msps_route_is_404_to_read_change_or_remove(client, db, tenant, other_tenant):
    theirs = await fa.route(db, other_tenant.msp_id, await fa.channel(db, other_tenant.msp_id, "pagerduty", secret="R" * 32))
    await sign_in(client, tenant["msp_owner"])
    assert (await client.patch(f"/api/v1/notification-routes/{theirs.id}", json={"min_severity": "low"})).status_code == 404
    assert (await client.delete(f"/api/v1/notification-routes/{theirs.id}")).status_code == 404
    assert (await client.get("/api/v1/notification-routes")).json() == []
