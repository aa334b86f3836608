"""Worker benchmark: processing lag at a sustained rate, and backlog drain with 1 and 2 worker processes.

    .venv/bin/python bench/worker_bench.py [--rate 5000] [--seconds 60] [--backlog 200000] [--workers 1 2]

Creates a throw-away embedded PostgreSQL under a temp dir, migrates it and seeds --msps MSPs with
--agents agents each (two links and a backup job per agent). Then, per worker count:

1. sustained: starts N real `seawall worker` processes and records events into the inbox at
   --rate events/s for --seconds (chunks every 50 ms, one transaction and one pg_notify per MSP
   per chunk, as the API does); the mix is about 2/3 link samples, 1/3 heartbeats, 1 % backup
   runs. Lag = processed_at − received_at of each event (recorded → state updated, hooks run,
   batch marked; commit follows within milliseconds), first 5 s excluded as warm-up.
2. drain: stops the workers, records a backlog of --backlog events spread over the MSPs, starts
   N workers and measures how fast the backlog empties (events / (last processed − first processed),
   and the wall time including process start-up).

Events are written straight into telemetry_event (the ingest API is benchmarked by
bench/ingest_bench.py); everything else is the production code path. Not a test: the figures go
to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

INSERT = (
    "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)"
    " SELECT %s, * FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::uuid[], %s::text[], %s::timestamptz[], %s::jsonb[])"
)


class World:
    """The seeded MSPs: per MSP a list of agents (agent, practice, site, links, job)."""

    def __init__(self, msps: dict[uuid.UUID, list[tuple]]) -> None:
        self.msps = msps
        self.rng = random.Random(7)
        self.counter = 0

    def events(self, msp_id: uuid.UUID, n: int, now: datetime) -> list[tuple]:
        rows = []
        agents = self.msps[msp_id]
        for _ in range(n):
            agent, practice, site, links, job = agents[self.rng.randrange(len(agents))]
            self.counter += 1
            roll = self.rng.random()
            if roll < 0.01:
                started = now - timedelta(minutes=30)
                kind, payload = "backup_run", {"job_id": str(job), "status": "success" if roll > 0.001 else "failed",
                                               "started_at": started.isoformat(), "finished_at": now.isoformat(),
                                               "bytes": self.rng.randint(10**9, 10**11), "restore_point_at": started.isoformat(),
                                               "verified": True}
            elif roll < 0.34:
                kind, payload = "heartbeat", {"agent_version": "0.1.0"}
            else:
                kind, payload = "link_sample", {"link_id": str(links[self.rng.randrange(2)]), "up": self.rng.random() > 0.02,
                                                "latency_ms": round(self.rng.uniform(5, 60), 1), "loss_pct": 0.0,
                                                "jitter_ms": round(self.rng.uniform(0, 5), 1)}
            # Agents report in order: each event a little later than the one before it.
            rows.append((agent, f"b{self.counter}", practice, site, kind, now + timedelta(microseconds=len(rows)),
                         json.dumps(payload)))
        return rows


def record(conn: psycopg.Connection, world: World, per_msp: dict[uuid.UUID, int], notify: bool = True) -> None:
    now = datetime.now(timezone.utc)
    with conn.transaction():
        for msp_id, n in per_msp.items():
            if not n:
                continue
            rows = world.events(msp_id, n, now)
            conn.execute(INSERT, (msp_id, *map(list, zip(*rows))))
            if notify:
                conn.execute("SELECT pg_notify('seawall_telemetry', %s)", (str(msp_id),))


async def seed(app_url: str, msps: int, agents: int) -> dict[uuid.UUID, list[tuple]]:
    from services.core.db import Database, Scope
    from services.core.identity.service import create_msp
    from services.core.inventory.models import BackupJob, Link
    from services.core.practices.models import Practice, Site
    from services.core.telemetry import agents as agent_service

    db = Database.connect(app_url, pool_size=2)
    world: dict[uuid.UUID, list[tuple]] = {}
    for m in range(msps):
        async with db.transaction() as s:
            msp, _ = await create_msp(s, f"Bench MSP {m} {uuid.uuid4().hex[:6]}", f"bench-{uuid.uuid4().hex[:8]}@example.test")
            msp_id = msp.id
        async with db.transaction(Scope(msp_id)) as s:
            rows = []
            for p in range(max(1, agents // 5)):
                practice = Practice(msp_id=msp_id, name=f"Practice {p}")
                s.add(practice)
                await s.flush()
                for a in range(5):
                    site = Site(msp_id=msp_id, practice_id=practice.id, name=f"Site {a}")
                    s.add(site)
                    await s.flush()
                    links = [Link(msp_id=msp_id, practice_id=practice.id, site_id=site.id, name=n, role=r)
                             for n, r in (("Fiber", "primary"), ("LTE", "backup"))]
                    job = BackupJob(msp_id=msp_id, practice_id=practice.id, site_id=site.id, name=f"job {a}", location="onsite")
                    s.add_all([*links, job])
                    await s.flush()
                    agent, _ = await agent_service.create_agent(s, msp_id, practice.id, site.id, hostname=f"pc{a}",
                                                                agent_version="bench", enrolled_by=None)
                    rows.append((agent.id, practice.id, site.id, [links[0].id, links[1].id], job.id))
            world[msp_id] = rows
    await db.dispose()
    return world


def start_workers(owner_url: str, n: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": owner_url, "SEAWALL_ENVIRONMENT": "development", "SEAWALL_LOG_LEVEL": "WARNING"}
    return [subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--concurrency", "2"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, start_new_session=True) for _ in range(n)]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM telemetry_event WHERE processed_at IS NULL").fetchone()[0]


def wait_drained(conn: psycopg.Connection, timeout: float) -> float:
    started = time.monotonic()
    while pending(conn):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not drained after {timeout:.0f} s ({pending(conn)} pending)")
        time.sleep(0.1)
    return time.monotonic() - started


def sustained(conn: psycopg.Connection, world: World, owner_url: str, workers: int, rate: int, seconds: float) -> dict:
    procs = start_workers(owner_url, workers)
    time.sleep(4)  # start-up: imports, partition upkeep, LISTEN
    msps = list(world.msps)
    tick = 0.05
    per_tick = rate * tick
    t0 = time.monotonic()
    start_ts = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    sent, carry, next_at = 0, 0.0, t0
    behind = 0.0
    while time.monotonic() - t0 < seconds:
        carry += per_tick
        n = int(carry)
        carry -= n
        per_msp = {m: 0 for m in msps}
        for i in range(n):
            per_msp[msps[(sent + i) % len(msps)]] += 1
        record(conn, world, per_msp)
        sent += n
        next_at += tick
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            behind = max(behind, -delay)
    elapsed = time.monotonic() - t0
    drain_after = wait_drained(conn, 600)
    stop_workers(procs)
    p50, p99, pmax, n = conn.execute(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag), count(*)"
        " FROM (SELECT extract(epoch FROM processed_at - received_at) * 1000 AS lag FROM telemetry_event"
        "  WHERE received_at >= %s + interval '5 seconds') x", (start_ts,)).fetchone()
    conn.execute("UPDATE telemetry_event SET received_at = received_at - interval '1 day' WHERE received_at >= %s", (start_ts,))
    return {"offered_events_per_s": round(sent / elapsed), "generator_max_behind_ms": round(behind * 1000),
            "lag_p50_ms": round(float(p50), 1), "lag_p99_ms": round(float(p99), 1), "lag_max_ms": round(float(pmax), 1),
            "measured_events": n,
            "left_pending_at_end_drained_in_s": round(drain_after, 2)}


def drain(conn: psycopg.Connection, world: World, owner_url: str, workers: int, backlog: int) -> dict:
    msps = list(world.msps)
    chunk = 10_000
    for start in range(0, backlog, chunk):
        n = min(chunk, backlog - start)
        record(conn, world, {m: n // len(msps) + (1 if i < n % len(msps) else 0) for i, m in enumerate(msps)}, notify=False)
    mark = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    t0 = time.monotonic()
    procs = start_workers(owner_url, workers)
    wall = wait_drained(conn, 1800)
    stop_workers(procs)
    first, last, n = conn.execute("SELECT min(processed_at), max(processed_at), count(*) FROM telemetry_event"
                                  " WHERE processed_at >= %s", (mark,)).fetchone()
    span = (last - first).total_seconds()
    return {"backlog": backlog, "events_per_s": round(n / span) if span else None, "processing_span_s": round(span, 2),
            "wall_s_including_startup": round(wall if wall else time.monotonic() - t0, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backlog", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--msps", type=int, default=20)
    parser.add_argument("--agents", type=int, default=25, help="agents per MSP")
    parser.add_argument("--skip-sustained", action="store_true")
    args = parser.parse_args()

    import pgserver

    from services.core import migrate
    from services.core.database_server import app_url_for, libpq, to_psycopg
    from services.core.settings import get_settings

    tmp = Path(tempfile.mkdtemp(prefix="seawall-worker-bench-"))
    (tmp / "run").mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp / "run")
    server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
    owner = to_psycopg(server.get_uri())
    app = app_url_for(owner, get_settings())
    migrate.upgrade(owner, app)
    world = World(asyncio.run(seed(app, args.msps, args.agents)))
    print(f"# worker benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} CPUs,"
          f" Python {platform.python_version()}, {args.msps} MSPs × {args.agents} agents", flush=True)
    results = {}
    with psycopg.connect(libpq(owner), autocommit=True) as conn:
        for n in args.workers:
            if not args.skip_sustained:
                results[f"sustained {args.rate}/s, {n} worker(s)"] = sustained(conn, world, libpq(owner), n, args.rate, args.seconds)
                print(json.dumps(results, indent=2), flush=True)
            results[f"drain, {n} worker(s)"] = drain(conn, world, libpq(owner), n, args.backlog)
            print(json.dumps(results, indent=2), flush=True)
    server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
