"""GET /api/v1/portfolio: visibility, order, filters, search and cursor pagination."""

from __future__ import annotations

import pytest

from services.core.base import utcnow
from tests.factories import create_practice, sign_in
from tests.factories_readiness import open_incident, seed_scores


@pytest.fixture
async def portfolio(db, owner_db, tenant):
    """30 more practices with known scores (ties included), some with open incidents."""
    scores = {}
    for i in range(30):
        practice, _ = await create_practice(db, tenant.msp_id, name=f"Clinic {i:02d}")
        scores[practice.id] = [35, 55, 55, 81, 90, 100][i % 6]
    await seed_scores(owner_db, tenant.msp_id, scores, utcnow().date())
    await seed_scores(owner_db, tenant.msp_id, {tenant.practice.id: 20, tenant.sibling.id: 95}, utcnow().date())
    names = {pid: f"Clinic {i:02d}" for i, pid in enumerate(scores)}
    critical = [pid for i, pid in enumerate(scores) if i in (4, 11)]
    for pid in critical:
        await open_incident(owner_db, tenant.msp_id, pid, "critical")
    await open_incident(owner_db, tenant.msp_id, list(scores)[7], "high")
    return {"scores": {**scores, tenant.practice.id: 20, tenant.sibling.id: 95}, "names": names, "critical": critical}


async def all_pages(client, **params):
    items, cursor = [], None
    while True:
        r = await client.get("/api/v1/portfolio", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items, body["summary"]


async def test_the_portfolio_lists_every_practice_worst_first_with_stable_pages_under_ties(client, tenant, portfolio):
    await sign_in(client, tenant["msp_technician"])
    items, summary = await all_pages(client, limit=7)
    assert len(items) == 32 == len({i["practice_id"] for i in items}) == summary["total"]
    # Every seeded score moved at the same instant: a tie goes to critical, then high incidents, then the name.
    keys = [(i["score"], -i["open_incidents"]["critical"], -i["open_incidents"]["high"], i["name"]) for i in items]
    assert keys == sorted(keys)
    assert items[0]["practice_id"] == str(tenant.practice.id)
    assert summary["not_ready"] == 1 + 5 and summary["ready"] == 15 + 1
    assert len(items[0]["trend"]) == 3 and items[0]["trend"][-1]["score"] == 20


async def test_sorting_by_name_descending_score_and_open_incidents(client, tenant, portfolio):
    await sign_in(client, tenant["msp_admin"])
    by_name, _ = await all_pages(client, sort="-name", limit=10)
    assert [i["name"] for i in by_name] == sorted((i["name"] for i in by_name), reverse=True)
    best, _ = await all_pages(client, sort="-score", limit=50)
    assert [i["score"] for i in best] == sorted((i["score"] for i in best), reverse=True)
    urgent, _ = await all_pages(client, sort="open_incidents", limit=5)
    assert {urgent[0]["practice_id"], urgent[1]["practice_id"]} == {str(p) for p in portfolio["critical"]}
    assert urgent[2]["open_incidents"]["high"] == 1


async def test_filters_by_status_critical_incidents_and_name(client, tenant, portfolio):
    await sign_in(client, tenant["msp_owner"])
    at_risk, summary = await all_pages(client, status="at_risk")
    assert {i["status"] for i in at_risk} == {"at_risk"} and len(at_risk) == 10 == summary["total"]
    two, _ = await all_pages(client, status=["ready", "not_ready"])
    assert {i["status"] for i in two} == {"ready", "not_ready"} and len(two) == 22
    critical, _ = await all_pages(client, has_critical="true")
    assert {i["practice_id"] for i in critical} == {str(p) for p in portfolio["critical"]}
    found, _ = await all_pages(client, q="clinic 1")
    assert sorted(i["name"] for i in found) == [f"Clinic {n}" for n in range(10, 20)]
    none, _ = await all_pages(client, q="100%_")
    assert none == []


async def test_a_technician_sees_only_assigned_practices_and_practice_people_get_403(client, tenant, portfolio):
    await sign_in(client, tenant["assigned_technician"])
    items, summary = await all_pages(client)
    assert [i["practice_id"] for i in items] == [str(tenant.practice.id)] and summary["total"] == 1
    for person in ("practice_owner", "practice_staff"):
        client.cookies.clear()
        await sign_in(client, tenant[person])
        assert (await client.get("/api/v1/portfolio")).status_code == 403


async def test_a_bad_cursor_is_a_422_naming_the_field(client, tenant, portfolio):
    await sign_in(client, tenant["msp_technician"])
    r = await client.get("/api/v1/portfolio", params={"limit": 2})
    cursor = r.json()["next_cursor"]
    r = await client.get("/api/v1/portfolio", params={"cursor": cursor, "sort": "name"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    assert (await client.get("/api/v1/portfolio", params={"cursor": "not-a-cursor"})).status_code == 422


async def test_other_msp_gets_404(client, tenant, other_tenant, portfolio):
    """Another MSP's practices never appear; asking for one of them by id is a 404."""
    await sign_in(client, other_tenant["msp_owner"])
    items, _ = await all_pages(client)
    assert {i["practice_id"] for i in items} == {str(other_tenant.practice.id), str(other_tenant.sibling.id)}
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness")).status_code == 404
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/dashboard")).status_code == 404
