"""Ping benchmark: the worker's processed pings per second, round after round, on top of a long ping history.

    .venv/bin/python bench/ping_bench.py [--jobs 1000] [--history-hours 72] [--rounds 5] [--pings-per-job 24]

Healthchecks-style pings are cheap to take in and must stay cheap to apply however long a job has
been pinging: a job pinging every minute holds 4,320 pings in 72 hours. Creates a throw-away
embedded PostgreSQL, migrates it, and seeds one MSP with --jobs backup jobs (20 per practice, one
site each) and, set-based in SQL, --history-hours of one ping a minute per job (a /start, then its
success, alternately) as the worker and autovacuum would have left it: processed inbox rows, the runs they made and,
where the schema has it, the job's ping timeline (ping_step). Then VACUUM ANALYZE, one real `seawall worker`
process, and --rounds rounds: each records --pings-per-job pings per job into the inbox in one
transaction, the way the ping API stores them (start, a /log line, success; start, log, exit code 0),
notifies the worker and times it from that commit until nothing is pending. A round's figure is its
pings over that time (the worker's first batch starts within a few milliseconds of the notify).

The goal (issue 26 #11): flat — the last round at least 90 % of the first — and ≥ 2,000 pings/s.
To measure the code before a change, run this file with SEAWALL_CODE set to that tree (its own
bench/ helpers and worker are used; a tree without ping_step seeds no timeline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(os.environ.get("SEAWALL_CODE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

JOBS_PER_PRACTICE = 20
# Healthy traffic: a failure would open an incident per job, and measure the alerts engine instead.
ROUND_PATTERN = (("start", None), ("log", None), ("success", None), ("start", None), ("log", None), ("success", 0))


async def seed_jobs(app_url: str, jobs: int) -> str:
    """The MSP, its practices, sites and backup jobs (the ORM, as the app creates them); its id."""
    import uuid

    from services.core.db import Database, Scope
    from services.core.identity.service import create_msp
    from services.core.inventory.models import BackupJob
    from services.core.practices.models import Practice, Site

    db = Database.connect(app_url, pool_size=1)
    try:
        async with db.transaction() as s:
            msp, _ = await create_msp(s, f"Ping bench {uuid.uuid4().hex[:6]}", f"ping-{uuid.uuid4().hex[:8]}@example.test")
            msp_id = msp.id
        async with db.transaction(Scope(msp_id)) as s:
            for p in range((jobs + JOBS_PER_PRACTICE - 1) // JOBS_PER_PRACTICE):
                practice = Practice(msp_id=msp_id, name=f"Practice {p}")
                s.add(practice)
                await s.flush()
                site = Site(msp_id=msp_id, practice_id=practice.id, name="Main office")
                s.add(site)
                await s.flush()
                s.add_all([BackupJob(msp_id=msp_id, practice_id=practice.id, site_id=site.id, name=f"job {j}", location="onsite")
                           for j in range(min(JOBS_PER_PRACTICE, jobs - p * JOBS_PER_PRACTICE))])
    finally:
        await db.dispose()
    return str(msp_id)


# One ping a minute per job, ending a minute ago: even minutes a /start, odd ones its success.
HISTORY = """
CREATE TEMP TABLE h AS
SELECT j.msp_id, j.id AS job, j.practice_id, j.site_id, md5(j.id::text || ':' || g) AS event_id,
       now() - interval '1 minute' - (%(n)s - 1 - g) * interval '1 minute' AS at,
       CASE WHEN g %% 2 = 0 THEN 'start' ELSE 'success' END AS kind
FROM backup_job j CROSS JOIN generate_series(0, %(n)s - 1) g WHERE j.msp_id = %(msp)s;
INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, received_at, payload, processed_at)
SELECT msp_id, job, event_id, practice_id, site_id, 'ping', at, at,
       jsonb_build_object('job_id', job, 'kind', kind, 'body', 'ok', 'user_agent', 'bench'), at FROM h;
INSERT INTO backup_run (msp_id, id, run_at, practice_id, backup_job_id, run_key, source, status, started_at, finished_at,
                        duration_seconds, restore_point_at, log_tail, report_event_id, reported_at)
SELECT msp_id, gen_random_uuid(), at, practice_id, job, 'ping:' || event_id, 'ping', 'success', at - interval '1 minute', at,
       60, at - interval '1 minute', 'ok' || chr(10) || 'ok', event_id, at FROM h WHERE kind = 'success';
"""
TIMELINE = """
INSERT INTO ping_step (msp_id, backup_job_id, run_id, boundary, at, rank, event_id, practice_id, kind, exit_code, body)
SELECT msp_id, job, '', true, at, CASE WHEN kind = 'start' THEN 0 ELSE 1 END, event_id, practice_id, kind, NULL, 'ok' FROM h;
"""

RECORD = """
INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)
SELECT %(msp)s, j.id, md5(random()::text || clock_timestamp()::text || j.id::text || p.i), j.practice_id, j.site_id, 'ping',
       now() + p.i * interval '1 millisecond',
       jsonb_build_object('job_id', j.id, 'kind', p.kind, 'body', 'bench ' || p.kind, 'user_agent', 'bench')
         || CASE WHEN p.code IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('exit_code', p.code) END
FROM backup_job j CROSS JOIN unnest(%(kinds)s::text[], %(codes)s::int[]) WITH ORDINALITY AS p(kind, code, i)
WHERE j.msp_id = %(msp)s ORDER BY p.i, j.id
"""


def seed_history(owner_url: str, msp_id: str, hours: float) -> dict:
    started = time.monotonic()
    n = int(hours * 60)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        with conn.transaction():
            for statement in HISTORY.split(";")[:-1]:
                conn.execute(statement, {"n": n, "msp": msp_id})
            timeline = conn.execute("SELECT to_regclass('ping_step') IS NOT NULL").fetchone()[0]
            if timeline:
                conn.execute(TIMELINE)
        # As autovacuum would have left tables this old; otherwise it vacuums them during the rounds.
        conn.execute("VACUUM ANALYZE")
        pings = conn.execute("SELECT count(*) FROM telemetry_event WHERE type = 'ping'").fetchone()[0]
    return {"history_pings": pings, "per_job": n, "timeline": timeline, "seconds": round(time.monotonic() - started, 1)}


def start_worker(owner_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": owner_url, "SEAWALL_ENVIRONMENT": "development", "SEAWALL_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--concurrency", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)


def stop_worker(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def one_round(conn: psycopg.Connection, msp_id: str, pattern: tuple, timeout: float = 1800) -> dict:
    kinds, codes = [k for k, _ in pattern], [c for _, c in pattern]
    with conn.transaction():
        n = conn.execute(RECORD, {"msp": msp_id, "kinds": kinds, "codes": codes}).rowcount
        conn.execute("SELECT pg_notify('seawall_telemetry', %s)", (msp_id,))
    started = time.monotonic()
    while conn.execute("SELECT EXISTS (SELECT 1 FROM telemetry_event WHERE processed_at IS NULL)").fetchone()[0]:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"round not drained after {timeout:.0f} s")
        time.sleep(0.02)
    seconds = time.monotonic() - started
    return {"pings": n, "seconds": round(seconds, 2), "pings_per_s": round(n / seconds)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--history-hours", type=float, default=72.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pings-per-job", type=int, default=4 * len(ROUND_PATTERN), help="per round (cycles start, log, finish)")
    args = parser.parse_args()

    import asyncio

    from embedded_db import embedded_database
    from services.core.database_server import libpq

    pattern = tuple(ROUND_PATTERN[i % len(ROUND_PATTERN)] for i in range(args.pings_per_job))
    with embedded_database("seawall-ping-bench-") as db:
        owner = libpq(db.owner)
        msp_id = asyncio.run(seed_jobs(db.app, args.jobs))
        seeded = seed_history(owner, msp_id, args.history_hours)
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print(f"# ping benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} CPUs,"
              f" Python {platform.python_version()}, load average {load}; code {ROOT}; {args.jobs} jobs, history {seeded}",
              flush=True)
        proc = start_worker(owner)
        try:
            with psycopg.connect(owner, autocommit=True) as conn:
                one_round(conn, msp_id, (("success", None),))  # the worker is up and its statements prepared
                since = conn.execute("SELECT now()").fetchone()[0]
                rounds = []
                for r in range(args.rounds):
                    rounds.append(one_round(conn, msp_id, pattern))
                    print(f"round {r + 1}: {json.dumps(rounds[-1])}", flush=True)
                # Every finish made a run, and every finish after a start in its round is paired with it.
                made, paired = conn.execute("SELECT count(*), count(started_at) FROM backup_run WHERE run_at > %s",
                                            (since,)).fetchone()
                finishes = args.rounds * args.jobs * sum(k in ("success", "fail") for k, _ in pattern)
                if made != finishes or paired != finishes:
                    raise SystemExit(f"expected {finishes} runs, all paired; found {made}, {paired} paired")
        finally:
            stop_worker(proc)
        first, last = rounds[0]["pings_per_s"], rounds[-1]["pings_per_s"]
        slowest = min(r["pings_per_s"] for r in rounds)
        print(json.dumps({"last_over_first": round(last / first, 3), "slowest_pings_per_s": slowest,
                          "flat": last >= 0.9 * first, "at_least_2000_per_s": slowest >= 2000}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
