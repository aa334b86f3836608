"""Server down: the agent spools; back up: it replays in order, and the server ends with exactly what was sent."""

from __future__ import annotations

import json

from services.core.telemetry.processing import drain
from tests import live_server as live
from tests.factories_inventory import create_job
from tests.factories_worker import rows
from tests.integration.conftest import enroll_agent


async def test_the_agent_spools_while_the_server_is_down_and_replays_in_order(live_server, db, tenant, tmp_path, database_urls):
    job = await create_job(db, tenant.practice, "nightly", tool="other")
    doomed = live.start(database_urls[1])  # the server the agent enrolls with, then loses
    agent = await enroll_agent(db, tenant.site, doomed.url, tmp_path)
    doomed.stop()

    for _ in range(3):
        assert agent.run("heartbeat").returncode == 0  # spooled: exit 0 even when it cannot deliver
    done = agent.run("run", "--job", "nightly", "--", "sh", "-c", "echo copying charts; exit 2")
    assert done.returncode == 2
    assert agent.run("heartbeat").returncode == 0
    spool = tmp_path / "state" / "spool.jsonl"
    sent = [json.loads(line)["id"] for line in spool.read_text().splitlines()]
    assert len(sent) == 5
    assert agent.run("flush").returncode == 75  # still down: events remain

    agent.set_server(live_server.url)  # the server is back (at a new address)
    assert agent.run("flush").returncode == 0
    assert agent.run("flush").returncode == 0  # nothing left, nothing resent

    inbox = await rows(db, tenant.msp_id, "SELECT event_id, type FROM telemetry_event WHERE msp_id = :m ORDER BY seq")
    assert [r["event_id"] for r in inbox] == sent
    assert [r["type"] for r in inbox] == ["heartbeat"] * 3 + ["backup_run", "heartbeat"]
    assert await drain(db, tenant.msp_id) == 5
    (run,) = await rows(db, tenant.msp_id, "SELECT status, exit_code, log_tail FROM backup_run WHERE backup_job_id = :j", j=job.id)
    assert run["status"] == "failed" and run["exit_code"] == 2 and "copying charts" in run["log_tail"]
