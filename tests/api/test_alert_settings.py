"""Alert policy, overrides, maintenance windows, channels, routes, test sends and dead letters over the API."""

from __future__ import annotations

from tests import factories_alerts as fa
from tests.factories import sign_in

SLACK = "https://hooks.slack.com/services/T000/B000/SECRETPART"


async def test_the_policy_validates_thresholds_and_overrides_inherit_override_or_disable(client, tenant):
    await sign_in(client, tenant["msp_admin"])
    r = await client.put("/api/v1/alert-policy", json={"rules": {"backup.failed_in_a_row": {"params": {"runs": 0}}}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.backup.failed_in_a_row.params.runs"
    r = await client.put("/api/v1/alert-policy", json={"rules": {"backup.failed_in_a_row": {"params": {"runs": 5}}},
                                                       "resolve_after_minutes": 10})
    assert r.status_code == 200 and r.json()["resolve_after_minutes"] == 10
    base = f"/api/v1/practices/{tenant.practice.id}"
    r = await client.put(f"{base}/alert-overrides/backup.failed_in_a_row", json={"site_id": str(tenant.site.id), "params": {"runs": 2}})
    assert r.status_code == 200
    r = await client.put(f"{base}/alert-overrides/link.single_circuit", json={"enabled": False})
    assert r.status_code == 200
    eff = {(e["rule_id"], e["site_id"]): e for e in (await client.get(f"{base}/alert-policy")).json()}
    assert eff[("backup.failed_in_a_row", None)]["params"]["runs"] == 5
    assert eff[("backup.failed_in_a_row", str(tenant.site.id))]["params"]["runs"] == 2
    assert eff[("backup.failed_in_a_row", str(tenant.site.id))]["source"]["runs"] == "site"
    assert eff[("link.single_circuit", str(tenant.site.id))]["enabled"] is False
    # Back to inheriting: the override disappears, and there is no override left to answer with.
    r = await client.put(f"{base}/alert-overrides/link.single_circuit", json={})
    assert r.status_code == 204 and r.content == b"", r.text
    assert {o["rule_id"] for o in (await client.get(f"{base}/alert-overrides")).json()} == {"backup.failed_in_a_row"}
    r = await client.put(f"{base}/alert-overrides/backup.failed_in_a_row", json={"site_id": str(tenant.sibling_site.id)})
    assert r.status_code == 422  # a site of another practice


async def test_clearing_an_override_answers_204_as_documented_even_when_there_was_none(client, app, tenant):
    await sign_in(client, tenant["msp_technician"])
    url = f"/api/v1/practices/{tenant.practice.id}/alert-overrides/backup.failed_in_a_row"
    for body in ({"enabled": None}, {"enabled": None, "params": {}}):
        r = await client.put(url, json=body)
        assert r.status_code == 204 and r.content == b"", r.text
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/alert-overrides")).json() == []
    responses = app.openapi()["paths"]["/api/v1/practices/{practice_id}/alert-overrides/{rule_id}"]["put"]["responses"]
    assert "content" not in responses["204"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OverrideOut"}


async def test_a_technician_plans_a_weekly_maintenance_window(client, tenant):
    await sign_in(client, tenant["msp_technician"])
    url = f"/api/v1/practices/{tenant.practice.id}/maintenance-windows"
    r = await client.post(url, json={"name": "Patch night", "kind": "weekly", "weekdays": ["tue"], "start_time": "22:00:00",
                                     "duration_minutes": 120, "timezone": "Mars/Olympus"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone"
    r = await client.post(url, json={"name": "Patch night", "kind": "weekly", "weekdays": ["tue"], "start_time": "22:00:00",
                                     "duration_minutes": 120, "timezone": "localtime"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone"  # a file on the server, not an IANA name
    r = await client.post(url, json={"name": "Patch night", "kind": "weekly", "weekdays": ["tue"], "start_time": "22:00:00",
                                     "duration_minutes": 120})
    assert r.status_code == 201 and r.json()["weekdays"] == ["tue"] and r.json()["timezone"] == tenant.practice.timezone
    r = await client.post(url, json={"name": "Broken", "kind": "once", "starts_at": "2030-01-01T10:00:00Z",
                                     "ends_at": "2030-01-01T09:00:00Z"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_at"
    window = (await client.get(url)).json()[0]["id"]
    assert (await client.delete(f"{url}/{window}")).status_code == 204


async def test_channel_secrets_are_never_returned_and_internal_urls_are_refused(client, tenant, monkeypatch):
    import ipaddress

    from services.core.alerts import ssrf

    async def public(host, port):
        return [ipaddress.ip_address("52.1.2.3")]

    await sign_in(client, tenant["msp_admin"])
    for url in ("https://127.0.0.1/hook", "https://10.0.0.5/hook", "http://169.254.169.254/latest", "https://[::1]/x"):
        r = await client.post("/api/v1/notification-channels", json={"name": "Bad", "kind": "webhook", "url": url})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url", url
    monkeypatch.setattr(ssrf, "resolve_host", public)
    r = await client.post("/api/v1/notification-channels", json={"name": "Ops Slack", "kind": "slack", "url": SLACK})
    assert r.status_code == 201, r.text
    assert "SECRETPART" not in r.text and r.json()["secret_hint"] == "https://hooks.slack.com/…PART"
    r = await client.post("/api/v1/notification-channels", json={"name": "Hook", "kind": "webhook", "url": "https://example.com/x"})
    assert r.json()["signing_secret"].startswith("whsec_")
    listed = await client.get("/api/v1/notification-channels")
    assert "SECRETPART" not in listed.text and "whsec_" not in listed.text
    r = await client.post("/api/v1/notification-channels", json={"name": "Ops Slack", "kind": "slack", "url": SLACK})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "name"


async def test_a_test_send_that_fails_lands_in_the_dead_letters_and_can_be_retried(client, db, tenant):
    import httpx
    import respx

    from services.core.alerts.dispatch import dispatch_msp

    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await sign_in(client, tenant["msp_owner"])
    r = await client.post(f"/api/v1/notification-channels/{c.id}/test")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    with respx.mock:
        respx.post("https://events.pagerduty.com/v2/enqueue").mock(return_value=httpx.Response(400, json={"status": "invalid"}))
        await dispatch_msp(db, tenant.msp_id)
    dead = (await client.get("/api/v1/notifications/dead-letters")).json()
    assert [d["status"] for d in dead] == ["dead"] and "400" in dead[0]["last_error"]
    r = await client.post(f"/api/v1/notifications/dead-letters/{dead[0]['id']}/retry")
    assert r.status_code == 200 and r.json()["status"] == "pending"
    with respx.mock:
        route = respx.post("https://events.pagerduty.com/v2/enqueue").mock(return_value=httpx.Response(202))
        assert (await dispatch_msp(db, tenant.msp_id)).sent == 1
        assert [__import__("json").loads(c.request.content)["event_action"] for c in route.calls] == ["trigger", "resolve"]
    assert (await client.get("/api/v1/notifications/dead-letters")).json() == []


async def test_routes_check_their_channels_and_escalation(client, db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await sign_in(client, tenant["msp_admin"])
    r = await client.post("/api/v1/notification-routes", json={"channel_id": str(c.id), "escalate_after_minutes": 15})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "escalation_channel_id"
    r = await client.post("/api/v1/notification-routes", json={"channel_id": str(c.id), "min_severity": "critical",
                                                              "practice_id": str(tenant.practice.id)})
    assert r.status_code == 201
    r = await client.patch(f"/api/v1/notification-routes/{r.json()['id']}", json={"min_severity": "medium"})
    assert r.status_code == 200 and r.json()["min_severity"] == "medium" and r.json()["practice_id"] == str(tenant.practice.id)


async def test_a_technician_cannot_manage_channels(client, db, tenant):
    c = await fa.channel(db, tenant.msp_id, "pagerduty", secret="R" * 32)
    await sign_in(client, tenant["msp_technician"])
    assert (await client.get("/api/v1/notification-channels")).status_code == 403
    assert (await client.post(f"/api/v1/notification-channels/{c.id}/test")).status_code == 403


async def test_other_msp_gets_404(client, db, tenant, other_tenant):
    c = await fa.channel(db, other_tenant.msp_id, "pagerduty", secret="R" * 32)
    r = await fa.route(db, other_tenant.msp_id, c)
    await sign_in(client, tenant["msp_owner"])
    assert (await client.get(f"/api/v1/notification-channels/{c.id}")).status_code == 404
    assert (await client.post(f"/api/v1/notification-channels/{c.id}/test")).status_code == 404
    assert (await client.patch(f"/api/v1/notification-routes/{r.id}", json={})).status_code == 404
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/alert-overrides")).status_code == 404
    for body in ({"enabled": False}, {}):
        r = await client.put(f"/api/v1/practices/{other_tenant.practice.id}/alert-overrides/link.single_circuit", json=body)
        assert r.status_code == 404, body
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/maintenance-windows")).status_code == 404


async def test_the_rules_catalogue_lists_every_rule_with_the_untested_backup_link_rule_and_its_days(client, tenant):
    from services.core.alerts import rules as R

    await sign_in(client, tenant["msp_technician"])
    r = await client.get("/api/v1/alert-rules")
    assert r.status_code == 200
    listed = {rule["id"]: rule for rule in r.json()}
    assert set(listed) == {rule.id for rule in R.catalogue()}
    untested = listed["link.backup_not_exercised"]
    assert (untested["component"], untested["severity"], untested["time_based"], untested["follows_outage"]) == (
        "connectivity", "low", True, False)
    assert untested["hipaa"].startswith("164.308(a)(7)(ii)(C)") and untested["params"] == {"days": 30}
    await sign_in(client, tenant["msp_admin"])
    for days in (0, 3651):
        r = await client.put("/api/v1/alert-policy", json={"rules": {"link.backup_not_exercised": {"params": {"days": days}}}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rules.link.backup_not_exercised.params.days"
    r = await client.put("/api/v1/alert-policy", json={"rules": {"link.backup_not_exercised": {"params": {"days": 90}}}})
    assert r.status_code == 200
