"""Readiness benchmark: a generated MSP of 1,000 practices with 90 days of history.

    .venv/bin/python bench/readiness_bench.py [--practices 1000] [--requests 200]

Creates a throw-away embedded PostgreSQL, migrates it, and generates with set-based SQL (as the
owner) one MSP whose practices each have 3 sites, 10 systems, 20 backup jobs (an on-site and a
cloud job per system), 2 internet links (primary and backup at the first site), an agent, current
backup and link state, 90 days of backup runs (one per job and day), 90 days of link aggregates
(5-minute buckets for the last 2 days, one bucket per hour before that), 90 days of readiness
snapshots, restore tests, and open incidents at one practice in ten. Then it measures:

* each finding source alone over every practice (with a statement timeout), then the readiness
  recomputation of every practice (the worker's hourly pass, in this process) with the sources
  that finished;
* `GET /api/v1/portfolio` first page and `GET /api/v1/practices/{id}/dashboard` (random practices)
  against the real API (`uvicorn services.api.main:app`, one process), sequential requests with an
  API token, p50/p95/p99;
* the API process's resident memory after the requests.

The client's own heap is frozen (`gc.freeze()`) before the timed requests: this process has
generated the data and recomputed readiness, and a full collection of its heap in the middle of
a timed request would be charged to the API. The API process is not touched (it freezes its own
start-up heap, services/api/app.py). The API's per-request GC pauses were the portfolio's
slow tail in the runs before 2026-11-23: one full collection every ~13 requests, ~120 ms each.

Not a test: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GENERATE = """
INSERT INTO practice (msp_id, id, created_at, name, kind, timezone, active)
SELECT :msp, gen_random_uuid(), now(), 'Practice ' || lpad(i::text, 4, '0'), (ARRAY['clinic','dental','physio'])[1 + i % 3],
       'America/New_York', true FROM generate_series(1, :n) i;
CREATE TEMP TABLE bp AS SELECT id, row_number() OVER (ORDER BY name) AS i FROM practice WHERE msp_id = :msp;
INSERT INTO site (msp_id, id, created_at, practice_id, name)
SELECT :msp, gen_random_uuid(), now(), bp.id, 'Site ' || s FROM bp, generate_series(1, 3) s;
INSERT INTO system (msp_id, id, created_at, practice_id, name, category, tier, holds_ephi, rto_minutes, rpo_minutes, mtd_minutes,
                    requires_onsite_copy, requires_offsite_copy, owner, recovery_procedure)
SELECT :msp, gen_random_uuid(), now(), bp.id, 'System ' || k, 'other', 1 + k % 4, k <= 3, 240, 1440, 480, true, true, '', ''
FROM bp, generate_series(1, 10) k;
INSERT INTO backup_job (msp_id, id, created_at, practice_id, site_id, name, location, tool, schedule, expected_interval_minutes,
                        encrypted, immutable, verifies, provider, baa_on_file)
SELECT :msp, gen_random_uuid(), now(), sy.practice_id,
       (SELECT id FROM site WHERE msp_id = :msp AND practice_id = sy.practice_id ORDER BY name LIMIT 1),
       sy.name || ' ' || loc, loc, 'restic', '0 1 * * *', 1440, true, loc = 'cloud', false, 'Wasabi', true
FROM system sy, (VALUES ('onsite'), ('cloud')) l(loc) WHERE sy.msp_id = :msp;
INSERT INTO backup_job_system (msp_id, backup_job_id, system_id, practice_id)
SELECT :msp, j.id, sy.id, j.practice_id FROM backup_job j JOIN system sy ON sy.msp_id = j.msp_id AND sy.practice_id = j.practice_id
 AND j.name IN (sy.name || ' onsite', sy.name || ' cloud') WHERE j.msp_id = :msp;
INSERT INTO link (msp_id, id, created_at, practice_id, site_id, name, isp, medium, role, metered, loss_threshold_pct,
                  latency_threshold_ms, jitter_threshold_ms)
SELECT :msp, gen_random_uuid(), now(), s.practice_id, s.id, r, 'ISP', 'fiber', r, false, 2, 150, 30
FROM site s, (VALUES ('primary'), ('backup')) x(r) WHERE s.msp_id = :msp AND s.name = 'Site 1';
INSERT INTO agent (msp_id, id, created_at, practice_id, site_id, hostname, agent_version, credential_hash, last_seen_at,
                   heartbeat_interval_seconds)
SELECT :msp, gen_random_uuid(), now(), s.practice_id, s.id, 'nas-' || left(s.practice_id::text, 8), '1.0',
       decode(md5(s.id::text), 'hex'), now() - interval '30 seconds', 60 FROM site s WHERE s.msp_id = :msp AND s.name = 'Site 1';
INSERT INTO backup_job_state (msp_id, backup_job_id, practice_id, last_run_at, last_status, last_success_at,
                              last_restore_point_at, consecutive_failures, last_duration_seconds, last_bytes,
                              baseline_duration_seconds, baseline_bytes, updated_at)
SELECT :msp, j.id, j.practice_id, now() - interval '3 hours',
       CASE WHEN bp.i % 17 = 0 THEN 'failed' ELSE 'success' END, now() - interval '3 hours',
       now() - CASE WHEN bp.i % 7 = 0 THEN interval '30 hours' ELSE interval '3 hours' END,
       CASE WHEN bp.i % 17 = 0 THEN 4 ELSE 0 END, 600, 1e9, 600, 1e9, now()
FROM backup_job j JOIN bp ON bp.id = j.practice_id WHERE j.msp_id = :msp;
INSERT INTO link_state (msp_id, link_id, practice_id, site_id, up, state_since, last_sample_at, loss_pct, latency_ms, jitter_ms,
                        flaps_last_hour, transitions, updated_at)
SELECT :msp, l.id, l.practice_id, l.site_id, NOT (bp.i % 13 = 0 AND l.role = 'primary'), now() - interval '1 day', now(),
       0.1, 20 + bp.i % 40, 2, 0, '{}', now() FROM link l JOIN bp ON bp.id = l.practice_id WHERE l.msp_id = :msp;
INSERT INTO backup_run (msp_id, id, created_at, run_at, practice_id, backup_job_id, run_key, source, status, started_at, finished_at,
                        duration_seconds, bytes, restore_point_at, verified, report_event_id, reported_at)
SELECT :msp, gen_random_uuid(), now(), d, j.practice_id, j.id, d::text, 'agent', 'success', d, d + interval '10 minutes', 600, 1e9,
       d, null, md5(j.id::text || d::text), d + interval '10 minutes'
FROM backup_job j, generate_series(date_trunc('day', now()) - interval '89 days' + interval '1 hour',
                                   date_trunc('day', now()) - interval '1 day' + interval '1 hour', interval '1 day') d
WHERE j.msp_id = :msp;
INSERT INTO restore_test (msp_id, id, created_at, started_at, practice_id, backup_job_id, system_id, finished_at, duration_seconds,
                          success, source_id, report_event_id)
SELECT :msp, gen_random_uuid(), now(), now() - interval '20 days', sy.practice_id, null, sy.id, now() - interval '20 days' + interval '1 hour',
       3600, true, sy.id, md5(sy.id::text) FROM system sy WHERE sy.msp_id = :msp AND sy.holds_ephi;
INSERT INTO link_sample_5m (msp_id, link_id, bucket, practice_id, site_id, samples, up_samples, latency_sum, latency_count,
                            latency_max, loss_sum, loss_count, jitter_sum, jitter_count, last_sampled_at)
SELECT :msp, l.id, b, l.practice_id, l.site_id, 5, 5, 100, 5, 30, 0.5, 5, 10, 5, b + interval '4 minutes'
FROM link l, (SELECT generate_series(date_trunc('hour', now()) - interval '48 hours', now(), interval '5 minutes') b
              UNION ALL
              SELECT generate_series(date_trunc('hour', now()) - interval '90 days', date_trunc('hour', now()) - interval '49 hours',
                                     interval '1 hour')) t
WHERE l.msp_id = :msp;
INSERT INTO incident (msp_id, id, created_at, practice_id, rule_id, subject_type, subject_id, severity, component, urgency, title,
                      remediation, hipaa, status, opened_at, last_fired_at, clear_evaluations, reopen_count, updated_at)
SELECT :msp, gen_random_uuid(), now(), bp.id, 'link.down', 'link', bp.id::text || ':' || k,
       (ARRAY['critical','high','medium'])[1 + k % 3], 'connectivity', 'high', 'Link down', '', '', 'open', now() - k * interval '1 hour',
       now(), 0, 0, now() FROM bp, generate_series(1, 3) k WHERE bp.i % 10 = 0;
INSERT INTO readiness_snapshot (msp_id, practice_id, day, score, min_score, status, lost, findings, updated_at)
SELECT :msp, bp.id, d::date, sc, greatest(sc - 5, 0), CASE WHEN sc >= 80 THEN 'ready' WHEN sc >= 50 THEN 'at_risk' ELSE 'not_ready' END,
       '{}', 3, now()
FROM bp, generate_series(current_date - 90, current_date - 1, interval '1 day') d,
     LATERAL (SELECT (30 + (bp.i * 7 + extract(doy FROM d)::int) % 70)::int AS sc) x;
"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def generate(owner_url: str, app_url: str, n: int) -> tuple[uuid.UUID, str, list[uuid.UUID]]:
    from sqlalchemy import text

    from services.core.audit.service import SYSTEM
    from services.core.db import Database, Scope, set_scope
    from services.core.identity.models import User
    from services.core.identity.service import create_api_token, create_msp

    app_db = Database.connect(app_url, pool_size=2)
    async with app_db.transaction() as s:
        msp, owner = await create_msp(s, "Bench MSP", f"bench-{uuid.uuid4().hex[:6]}@example.test", "Owner",
                                      "correct horse battery staple")
        msp_id, owner_id = msp.id, owner.id
    async with app_db.transaction(Scope(msp_id, frozenset(), owner_id)) as s:
        await set_scope(s, Scope(msp_id, frozenset(), owner_id))
        _, token = await create_api_token(s, msp_id, await s.get(User, owner_id), "bench", True, SYSTEM)
    await app_db.dispose()
    owner_db = Database.connect(owner_url, pool_size=1)
    async with owner_db.transaction() as s:
        await s.execute(text("SELECT telemetry_create_partitions(now() - interval '95 days', now() + interval '7 days')"))
        for statement in GENERATE.split(";\n"):
            if statement.strip():
                started = time.perf_counter()
                await s.execute(text(statement), {"msp": msp_id, "n": n})
                print(f"  {statement.strip().splitlines()[0][:60]:60s} {time.perf_counter() - started:6.1f} s", flush=True)
        ids = list((await s.execute(text("SELECT id FROM practice WHERE msp_id = :m"), {"m": msp_id})).scalars())
    async with owner_db.transaction() as s:
        await s.execute(text("ANALYZE"))
    await owner_db.dispose()
    return msp_id, token, ids


async def time_sources(app_url: str, msp_id: uuid.UUID, ids: list[uuid.UUID], timeout_s: float) -> dict[str, str]:
    """Each finding source alone over every practice (batches as in the hourly pass), with a
    statement timeout so one pathological query cannot stall the benchmark."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from services.core.base import utcnow
    from services.core.db import Database, Scope
    from services.core.readiness.service import FULL_BATCH
    from services.core.readiness.sources import sources

    db = Database.connect(app_url, pool_size=2)
    out = {}
    for spec in sources():
        if spec.fn is None:
            out[spec.name] = "unavailable"
            continue
        started = time.perf_counter()
        try:
            for i in range(0, len(ids), FULL_BATCH):
                async with db.transaction(Scope(msp_id)) as s:
                    await s.execute(text(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}"))
                    await spec.fn(s, msp_id, ids[i:i + FULL_BATCH], utcnow())
            out[spec.name] = f"{time.perf_counter() - started:.1f} s"
        except DBAPIError as exc:
            out[spec.name] = f"did not finish: a statement ran past {timeout_s:.0f} s ({str(exc.orig).splitlines()[0][:60]})"
    await db.dispose()
    return out


async def recompute(app_url: str, msp_id: uuid.UUID, without: set[str]) -> tuple[float, int]:
    from services.core.db import Database
    from services.core.readiness import service, sources

    for name in without:
        sources.BUILTIN.pop(name, None)
    db = Database.connect(app_url, pool_size=2)
    started = time.perf_counter()
    done = await service.recompute_all(db, msp_ids=[msp_id])
    elapsed = time.perf_counter() - started
    await db.dispose()
    return elapsed, done


async def measure(port: int, token: str, paths: list[str]) -> list[float]:
    import gc

    import httpx

    gc.collect()
    gc.freeze()  # see the module docstring: time the API, not this process's collector
    out = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as c:
        for path in paths[:5]:  # warm-up: connections, caches
            (await c.get(path)).raise_for_status()
        for path in paths:
            started = time.perf_counter()
            r = await c.get(path)
            out.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--practices", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--source-timeout", type=float, default=120.0, help="statement timeout per finding source, seconds")
    args = parser.parse_args()

    from embedded_db import embedded_database

    with embedded_database("seawall-readiness-bench-") as db:
        return _run(args, db.owner, db.app)


def _run(args: argparse.Namespace, owner: str, app_url: str) -> int:
    proc = None
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
        print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()},"
              f" load average {os.getloadavg()[0]:.1f}")
        started = time.perf_counter()
        msp_id, token, practice_ids = asyncio.run(generate(owner, app_url, args.practices))
        print(f"generated {len(practice_ids)} practices in {time.perf_counter() - started:.0f} s")

        timings = asyncio.run(time_sources(app_url, msp_id, practice_ids, args.source_timeout))
        for name, figure in timings.items():
            print(f"finding source {name}, all practices: {figure}")
        without = {name for name, figure in timings.items() if not figure.endswith(" s")}
        elapsed, done = asyncio.run(recompute(app_url, msp_id, without))
        note = f" (without {', '.join(sorted(without))})" if without else ""
        print(f"readiness recomputation, all practices{note}: {done} in {elapsed:.1f} s")
        elapsed, done = asyncio.run(recompute(app_url, msp_id, without))
        print(f"readiness recomputation again{note}: {done} in {elapsed:.1f} s")

        port = free_port()
        env = {**os.environ, "DATABASE_URL": owner, "SEAWALL_ENVIRONMENT": "development", "SEAWALL_LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "services.api.main:app", "--host", "127.0.0.1", "--port", str(port),
                                 "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        print(f"API process RSS at start: {rss_mb(proc.pid):.0f} MB")
        portfolio = asyncio.run(measure(port, token, ["/api/v1/portfolio?limit=50"] * args.requests))
        print(f"portfolio first page (50 practices): p50 {pct(portfolio, .5):.1f} ms, p95 {pct(portfolio, .95):.1f} ms,"
              f" p99 {pct(portfolio, .99):.1f} ms ({len(portfolio)} requests)")
        rng = random.Random(7)
        paths = [f"/api/v1/practices/{rng.choice(practice_ids)}/dashboard" for _ in range(args.requests)]
        dash = asyncio.run(measure(port, token, paths))
        print(f"practice dashboard (random practices): p50 {pct(dash, .5):.1f} ms, p95 {pct(dash, .95):.1f} ms,"
              f" p99 {pct(dash, .99):.1f} ms ({len(dash)} requests)")
        filtered = asyncio.run(measure(port, token, ["/api/v1/portfolio?sort=open_incidents&status=at_risk&q=Practice%2001"]
                                       * (args.requests // 2)))
        print(f"portfolio sorted by incidents, filtered and searched: p95 {pct(filtered, .95):.1f} ms")
        print(f"API process RSS after the benchmark: {rss_mb(proc.pid):.0f} MB")
        return 0
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
