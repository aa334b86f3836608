"""Real borgmatic, its Healthchecks hook pointed at Seawall's ping URL, backing up a directory."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import require_program
from tests.factories_inventory import create_job
from tests.factories_telemetry import ping_url
from services.core.telemetry.processing import drain
from tests.factories_worker import job_state, rows


async def test_borgmatic_reports_its_runs_through_the_ping_api(live_server, db, tenant, tmp_path):
    borgmatic = require_program("borgmatic", "apt-get install borgmatic")
    job = await create_job(db, tenant.practice, "borgmatic-nightly", tool="borg")
    url = live_server.url + await ping_url(db, job)
    source = tmp_path / "documents"
    source.mkdir()
    (source / "intake-forms.txt").write_text("form\n" * 500)
    config = tmp_path / "borgmatic.yaml"
    config.write_text(f"""
location:
    source_directories:
        - {source}
    repositories:
        - {tmp_path / 'repo'}
storage:
    encryption_passphrase: ""
retention:
    keep_daily: 7
hooks:
    healthchecks:
        ping_url: {url}
""")
    env = {**os.environ, "BORG_BASE_DIR": str(tmp_path / "borg"), "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}
    for args in (["init", "--encryption", "none"], *[["--verbosity", "1", "--monitoring-verbosity", "1"]] * 2):
        done = subprocess.run([borgmatic, "--config", str(config), *args], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    assert await drain(db, tenant.msp_id) >= 4  # a start and a finish per run (init pings nothing)
    runs = await rows(db, tenant.msp_id, "SELECT status, source, started_at, finished_at, duration_seconds, log_tail"
                      " FROM backup_run WHERE msp_id = :m AND backup_job_id = :j ORDER BY finished_at", j=job.id)
    assert len(runs) == 2
    for run in runs:
        assert run["status"] == "success" and run["source"] == "ping"
        assert run["started_at"] is not None and 0 <= run["duration_seconds"] < 120  # the /start paired with the success
        assert run["log_tail"]  # borgmatic posts its log with the success ping
    state = await job_state(db, tenant.msp_id, job.id)
    assert state["last_status"] == "success" and state["last_restore_point_at"] == runs[-1]["started_at"]
    assert state["running_since"] is None
