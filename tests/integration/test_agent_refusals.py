"""The real agent against the real API: what Seawall refuses is said on stderr and in the exit code,
and restic's plain output is read as well as its JSON."""

from __future__ import annotations

import json
import subprocess
import tomllib
import uuid

from services.core.audit.service import SYSTEM
from services.core.db import Scope
from services.core.telemetry import agents
from services.core.telemetry.processing import drain
from tests.conftest import require_program
from tests.factories_inventory import create_job
from tests.factories_worker import one, rows
from tests.integration.conftest import enroll_agent


async def test_a_mistyped_job_is_refused_by_seawall_named_on_stderr_and_exits_65(live_server, db, tenant, tmp_path):
    await create_job(db, tenant.practice, "nightly-restic", site_id=tenant.site.id, tool="restic")
    agent = await enroll_agent(db, tenant.site, live_server.url, tmp_path)
    marker = tmp_path / "backup-ran"

    done = agent.run("run", "--job", "nightly-restci", "--", "sh", "-c", f"echo copying charts; touch {marker}")

    assert done.returncode == 65, done.stderr
    assert marker.exists() and done.stdout == "copying charts\n"
    assert "Seawall lists no job 'nightly-restci' for this agent (its jobs: nightly-restic)" in done.stderr
    assert "Seawall refused the report of a run of job 'nightly-restci': job: names no backup job" in done.stderr
    assert await rows(db, tenant.msp_id, "SELECT 1 FROM telemetry_event WHERE msp_id = :m AND type = 'backup_run'") == []
    [kept] = [json.loads(line) for line in (tmp_path / "state" / "rejected.jsonl").read_text().splitlines()]
    assert kept["event"]["job"] == "nightly-restci"


async def test_an_agent_revoked_in_seawall_exits_77_and_keeps_its_heartbeat_spooled(live_server, db, tenant, tmp_path):
    agent = await enroll_agent(db, tenant.site, live_server.url, tmp_path)
    agent_id = uuid.UUID(tomllib.loads(agent.config.read_text())["agent_id"])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await agents.revoke(s, await agents.get_agent(s, tenant.msp_id, tenant.practice.id, agent_id), SYSTEM)

    done = agent.run("heartbeat")

    assert done.returncode == 77, done.stderr
    assert "refused this agent's credential (401)" in done.stderr
    assert len((tmp_path / "state" / "spool.jsonl").read_text().splitlines()) == 1


async def test_restic_without_json_is_reported_with_its_size_files_and_snapshot(live_server, db, tenant, tmp_path):
    restic = require_program("restic", "apt-get install restic")
    job = await create_job(db, tenant.practice, "nightly-restic", site_id=tenant.site.id, tool="restic")
    agent = await enroll_agent(db, tenant.site, live_server.url, tmp_path)
    data = tmp_path / "practice-data"
    data.mkdir()
    (data / "schedule.csv").write_text("patient,slot\n" * 2000)
    env = {"RESTIC_REPOSITORY": str(tmp_path / "repo"), "RESTIC_PASSWORD": "test-only-password",
           "RESTIC_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([restic, "init"], check=True, capture_output=True, env={**env, "PATH": "/usr/bin:/bin"})

    done = agent.run("run", "--job", "nightly-restic", "--", restic, "backup", str(data), env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "snapshot" in done.stdout and "saved" in done.stdout  # restic's own words, as always
    assert await drain(db, tenant.msp_id) == 1
    run = await one(db, tenant.msp_id, "SELECT * FROM backup_run WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert run["status"] == "success" and run["files"] == 1
    assert abs(run["bytes"] - len("patient,slot\n" * 2000)) <= 1  # "25.391 KiB": restic's rounding
    assert run["snapshot_id"] and len(run["snapshot_id"]) == 8 and run["restore_point_at"] is not None
