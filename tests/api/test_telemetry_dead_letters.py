"""Dead letters, refused batches and a stalled MSP, as the MSP's people see and handle them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.core.db import Scope
from services.core.telemetry import dead_letters, processing, refusals
from services.core.telemetry.processing import drain, process_batch
from tests.factories import sign_in
from tests.factories_inventory import create_job
from tests.factories_telemetry import audit_actions, create_agent, ping_url
from tests.factories_worker import at, ev, pending, rows, run_event, send

LIST = "/api/v1/telemetry/dead-letters"


def _actions(practice_id) -> str:
    return f"/api/v1/practices/{practice_id}/telemetry/dead-letters"


async def _broken_run(client, db, tenant, job_name="nas"):
    """One backup run the worker sets aside: its recorded payload lost started_at."""
    agent = await create_agent(db, tenant.site, hostname="frontdesk-pc")
    await create_job(db, tenant.practice, job_name)
    event = run_event(job_name, at(30), at(20))
    await send(client, agent, [event])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'started_at' WHERE msp_id = :m"), {"m": tenant.msp_id})
    assert await drain(db, tenant.msp_id) == 1
    return agent, event


async def test_a_technician_sees_the_dead_letter_with_its_source_and_reason_and_replays_it(client, db, tenant):
    agent, event = await _broken_run(client, db, tenant)
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(LIST, params={"practice_id": str(tenant.practice.id)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open_count"] == 1
    (item,) = body["items"]
    assert (item["event_id"], item["type"], item["source_kind"], item["source_name"]) == (event["id"], "backup_run", "agent",
                                                                                        "frontdesk-pc")
    assert item["field"] == "started_at" and item["reason"] == "started_at is missing" and item["resolution"] is None
    r = await client.post(f"{_actions(tenant.practice.id)}/{item['id']}/replay")
    assert r.status_code == 200, r.text
    assert r.json() == {"replayed": 1, "discarded": 0, "remaining": 0}
    assert await pending(db, tenant.msp_id) == 1
    assert [a["changes"]["count"] for a in await audit_actions(db, tenant.msp_id, "telemetry.dead_letter.replayed")] == [1]
    r = await client.post(f"{_actions(tenant.practice.id)}/{item['id']}/replay")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    replayed = (await client.get(LIST, params={"status": "replayed"})).json()["items"]
    assert [i["replay_count"] for i in replayed] == [1]


async def test_a_set_aside_ping_names_its_backup_job_as_the_source(client, db, tenant):
    job = await create_job(db, tenant.practice, "borgmatic-nightly")
    assert (await client.post(await ping_url(db, job), content=b"done")).status_code == 200
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = jsonb_set(payload, '{kind}', '\"finished\"') WHERE msp_id = :m"),
                        {"m": tenant.msp_id})
    assert await drain(db, tenant.msp_id) == 1
    await sign_in(client, tenant["msp_technician"])
    (item,) = (await client.get(LIST, params={"type": "ping"})).json()["items"]
    assert (item["source_kind"], item["source_name"], item["field"]) == ("ping", "borgmatic-nightly", "kind")


async def test_discarding_every_dead_letter_of_a_practice_empties_the_open_list_and_is_audited(client, db, tenant):
    await _broken_run(client, db, tenant)
    await sign_in(client, tenant["msp_admin"])
    r = await client.post(f"{_actions(tenant.practice.id)}/discard")
    assert r.status_code == 200 and r.json()["discarded"] == 1
    assert (await client.get(LIST)).json() == {"items": [], "next_cursor": None, "open_count": 0}
    assert (await client.get(LIST, params={"status": "discarded"})).json()["items"][0]["resolution"] == "discarded"
    assert len(await audit_actions(db, tenant.msp_id, "telemetry.dead_letter.discarded")) == 1
    assert await pending(db, tenant.msp_id) == 0


async def test_replaying_all_of_a_practice_answers_how_many_are_still_open_past_the_per_request_limit(
        client, db, tenant, monkeypatch):
    agent = await create_agent(db, tenant.site, hostname="frontdesk-pc")
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30 - i), at(29 - i)) for i in range(3)])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE telemetry_event SET payload = payload - 'started_at' WHERE msp_id = :m"), {"m": tenant.msp_id})
    assert await drain(db, tenant.msp_id) == 3
    monkeypatch.setattr(dead_letters, "ACTION_LIMIT", 2)
    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"{_actions(tenant.practice.id)}/replay")
    assert r.status_code == 200 and r.json() == {"replayed": 2, "discarded": 0, "remaining": 1}
    r = await client.post(f"{_actions(tenant.practice.id)}/discard")
    assert r.status_code == 200 and r.json() == {"replayed": 0, "discarded": 1, "remaining": 0}


async def test_the_list_filters_by_event_type(client, db, tenant):
    await _broken_run(client, db, tenant)
    await sign_in(client, tenant["msp_owner"])
    assert len((await client.get(LIST, params={"type": "backup_run"})).json()["items"]) == 1
    assert (await client.get(LIST, params={"type": "ping"})).json()["items"] == []
    r = await client.get(LIST, params={"type": "nonsense"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    r = await client.get(LIST, params={"cursor": "not-a-cursor"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


async def test_practice_people_may_not_see_or_replay_dead_letters(client, db, tenant):
    await _broken_run(client, db, tenant)
    await sign_in(client, tenant["practice_owner"])
    assert (await client.get(LIST)).status_code == 403
    assert (await client.post(f"{_actions(tenant.practice.id)}/replay")).status_code == 403


async def test_other_msp_gets_404_and_sees_none_of_the_dead_letters(client, db, tenant, other_tenant):
    await _broken_run(client, db, tenant)
    await sign_in(client, other_tenant["msp_owner"])
    assert (await client.get(LIST)).json()["items"] == []
    assert (await client.get(LIST, params={"practice_id": str(tenant.practice.id)})).json()["items"] == []
    assert (await client.post(f"{_actions(tenant.practice.id)}/replay")).status_code == 404
    assert (await client.post(f"{_actions(tenant.practice.id)}/discard")).status_code == 404
    letters = await rows(db, tenant.msp_id, "SELECT resolved_at FROM telemetry_dead_letter WHERE msp_id = :m")
    assert letters == [{"resolved_at": None}]


async def test_a_refused_batch_is_kept_for_the_agent_with_the_event_field_and_reason(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    bad = ev("backup_run", at(5), job="no-such-job", status="success", started_at=at(10))
    batch = {"events": [ev("heartbeat", at(1)), bad]}
    for _ in range(2):  # the agent retries the same batch: one refusal, seen twice
        r = await client.post("/api/v1/ingest", json=batch, headers=agent.headers)
        assert r.status_code == 422
    r = await client.post("/api/v1/ingest", json={"events": [{"id": "x", "type": "heartbeat"}]}, headers=agent.headers)
    assert r.status_code == 422
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/agents/{agent.agent_id}/refusals")
    assert r.status_code == 200, r.text
    newest, first = r.json()
    assert newest["repeats"] == 1 and newest["errors"][0]["field"] == "occurred_at"
    assert first["repeats"] == 2 and first["status"] == 422
    (error,) = first["errors"]
    assert (error["event_index"], error["event_id"], error["event_type"], error["field"]) == (1, bad["id"], "backup_run", "job")
    assert "names no backup job" in error["message"]


async def test_an_oversized_batch_is_kept_as_a_refusal_without_its_body(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", content=b"x" * (1024 * 1024 + 1), headers={**agent.headers,
                                                                                     "Content-Type": "application/json"})
    assert r.status_code == 413
    (kept,) = await rows(db, tenant.msp_id, "SELECT status, errors, body_bytes FROM ingest_refusal WHERE msp_id = :m")
    assert kept == {"status": 413, "errors": [], "body_bytes": 0}


async def test_a_batch_refused_for_a_nul_character_is_kept_too(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    r = await client.post("/api/v1/ingest", json={"events": [{**ev("heartbeat", at(1)), "id": "nul\u0000id", "hostname": "pc\u0000"}]},
                          headers=agent.headers)
    assert r.status_code == 422
    (kept,) = await rows(db, tenant.msp_id, "SELECT status, errors, body_excerpt FROM ingest_refusal WHERE msp_id = :m")
    assert kept["status"] == 422 and kept["errors"] and "\x00" not in kept["body_excerpt"]


async def test_the_agent_list_learns_which_agents_had_batches_refused_and_another_msp_sees_none(
        client, db, tenant, other_tenant):
    agent = await create_agent(db, tenant.site)
    quiet = await create_agent(db, tenant.site, hostname="backoffice-pc")
    await send(client, quiet, [ev("heartbeat", at(1))])
    for body in ({"events": [{"id": "a", "type": "heartbeat"}]}, {"events": [{"id": "b", "type": "heartbeat"}]}):
        await client.post("/api/v1/ingest", json=body, headers=agent.headers)
    await client.post("/api/v1/ingest", json={"events": [{"id": "b", "type": "heartbeat"}]}, headers=agent.headers)
    await sign_in(client, tenant["msp_technician"])
    (summary,) = (await client.get("/api/v1/telemetry/refusals")).json()
    assert (summary["agent_id"], summary["batches"], summary["attempts"]) == (str(agent.agent_id), 2, 3)
    await sign_in(client, other_tenant["msp_technician"])
    assert (await client.get("/api/v1/telemetry/refusals")).json() == []


async def test_refusals_are_bounded_per_agent(client, db, tenant, monkeypatch):
    monkeypatch.setattr(refusals, "REFUSALS_KEPT", 3)
    monkeypatch.setattr(refusals, "_TRIM", text(str(refusals._TRIM).replace("OFFSET 50", "OFFSET 3")))
    agent = await create_agent(db, tenant.site)
    for i in range(5):
        r = await client.post("/api/v1/ingest", json={"events": [{"id": f"e{i}", "type": "heartbeat"}]}, headers=agent.headers)
        assert r.status_code == 422
    kept = await rows(db, tenant.msp_id, "SELECT count(*) AS n FROM ingest_refusal WHERE msp_id = :m AND agent_id = :a",
                      a=agent.agent_id)
    assert kept == [{"n": 3}]


async def test_an_accepted_batch_leaves_no_refusal(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    await send(client, agent, [ev("heartbeat", at(1))])
    assert await rows(db, tenant.msp_id, "SELECT id FROM ingest_refusal WHERE msp_id = :m") == []


async def test_other_msp_gets_404_for_an_agents_refusals(client, db, tenant, other_tenant):
    agent = await create_agent(db, tenant.site)
    await client.post("/api/v1/ingest", json={"events": [{"id": "x", "type": "heartbeat"}]}, headers=agent.headers)
    await sign_in(client, other_tenant["msp_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/agents/{agent.agent_id}/refusals")
    assert r.status_code == 404
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/agents/{agent.agent_id}/refusals")
    assert r.status_code == 404


async def test_a_failing_batch_shows_as_stalled_telemetry_until_it_goes_through(client, db, tenant, other_tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])

    async def buggy(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(processing, "append_agent_runs", buggy)
    with pytest.raises(ValueError):
        await process_batch(db, tenant.msp_id)
    await sign_in(client, tenant["msp_technician"])
    stall = (await client.get("/api/v1/telemetry/stall")).json()
    assert stall["stalled"] is True and stall["failures"] == 1 and stall["pending_events"] == 1 and stall["since"]
    assert "ValueError" not in str(stall)  # nothing internal in what the MSP reads
    monkeypatch.undo()
    assert await drain(db, tenant.msp_id) == 1
    assert (await client.get("/api/v1/telemetry/stall")).json()["stalled"] is False


async def test_other_msp_does_not_see_a_stall_that_is_not_theirs(client, db, tenant, other_tenant, monkeypatch):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(30), at(20))])

    async def buggy(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(processing, "append_agent_runs", buggy)
    with pytest.raises(ValueError):
        await process_batch(db, tenant.msp_id)
    await sign_in(client, other_tenant["msp_owner"])
    assert (await client.get("/api/v1/telemetry/stall")).json()["stalled"] is False
