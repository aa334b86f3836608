"""The demo agents enroll through the real API, push telemetry, and the worker turns it into visible state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from services.core.alerts import gather
from services.core.alerts import rules as R
from services.core.alerts.rules import AGENT_SILENT
from services.core.base import utcnow
from services.core.db import Scope
from services.core.readiness import service as readiness
from services.core.telemetry import agents as agent_list
from services.core.telemetry import deadman
from services.core.telemetry.processing import drain
from services.demo import SEEDERS
from services.demo.agents import HEARTBEAT_EVERY, DemoAgents
from services.demo.tenancy import demo_msp_id
from tests.factories_worker import rows


async def test_demo_agents_show_healthy_failing_flapping_and_silent_practices(live_server, db, tmp_path):
    for seeder in SEEDERS:
        await seeder(db)
    msp_id = await demo_msp_id(db)
    agents = DemoAgents(db, live_server.url, tmp_path / "demo-agents.json")
    await agents.run(asyncio.Event(), max_ticks=1)
    await drain(db, msp_id)

    hosts = await rows(db, msp_id, "SELECT hostname, last_seen_at, heartbeat_interval_seconds FROM agent WHERE msp_id = :m")
    assert hosts and all(h["hostname"].startswith("demo-agent-") for h in hosts)
    # Silence is judged by the interval the demo agents heartbeat at, which they say in each heartbeat.
    assert {h["heartbeat_interval_seconds"] for h in hosts if h["last_seen_at"]} == {int(HEARTBEAT_EVERY)}
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
    await _willow_creek_is_shown_silent_once_its_heartbeat_and_grace_have_passed(db, msp_id)
    await _no_backup_link_counts_as_untested_on_the_first_day(db, msp_id)

    # A restart reuses the same agents instead of enrolling new ones.
    again = DemoAgents(db, live_server.url, tmp_path / "demo-agents.json")
    await again.run(asyncio.Event(), max_ticks=1)
    assert len(await rows(db, msp_id, "SELECT id FROM agent WHERE msp_id = :m")) == len(hosts)


async def _willow_creek_is_shown_silent_once_its_heartbeat_and_grace_have_passed(db, msp_id):
    """Its agent enrolled and never reported. Once its interval plus grace has passed since it
    enrolled, the dead man's switch (every 20 s) marks it, and the one evaluation that opens the
    incident is the one readiness scores: both say so, and the agents list too."""
    async with db.transaction(Scope(msp_id)) as s:
        practice_id = await s.scalar(text("SELECT id FROM practice WHERE msp_id = :m AND name = 'Willow Creek Chiropractic'"),
                                     {"m": msp_id})
        agent_id = await s.scalar(text("SELECT id FROM agent WHERE msp_id = :m AND practice_id = :p"),
                                  {"m": msp_id, "p": practice_id})
        # The enrollment 12 minutes ago: the default heartbeat (1 min) plus grace (10 min) has passed.
        await s.execute(text("UPDATE agent SET created_at = now() - interval '12 minutes' WHERE msp_id = :m AND id = :a"),
                        {"m": msp_id, "a": agent_id})
    assert await deadman.sweep(db) >= 1
    await readiness.recompute_dirty(db)

    open_ = await rows(db, msp_id, "SELECT subject_id, title FROM incident WHERE msp_id = :m AND practice_id = :p"
                       " AND rule_id = :r AND resolved_at IS NULL", p=practice_id, r=AGENT_SILENT)
    assert [i["subject_id"] for i in open_] == [str(agent_id)]
    assert "never reported" in open_[0]["title"]
    async with db.transaction(Scope(msp_id)) as s:
        current = await readiness.current(s, msp_id, practice_id)
        listed = await agent_list.with_liveness(s, msp_id, await agent_list.list_agents(s, msp_id, practice_id=practice_id))
    charged = [f for f in current.findings if f["rule_id"] == AGENT_SILENT]
    # Charged like any finding: its points, or capped because Willow Creek's backups component is
    # already spent by its critical findings (docs/readiness.md).
    spent = current.components["backups"]["score"] == 0
    assert [(f["subject_id"], f["points"] > 0 or (f["capped"] and spent)) for f in charged] == [(str(agent_id), True)]
    assert [(a.id, a.silent) for a in listed] == [(agent_id, True)]


async def _no_backup_link_counts_as_untested_on_the_first_day(db, msp_id):
    """The demo's links were just added, so each backup link has its 30 days to be failed over to;
    a month on, every one still never failed over to would be flagged."""
    async with db.transaction(Scope(msp_id)) as s:
        ids = list((await s.execute(text("SELECT id FROM practice WHERE msp_id = :m AND active"), {"m": msp_id})).scalars())
        scored = await readiness.recompute(s, msp_id, ids)
        facts = await gather.load(s, msp_id, ids)
    assert [f for r in scored.values() for f in r.findings if f["rule_id"] == R.BACKUP_NOT_EXERCISED] == []
    backups = {link.id for p in facts.values() for link in p.links
               if link.role in ("backup", "hotspot") and link.on_backup_since is None}
    later = utcnow() + timedelta(days=31)
    check = R.get(R.BACKUP_NOT_EXERCISED).check
    flagged = {h.finding.subject_id for p in facts.values() for h in check(p, {"days": 30}, later)}
    assert backups and flagged == {str(i) for i in backups}
