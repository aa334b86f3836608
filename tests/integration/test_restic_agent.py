"""Real restic, wrapped by the real agent, reported to the real API, processed by the worker."""

from __future__ import annotations

import subprocess

import pytest

from services.core.base import utcnow
from services.core.db import Scope
from services.core.telemetry import recovery
from services.core.telemetry.processing import drain
from tests.conftest import require_program
from tests.factories_inventory import create_job, create_system
from tests.factories_worker import job_state, one
from tests.integration.conftest import enroll_agent


async def test_a_restic_backup_run_through_the_agent_appears_with_bytes_and_snapshot_time(live_server, db, tenant, tmp_path):
    restic = require_program("restic", "apt-get install restic")
    ehr = await create_system(db, tenant.practice, "EHR", rpo_minutes=60, requires_offsite_copy=False)
    job = await create_job(db, tenant.practice, "nightly-restic", systems=[ehr], location="onsite", tool="restic")
    agent = await enroll_agent(db, tenant.site, live_server.url, tmp_path)

    data = tmp_path / "practice-data"
    data.mkdir()
    (data / "schedule.csv").write_text("patient,slot\n" * 2000)
    env = {"RESTIC_REPOSITORY": str(tmp_path / "repo"), "RESTIC_PASSWORD": "test-only-password"}
    subprocess.run([restic, "init"], check=True, capture_output=True, env={**env, "PATH": "/usr/bin:/bin"})
    before = utcnow()
    done = agent.run("run", "--job", "nightly-restic", "--", restic, "backup", str(data), "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr

    assert await drain(db, tenant.msp_id) == 1
    run = await one(db, tenant.msp_id, "SELECT * FROM backup_run WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert run["status"] == "success" and run["source"] == "agent" and run["exit_code"] == 0
    assert run["bytes"] == len("patient,slot\n" * 2000) and run["files"] == 1
    assert run["snapshot_id"] and run["restore_point_at"] >= before.replace(microsecond=0)
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["last_restore_point_at"] == run["restore_point_at"] and state["last_bytes"] == run["bytes"]

    async with db.transaction(Scope(tenant.msp_id)) as s:
        (ehr_recovery,) = await recovery.system_recovery(s, tenant.msp_id, tenant.practice.id, utcnow())
    assert ehr_recovery.achieved_onsite_rpo_minutes == pytest.approx(0, abs=2)
    assert ehr_recovery.rpo_compliant is True
