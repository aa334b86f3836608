"""The telemetry read API: current state, achieved RPO/RTO per system, and paginated history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import sign_in
from tests.factories_inventory import create_job, create_link, create_system
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, iso, run_event, sample_event, send_and_process


def base_url(practice_id) -> str:
    return f"/api/v1/practices/{practice_id}/telemetry"


async def test_state_shows_every_job_link_and_agent_with_what_the_worker_computed(client, db, tenant):
    agent = await create_agent(db, tenant.site, hostname="demo-agent-frontdesk")
    job = await create_job(db, tenant.practice, "nightly")
    idle = await create_job(db, tenant.practice, "never-reported")
    link = await create_link(db, tenant.site, "Fiber")
    finished = at(5)
    await send_and_process(client, db, agent, [run_event("nightly", at(15), finished, bytes=42),
                                               sample_event("Fiber", at(1), up=False), ev("heartbeat", at(1))])
    await sign_in(client, tenant["practice_staff"])
    r = await client.get(f"{base_url(tenant.practice.id)}/state")
    assert r.status_code == 200, r.text
    body = r.json()
    jobs = {j["backup_job_id"]: j for j in body["backup_jobs"]}
    assert jobs[str(job.id)]["last_status"] == "success" and jobs[str(job.id)]["last_bytes"] == 42
    assert jobs[str(idle.id)]["last_run_at"] is None and jobs[str(idle.id)]["consecutive_failures"] == 0
    (link_out,) = body["links"]
    assert link_out["link_id"] == str(link.id) and link_out["up"] is False
    (agent_out,) = body["agents"]
    assert agent_out["hostname"] == "demo-agent-frontdesk" and agent_out["silent"] is False


async def test_achieved_rpo_is_measured_per_copy_and_rto_from_the_newest_restore_test(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    ehr = await create_system(db, tenant.practice, "EHR", rpo_minutes=60, rto_minutes=120, mtd_minutes=480)
    await create_job(db, tenant.practice, "nas", systems=[ehr], location="onsite")
    await create_job(db, tenant.practice, "b2", systems=[ehr], location="cloud")
    await send_and_process(client, db, agent, [run_event("nas", at(30), at(25), restore_point_at=at(30))])
    await sign_in(client, tenant["msp_technician"])
    url = f"{base_url(tenant.practice.id)}/systems/recovery"
    (row,) = (await client.get(url)).json()
    assert row["achieved_onsite_rpo_minutes"] == pytest.approx(30, abs=1)
    assert row["achieved_offsite_rpo_minutes"] is None  # the required cloud copy never ran
    assert row["rpo_compliant"] is False and row["rto_compliant"] is None and row["offsite_jobs"] == 1

    await send_and_process(client, db, agent, [
        run_event("b2", at(20), at(10), restore_point_at=at(20)),
        ev("restore_test", at(2), job="b2", started_at=at(92), finished_at=at(2), success=True),
    ])
    (row,) = (await client.get(url)).json()
    assert row["achieved_offsite_rpo_minutes"] == pytest.approx(20, abs=1) and row["rpo_compliant"] is True
    assert row["achieved_rto_minutes"] == pytest.approx(90, abs=0.1) and row["rto_compliant"] is True

    await send_and_process(client, db, agent, [ev("restore_test", at(1), system="EHR", started_at=at(1.5), finished_at=at(1),
                                                  success=False)])
    (row,) = (await client.get(url)).json()
    assert row["last_restore_test_success"] is False and row["achieved_rto_minutes"] is None and row["rto_compliant"] is False


async def test_backup_runs_page_newest_first_with_a_cursor(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "hourly")
    await send_and_process(client, db, agent, [run_event("hourly", at(60 * i + 10), at(60 * i + 5), bytes=i) for i in range(5)])
    await sign_in(client, tenant["practice_owner"])
    url = f"{base_url(tenant.practice.id)}/backup-jobs/{job.id}/runs"
    seen, cursor = [], None
    while True:
        r = await client.get(url, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += [run["bytes"] for run in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [0, 1, 2, 3, 4]
    r = await client.get(url, params={"from": iso(at(130)), "to": iso(at(0))})
    assert [run["bytes"] for run in r.json()["items"]] == [0, 1]


async def test_bad_ranges_and_cursors_are_refused_naming_the_parameter(client, db, tenant):
    job = await create_job(db, tenant.practice, "nas")
    await sign_in(client, tenant["msp_owner"])
    url = f"{base_url(tenant.practice.id)}/backup-jobs/{job.id}/runs"
    r = await client.get(url, params={"from": iso(at(0)), "to": iso(at(10))})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    r = await client.get(url, params={"cursor": "not-a-cursor"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get(url, params={"from": "2025-01-01T00:00:00"})  # no offset: ambiguous
    assert r.status_code == 422
    link = await create_link(db, tenant.site, "Fiber")
    r = await client.get(f"{base_url(tenant.practice.id)}/links/{link.id}/samples",
                         params={"resolution": "raw", "from": iso(at(60 * 24 * 30)), "to": iso(at(0))})
    assert r.status_code == 422 and "15 days" in r.json()["errors"][0]["message"]


async def test_a_forged_cursor_is_refused_naming_the_cursor_never_a_500(client, db, tenant):
    import base64
    import json
    import uuid

    job = await create_job(db, tenant.practice, "nas")
    await sign_in(client, tenant["msp_owner"])
    url = f"{base_url(tenant.practice.id)}/backup-jobs/{job.id}/runs"
    for forged in ([iso(at(0)), 123], ["2026-03-03T10:00:00", str(uuid.uuid4())], [iso(at(0)), None]):
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        r = await client.get(url, params={"cursor": cursor})
        assert r.status_code == 422, (forged, r.text)
        assert r.json()["errors"][0]["field"] == "cursor"


async def test_link_samples_come_raw_or_as_five_minute_aggregates(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Fiber")
    base = at(0).replace(second=0, microsecond=0) - timedelta(minutes=20)
    await send_and_process(client, db, agent, [sample_event("Fiber", base + timedelta(minutes=i), latency_ms=10.0 + i)
                                               for i in range(10)])
    await sign_in(client, tenant["msp_technician"])
    url = f"{base_url(tenant.practice.id)}/links/{link.id}/samples"
    raw = (await client.get(url, params={"resolution": "raw"})).json()["items"]
    assert [s["latency_ms"] for s in raw] == [19.0 - i for i in range(10)]
    agg = (await client.get(url, params={"resolution": "5m"})).json()["items"]
    assert sum(a["samples"] for a in agg) == 10 and len(agg) in (2, 3)
    assert sum(a["latency_ms"] * a["samples"] for a in agg) == pytest.approx(sum(10.0 + i for i in range(10)))


async def test_failovers_and_restore_tests_are_listed(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    await create_link(db, tenant.site, "LTE", role="backup")
    await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [
        ev("failover", at(10), from_link="Fiber", to_link="LTE", started_at=at(12), ended_at=at(10)),
        ev("restore_test", at(5), job="nas", started_at=at(35), finished_at=at(5), success=True),
    ])
    await sign_in(client, tenant["practice_staff"])
    (failover,) = (await client.get(f"{base_url(tenant.practice.id)}/failovers")).json()["items"]
    assert failover["ended_at"] is not None
    (test,) = (await client.get(f"{base_url(tenant.practice.id)}/restore-tests")).json()["items"]
    assert test["duration_seconds"] == pytest.approx(1800) and test["success"] is True


async def test_an_assigned_technician_cannot_see_another_practice(client, db, tenant):
    job = await create_job(db, tenant.sibling, "sibling-job")
    await sign_in(client, tenant["assigned_technician"])
    assert (await client.get(f"{base_url(tenant.sibling.id)}/state")).status_code == 404
    assert (await client.get(f"{base_url(tenant.sibling.id)}/backup-jobs/{job.id}/runs")).status_code == 404
    # …nor reach the sibling's job through its own practice.
    assert (await client.get(f"{base_url(tenant.practice.id)}/backup-jobs/{job.id}/runs")).status_code == 404


async def test_other_msp_gets_404(client, db, tenant, other_tenant):
    job = await create_job(db, other_tenant.practice, "theirs")
    link = await create_link(db, other_tenant.site, "Their fiber")
    await sign_in(client, tenant["msp_owner"])
    for path in ("/state", "/systems/recovery", "/failovers", "/restore-tests", f"/backup-jobs/{job.id}/runs",
                 f"/links/{link.id}/samples"):
        r = await client.get(base_url(other_tenant.practice.id) + path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    for path in (f"/backup-jobs/{job.id}/runs", f"/links/{link.id}/samples"):
        assert (await client.get(base_url(tenant.practice.id) + path)).status_code == 404


async def test_a_success_whose_restore_point_did_not_move_is_shown_stale_exactly_where_readiness_charges_it(client, db, tenant,
                                                                                                              other_tenant):
    from services.core.alerts.rules import STALE_SUCCESS
    from services.core.base import utcnow
    from services.core.db import Scope
    from services.core.readiness import service

    agent = await create_agent(db, tenant.site)
    stuck = await create_job(db, tenant.practice, "nas")
    moving = await create_job(db, tenant.practice, "b2", location="cloud")
    point = at(200)
    await send_and_process(client, db, agent, [
        run_event("nas", at(130), at(125), restore_point_at=point),
        run_event("nas", at(70), at(65), restore_point_at=point),  # "success", but the same snapshot again
        run_event("b2", at(130), at(125), restore_point_at=at(130)),
        run_event("b2", at(70), at(65), restore_point_at=at(70)),
    ])

    async def judged(now=None) -> tuple[dict[str, bool], dict[str, bool], set[str]]:
        async with db.transaction(Scope(tenant.msp_id)) as s:
            await service.recompute(s, tenant.msp_id, [tenant.practice.id], now)
        url = f"/api/v1/practices/{tenant.practice.id}"
        state = (await client.get(f"{base_url(tenant.practice.id)}/state")).json()
        board = (await client.get(f"{url}/dashboard")).json()
        readiness = (await client.get(f"{url}/readiness")).json()
        charged = {f["subject_id"] for f in readiness["findings"] if f["rule_id"] == STALE_SUCCESS and f["deduction"] > 0}
        return ({j["backup_job_id"]: j["stale_success"] for j in state["backup_jobs"]},
                {j["id"]: j["stale_success"] for j in board["backups"]}, charged)

    await sign_in(client, tenant["practice_owner"])
    state, board, charged = await judged()
    assert charged == {str(stuck.id)}
    assert state == board == {str(stuck.id): True, str(moving.id): False}

    # The next success moves the restore point: its run is not stale on any screen, and the
    # condition, clearing, leaves readiness with its incident once the hysteresis has passed.
    await send_and_process(client, db, agent, [run_event("nas", at(10), at(5), restore_point_at=at(10))])
    state, board, charged = await judged()
    assert charged == {str(stuck.id)} and state == board == {str(stuck.id): False, str(moving.id): False}
    state, board, charged = await judged(utcnow() + timedelta(minutes=6))
    assert charged == set() and state == board == {str(stuck.id): False, str(moving.id): False}

    assert (await client.get(f"{base_url(other_tenant.practice.id)}/state")).status_code == 404
