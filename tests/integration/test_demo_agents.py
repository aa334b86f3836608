"""The demo agents enroll through the real API, push telemetry, and the worker turns it into visible state."""

from __future__ import annotations

import asyncio

from services.core.telemetry.processing import drain
from services.demo import SEEDERS
from services.demo.agents import DemoAgents
from services.demo.tenancy import demo_msp_id
from tests.factories_worker import rows


async def test_demo_agents_show_healthy_failing_flapping_and_silent_practices(live_server, db, tmp_path):
    for seeder in SEEDERS:
        await seeder(db)
    msp_id = await demo_msp_id(db)
    agents = DemoAgents(db, live_server.url, tmp_path / "demo-agents.json")
    await agents.run(asyncio.Event(), max_ticks=1)
    await drain(db, msp_id)

    hosts = await rows(db, msp_id, "SELECT hostname, last_seen_at FROM agent WHERE msp_id = :m")
    assert hosts and all(h["hostname"].startswith("demo-agent-") for h in hosts)
    assert len(hosts) == len(agents.credentials) and (tmp_path / "demo-agents.json").stat().st_mode & 0o077 == 0
    jobs = {r["name"]: r for r in await rows(db, msp_id, (
        "SELECT p.name || ' / ' || j.name AS name, s.last_status, s.last_log_tail, s.running_since FROM backup_job j"
        " JOIN practice p ON p.msp_id = j.msp_id AND p.id = j.practice_id"
        " LEFT JOIN backup_job_state s ON s.msp_id = j.msp_id AND s.backup_job_id = j.id WHERE j.msp_id = :m"))}
    assert jobs["Maple Pediatrics / Nightly NAS backup"]["last_status"] == "failed"
    assert "demo" in jobs["Maple Pediatrics / Nightly NAS backup"]["last_log_tail"]
    assert jobs["Bayside Family Clinic / Nightly NAS backup"]["last_status"] == "success"
    assert jobs["Summit Orthopedics / Wasabi off-site copy"]["last_status"] is None  # never reports
    assert jobs["Lakeshore Eye Care / Nightly NAS backup"]["running_since"] is not None  # Veeam /start ping
    silent = await rows(db, msp_id, "SELECT a.last_seen_at FROM agent a JOIN practice p ON p.id = a.practice_id"
                        " WHERE a.msp_id = :m AND p.name = 'Willow Creek Chiropractic'")
    assert silent == [{"last_seen_at": None}]

    # A restart reuses the same agents instead of enrolling new ones.
    again = DemoAgents(db, live_server.url, tmp_path / "demo-agents.json")
    await again.run(asyncio.Event(), max_ticks=1)
    assert len(await rows(db, msp_id, "SELECT id FROM agent WHERE msp_id = :m")) == len(hosts)
