"""The practice's readiness and one-call dashboard, and the MSP's readiness weights."""

from __future__ import annotations

import re
from datetime import timedelta

from services.core.base import utcnow
from tests.factories import sign_in
from tests.factories_readiness import build_perfect_practice, execute, open_incident


async def test_readiness_lists_every_finding_with_the_points_it_cost(client, db, tenant):
    await sign_in(client, tenant["practice_staff"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness")
    assert r.status_code == 200, r.text
    body = r.json()
    charged = [f for f in body["findings"] if f["points"]]
    assert body["score"] == 100 - sum(f["points"] for f in charged) < 100
    assert {f["rule_id"] for f in charged} >= {"plan.not_approved", "inventory.single_link"}
    assert all(f["remediation"] and f["hipaa"] and f["measured"] is not None for f in charged)
    assert sum(c["lost"] for c in body["components"].values()) == 100 - body["score"]


async def test_the_dashboard_has_score_trend_systems_backups_links_incidents_and_plan(client, db, owner_db, tenant):
    perfect = await build_perfect_practice(db, tenant.practice, tenant.site)
    await open_incident(owner_db, tenant.msp_id, tenant.practice.id, "high")
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/dashboard")
    assert r.status_code == 200, r.text
    d = r.json()
    # The open incident is the condition: readiness charges it (a perfect practice otherwise).
    (charged,) = [f for f in d["readiness"]["findings"] if f["points"]]
    assert (charged["rule_id"], charged["points"], charged["condition"]["clearing_since"]) == ("link.down", 10, None)
    assert d["readiness"]["score"] == 90 and d["trend"][-1]["score"] == 90
    ehr = d["systems"][0]
    assert (ehr["name"], ehr["target_rpo_minutes"], ehr["target_rto_minutes"]) == ("EHR", 1440, 240)
    if d["recovery_available"]:
        assert ehr["achieved"] is not None
    assert {b["name"]: b["last_status"] for b in d["backups"]} == {"Cloud nightly": "success", "NAS nightly": "success"}
    assert {link["name"]: link["up"] for link in d["links"]} == {"Fiber": True, "LTE": True}
    assert d["incidents"]["counts"]["high"] == 1 and d["incidents"]["counts"]["total"] == 1
    assert d["plan"]["status"] == "approved" and d["plan"]["approved_version"]["number"] == 1
    await execute(db, tenant.msp_id, "UPDATE link_state SET up = false WHERE msp_id = :m AND link_id = :l", m=tenant.msp_id,
                  l=perfect.backup.id)
    d = (await client.get(f"/api/v1/practices/{tenant.practice.id}/dashboard")).json()
    assert {link["name"]: link["up"] for link in d["links"]}["LTE"] is False


async def test_a_technician_not_assigned_and_staff_of_another_practice_get_404(client, tenant):
    await sign_in(client, tenant["assigned_technician"])
    for what in ("readiness", "dashboard"):
        assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}/{what}")).status_code == 404
    client.cookies.clear()
    await sign_in(client, tenant["practice_staff"])
    assert (await client.get(f"/api/v1/practices/{tenant.sibling.id}/dashboard")).status_code == 404


async def test_msp_managers_set_weights_that_must_sum_to_100_and_practices_are_rescored(client, db, tenant):
    await sign_in(client, tenant["msp_admin"])
    assert (await client.get("/api/v1/readiness/weights")).json()["source"] == "default"
    bad = await client.put("/api/v1/readiness/weights", json={
        "components": {"plan": 50, "backups": 30, "connectivity": 20, "testing": 15, "people": 15},
        "deductions": {"critical": 20, "high": 10, "medium": 5, "low": 2}})
    assert bad.status_code == 422
    good = {"components": {"plan": 10, "backups": 40, "connectivity": 20, "testing": 15, "people": 15},
            "deductions": {"critical": 30, "high": 12, "medium": 6, "low": 1}}
    r = await client.put("/api/v1/readiness/weights", json=good)
    assert r.status_code == 200 and r.json()["source"] == "msp" and r.json()["components"]["backups"] == 40
    from services.core.readiness import service
    assert await service.recompute_dirty(db) >= 2
    client.cookies.clear()
    await sign_in(client, tenant["msp_technician"])
    assert (await client.put("/api/v1/readiness/weights", json=good)).status_code == 403
    body = (await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness")).json()
    assert body["components"]["plan"]["weight"] == 10
    assert all(f["deduction"] == good["deductions"][f["severity"]] for f in body["findings"])


async def test_other_msp_gets_404(client, tenant, other_tenant):
    await sign_in(client, other_tenant["msp_owner"])
    for what in ("readiness", "dashboard", "reports"):
        assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/{what}")).status_code == 404
    assert (await client.get("/api/v1/readiness/weights")).json()["source"] == "default"


def strings_that_look_like_numbers(value, path="$"):
    """Every string in a JSON document that is a number in disguise ("100.0000000000000000", "0E-20")."""
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in strings_that_look_like_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in strings_that_look_like_numbers(v, f"{path}[{i}]")]
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value):
        return [f"{path} = {value!r}"]
    return []


async def test_the_dashboard_link_chart_carries_rounded_numbers_not_decimal_strings(client, db, tenant):
    perfect = await build_perfect_practice(db, tenant.practice, tenant.site)
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    # Numeric sums, as the worker keeps them: 6.57534 / 3 = 2.19178 % loss; 100 / 3 ms latency; no jitter.
    for bucket, loss_sum in ((hour, 6.57534), (hour + timedelta(hours=1), 300)):
        await execute(db, tenant.msp_id, """
            INSERT INTO link_sample_5m (msp_id, link_id, bucket, practice_id, site_id, samples, up_samples, latency_sum,
                                        latency_count, latency_max, loss_sum, loss_count, jitter_sum, jitter_count, last_sampled_at)
            VALUES (:m, :l, :b, :p, :s, 3, 3, 100, 3, 40.04, :loss, 3, 0, 3, :b)""",
                      m=tenant.msp_id, l=perfect.primary.id, b=bucket, p=tenant.practice.id, s=tenant.site.id, loss=loss_sum)
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/dashboard")
    assert r.status_code == 200, r.text
    assert strings_that_look_like_numbers(r.json()) == []
    chart = {link["name"]: link["chart_24h"] for link in r.json()["links"]}["Fiber"]
    assert [(p["loss_pct"], p["latency_ms"], p["latency_max_ms"], p["jitter_ms"], p["uptime_pct"]) for p in chart] == [
        (2.19, 33.3, 40.0, 0.0, 100.0), (100.0, 33.3, 40.0, 0.0, 100.0)]
    assert all(isinstance(p[k], float) for p in chart for k in ("loss_pct", "latency_ms", "jitter_ms"))
    # The link's history (5-minute aggregates) reads the same rounded figures.
    samples = await client.get(f"/api/v1/practices/{tenant.practice.id}/telemetry/links/{perfect.primary.id}/samples",
                               params={"resolution": "5m"})
    assert samples.status_code == 200, samples.text
    assert sorted((s["loss_pct"], s["latency_ms"], s["jitter_ms"]) for s in samples.json()["items"]) == [
        (2.19, 33.3, 0.0), (100.0, 33.3, 0.0)]
