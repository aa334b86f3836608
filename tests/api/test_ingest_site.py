"""POST /api/v1/ingest and GET /api/v1/agents/me: an agent reports on its own site's jobs, links and
systems only (services/core/telemetry/site_scope.py, docs/decisions/0002)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.core.inventory.models import BackupJob, Link, System
from services.core.practices.models import Site
from tests.factories_inventory import create_job, create_link, create_site, create_system
from tests.factories_telemetry import EnrolledAgent, audit_actions, create_agent, event, inbox


@dataclass
class TwoSites:
    agent: EnrolledAgent  # enrolled at `here`
    here: Site
    there: Site  # another site of the same practice
    job: BackupJob  # at `here`, protects `ehr`
    their_job: BackupJob  # at `there`, protects `imaging`
    unplaced_job: BackupJob  # no site
    link: Link
    backup_link: Link
    their_link: Link
    ehr: System
    imaging: System


async def two_sites(db, tenant) -> TwoSites:
    there = await create_site(db, tenant.practice, "Annex")
    ehr = await create_system(db, tenant.practice, "EHR")
    imaging = await create_system(db, tenant.practice, "Imaging")
    return TwoSites(
        agent=await create_agent(db, tenant.site), here=tenant.site, there=there,
        job=await create_job(db, tenant.practice, "main-nas", site_id=tenant.site.id, systems=[ehr]),
        their_job=await create_job(db, tenant.practice, "annex-nas", site_id=there.id, systems=[imaging]),
        unplaced_job=await create_job(db, tenant.practice, "usb-drive", site_id=None),
        link=await create_link(db, tenant.site, "Fiber"), backup_link=await create_link(db, tenant.site, "LTE", role="backup"),
        their_link=await create_link(db, there, "Annex cable"), ehr=ehr, imaging=imaging)


def restore(**fields: Any) -> dict[str, Any]:
    at = event()["occurred_at"]
    return event("restore_test", started_at=at, finished_at=at, success=True, **fields)


def failover(from_link: str, to_link: str) -> dict[str, Any]:
    return event("failover", from_link=from_link, to_link=to_link, started_at=event()["occurred_at"])


async def refused(client, agent, events) -> list[dict[str, Any]]:
    r = await client.post("/api/v1/ingest", json={"events": events}, headers=agent.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()["errors"]


async def test_agent_cannot_report_a_run_for_another_sites_job(client, tenant, db):
    t = await two_sites(db, tenant)
    events = [event(), event("backup_run", job=str(t.their_job.id))]
    errors = await refused(client, t.agent, events)
    assert [(e["event_index"], e["event_id"], e["field"]) for e in errors] == [(1, events[1]["id"], "job")]
    assert "another site" in errors[0]["message"]
    assert await inbox(db, tenant.msp_id) == []  # the heartbeat beside it is not kept either
    (audited,) = await audit_actions(db, tenant.msp_id, "telemetry.foreign_object_refused")
    assert audited["changes"]["refused"] == [{
        "event_index": 1, "event_id": events[1]["id"], "field": "job", "object_type": "job", "object_id": str(t.their_job.id),
        "object_practice_id": str(tenant.practice.id), "object_site_id": str(t.there.id)}]


async def test_another_sites_job_named_by_name_is_unknown_to_the_agent(client, tenant, db):
    t = await two_sites(db, tenant)
    (error,) = await refused(client, t.agent, [event("backup_run", job="annex-nas")])
    assert error["field"] == "job" and error["message"] == "names no backup job of this agent's site"


async def test_a_job_without_a_site_is_reported_by_no_agent(client, tenant, db):
    t = await two_sites(db, tenant)
    (error,) = await refused(client, t.agent, [event("backup_run", job=str(t.unplaced_job.id))])
    assert error["field"] == "job" and "not assigned to any site" in error["message"]


async def test_a_restore_test_may_name_only_its_sites_job_and_the_systems_its_sites_jobs_protect(client, tenant, db):
    t = await two_sites(db, tenant)
    events = [restore(job=str(t.their_job.id)), restore(system="Imaging"), restore(system=str(t.imaging.id)),
              restore(job="main-nas", system=str(t.imaging.id))]
    errors = await refused(client, t.agent, events)
    assert [(e["event_index"], e["field"]) for e in errors] == [(0, "job"), (1, "system"), (2, "system"), (3, "system")]
    assert errors[2]["message"] == "names a system that no backup job of this agent's site protects"
    assert await inbox(db, tenant.msp_id) == []

    ok = [restore(job="main-nas"), restore(system="EHR"), restore(job=str(t.job.id), system=str(t.ehr.id))]
    r = await client.post("/api/v1/ingest", json={"events": ok}, headers=t.agent.headers)
    assert r.status_code == 202, r.text
    assert [(row["payload"].get("job_id"), row["payload"].get("system_id")) for row in await inbox(db, tenant.msp_id)] == [
        (str(t.job.id), None), (None, str(t.ehr.id)), (str(t.job.id), str(t.ehr.id))]


async def test_a_link_sample_for_another_sites_link_is_refused(client, tenant, db):
    t = await two_sites(db, tenant)
    (error,) = await refused(client, t.agent, [event("link_sample", link=str(t.their_link.id), up=True)])
    assert error["field"] == "link" and error["message"] == "names a link of another site of this practice"


async def test_a_failover_may_not_name_another_sites_link_on_either_side(client, tenant, db):
    t = await two_sites(db, tenant)
    events = [failover("Fiber", str(t.their_link.id)), failover(str(t.their_link.id), "LTE"), failover("Fiber", "Annex cable")]
    errors = await refused(client, t.agent, events)
    assert [(e["event_index"], e["field"]) for e in errors] == [(0, "to_link"), (1, "from_link"), (2, "to_link")]
    r = await client.post("/api/v1/ingest", json={"events": [failover("Fiber", "LTE")]}, headers=t.agent.headers)
    assert r.status_code == 202, r.text


async def test_a_heartbeat_names_nothing_but_the_agent_itself(client, tenant, db):
    t = await two_sites(db, tenant)
    (error,) = await refused(client, t.agent, [event("heartbeat", site_id=str(t.there.id))])
    assert error["field"] == "site_id" and error["event_index"] == 0
    r = await client.post("/api/v1/ingest", json={"events": [event("heartbeat")]}, headers=t.agent.headers)
    assert r.status_code == 202
    assert [row["site_id"] for row in await inbox(db, tenant.msp_id)] == [t.here.id]  # from the credential


async def test_agents_me_lists_exactly_what_ingest_accepts_from_the_agent(client, tenant, db):
    t = await two_sites(db, tenant)
    me = (await client.get("/api/v1/agents/me", headers=t.agent.headers)).json()
    assert [j["name"] for j in me["jobs"]] == ["main-nas"]
    assert sorted(x["name"] for x in me["links"]) == ["Fiber", "LTE"]
    assert me["systems"] == [{"id": str(t.ehr.id), "name": "EHR"}]
    listed = {("job", j["id"]) for j in me["jobs"]} | {("link", x["id"]) for x in me["links"]} | {
        ("system", y["id"]) for y in me["systems"]}
    every = [("job", t.job), ("job", t.their_job), ("job", t.unplaced_job), ("link", t.link), ("link", t.backup_link),
             ("link", t.their_link), ("system", t.ehr), ("system", t.imaging)]
    for kind, obj in every:
        e = {"job": lambda: event("backup_run", job=str(obj.id)), "link": lambda: event("link_sample", link=str(obj.id), up=True),
             "system": lambda: restore(system=str(obj.id))}[kind]()
        r = await client.post("/api/v1/ingest", json={"events": [e]}, headers=t.agent.headers)
        assert (r.status_code == 202) == ((kind, str(obj.id)) in listed), (kind, obj.name, r.text)


async def test_another_msps_job_is_unknown_and_not_audited_in_either_msp(client, tenant, other_tenant, db):
    t = await two_sites(db, tenant)
    theirs = await create_job(db, other_tenant.practice, "their-nas")
    (error,) = await refused(client, t.agent, [event("backup_run", job=str(theirs.id))])
    assert error["message"] == "names no backup job of this agent's site"
    assert await audit_actions(db, tenant.msp_id, "telemetry.foreign_object_refused") == []
    assert await audit_actions(db, other_tenant.msp_id, "telemetry.foreign_object_refused") == []
