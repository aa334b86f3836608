"""Mass incident changes: one evaluation that opens, then one that resolves, every incident of a chunk of practices.

    .venv/bin/python bench/incident_bench.py [--rounds 5] [--agents 125]

An evaluation holds its practices' incident locks (locks.lock_practices), and a telemetry batch
of those practices that needs rules evaluated waits for them; so the evaluations that move many
incidents at once set how long an MSP's telemetry can stall: a new MSP's first evaluation (every
condition of every practice starts at once), an outage that ends, a policy change. worker_bench.py
meets them only by chance (the first one falls in its warm-up); this one measures them directly.

Per round, a fresh MSP seeded as worker_bench.py does (--agents agents, five per practice, two links
and a backup job each: with the default 125, 25 practices, the periodic pass's chunk), with one
email channel routed for every severity and urgency and the policy set to resolve at the first clear
evaluation; then ANALYZE, so that every round plans alike. Then, in process, each timed as one
transaction:
1. open: `evaluate_practices` with plan findings, over every practice: every incident opens and is
   notified (with no telemetry yet, each job has missed its RPO and each agent is silent);
2. resolve: every rule disabled in the MSP policy, the same evaluation again: every incident clears
   and resolves, and a resolve message goes to the channel that heard of it.
It prints wall and this process's CPU ms per evaluation and the rows written (incidents, timeline
events, outbox rows), which must match between versions compared. Not a test: the figures go to
docs/performance.md; compare versions back to back (`git worktree add`, PYTHONPATH set to it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import worker_bench  # noqa: E402


async def measure(owner_url: str, app_url: str, rounds: int, agents: int) -> dict:
    from sqlalchemy import func, select, update

    import services.core.models  # noqa: F401  (every table, so relationships between domains resolve)
    from services.core.alerts.evaluate import evaluate_practices
    from services.core.alerts.models import (AlertPolicy, Incident, IncidentEvent, NotificationChannel, NotificationOutbox,
                                             NotificationRoute)
    from services.core.alerts.policy import get_or_create_policy
    from services.core.base import utcnow
    from services.core.db import Database, Scope

    world = await worker_bench.seed(app_url, rounds, agents)
    # Statistics that count the seeded MSPs, so that every round plans alike: otherwise autovacuum's
    # ANALYZE lands between two rounds in one run and not in another.
    worker_bench.analyze(owner_url)
    db = Database.connect(app_url, pool_size=2)
    # As the worker does at start (services/core/heap.py): the collector's full passes over the
    # seeding's objects would land in whichever evaluation happened to trigger them.
    gc.collect()
    gc.freeze()
    out: dict[str, list] = {"open_ms": [], "resolve_ms": [], "rows": []}
    try:
        for msp_id, seeded in world.items():
            practices = sorted({a[1] for a in seeded})
            async with db.transaction(Scope(msp_id)) as s:
                channel = NotificationChannel(msp_id=msp_id, name="on call", kind="email", config={"to": ["oncall@example.test"]})
                s.add(channel)
                await s.flush()
                s.add(NotificationRoute(msp_id=msp_id, channel_id=channel.id, min_severity="low", include_low_urgency=True))
                await get_or_create_policy(s, msp_id)
                await s.execute(update(AlertPolicy).where(AlertPolicy.msp_id == msp_id)
                                .values(resolve_after_minutes=0, resolve_after_evaluations=1))
            for step in ("open", "resolve"):
                if step == "resolve":
                    async with db.transaction(Scope(msp_id)) as s:
                        rules = set((await s.scalars(select(Incident.rule_id).where(Incident.msp_id == msp_id))).all())
                        await s.execute(update(AlertPolicy).where(AlertPolicy.msp_id == msp_id)
                                        .values(rules={r: {"enabled": False} for r in rules}))
                now = utcnow()
                wall, cpu = time.perf_counter(), time.thread_time()
                async with db.transaction(Scope(msp_id)) as s:
                    await evaluate_practices(s, msp_id, practices, now, include_findings=True)
                out[f"{step}_ms"].append({"wall": round((time.perf_counter() - wall) * 1000),
                                          "cpu": round((time.thread_time() - cpu) * 1000)})
            async with db.transaction(Scope(msp_id)) as s:
                counts = []
                for model in (Incident, IncidentEvent, NotificationOutbox):
                    counts.append(await s.scalar(select(func.count()).select_from(model).where(model.msp_id == msp_id)))
                resolved = await s.scalar(select(func.count()).select_from(Incident).where(
                    Incident.msp_id == msp_id, Incident.resolved_at.is_not(None)))
            out["rows"].append({"incidents": counts[0], "resolved": resolved, "timeline_events": counts[1], "outbox": counts[2]})
    finally:
        await db.dispose()
    return {"practices_per_evaluation": max(1, agents // 5), **out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="fresh MSPs, one open and one resolve evaluation each")
    parser.add_argument("--agents", type=int, default=125, help="agents per MSP (five per practice)")
    args = parser.parse_args()

    from embedded_db import embedded_database
    from services.core.database_server import libpq

    with embedded_database("seawall-incident-bench-") as db:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print(f"# incident benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} CPUs,"
              f" Python {platform.python_version()}, load average at start {load}", flush=True)
        print(json.dumps(asyncio.run(measure(libpq(db.owner), db.app, args.rounds, args.agents)), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
