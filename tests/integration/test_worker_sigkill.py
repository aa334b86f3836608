"""10,000 deliveries with 10 % duplicates; the worker process SIGKILLed mid-batch several times →
nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

import httpx

from services.core.database_server import libpq
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, one, run_event, sample_event

UNIQUE = 9_000
DUPLICATES = 1_000


def _worker(database_urls) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": libpq(database_urls[0]), "SEAWALL_APP_DATABASE_URL": libpq(database_urls[1]),
           "SEAWALL_ENVIRONMENT": "test", "SEAWALL_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--concurrency", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _processed(db_one, msp_id) -> int:
    return (await db_one(msp_id, "SELECT count(*) AS n FROM telemetry_event WHERE msp_id = :m AND processed_at IS NOT NULL"))["n"]


async def test_sigkill_mid_batch_loses_and_doubles_nothing(live_server, db, tenant, database_urls):
    rng = random.Random(4)
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "hourly")
    await create_link(db, tenant.site, "Fiber")
    await create_link(db, tenant.site, "LTE", role="backup")
    base = at(150)
    unique = [sample_event(("Fiber", "LTE")[i % 2], base + timedelta(seconds=i), up=rng.random() > 0.1,
                           latency_ms=float(rng.randint(5, 90))) for i in range(8_000)]
    unique += [run_event("hourly", base + timedelta(seconds=30 * i), base + timedelta(seconds=30 * i + 20), bytes=i)
               for i in range(200)]
    unique += [ev("heartbeat", base + timedelta(seconds=10 * i)) for i in range(800)]
    assert len(unique) == UNIQUE
    deliveries = unique + rng.sample(unique, DUPLICATES)
    rng.shuffle(deliveries)
    accepted = duplicates = 0
    async with httpx.AsyncClient(base_url=live_server.url, headers=agent.headers, timeout=60) as http:
        for i in range(0, len(deliveries), 500):
            r = await http.post("/api/v1/ingest", json={"events": deliveries[i:i + 500]})
            assert r.status_code == 202, r.text
            accepted += r.json()["accepted"]
            duplicates += r.json()["duplicates"]
    assert (accepted, duplicates) == (UNIQUE, DUPLICATES)

    async def q(msp_id, sql):
        return await one(db, msp_id, sql)

    kills, seen = 0, 0
    deadline = time.monotonic() + 120
    while kills < 3:
        worker = _worker(database_urls)
        try:
            while True:  # wait for a batch to commit, then kill the worker while it is inside the next one
                assert time.monotonic() < deadline, "the worker made no progress"
                now = await _processed(q, tenant.msp_id)
                if now > seen:
                    break
                await asyncio.sleep(0.02)
            seen = now
            if seen >= UNIQUE:
                break
            await asyncio.sleep(rng.uniform(0.0, 0.15))
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        kills += 1
    assert kills >= 3 or seen >= UNIQUE
    assert seen < UNIQUE, "the backlog drained before three kills: raise the event count"

    worker = _worker(database_urls)
    try:
        while await _processed(q, tenant.msp_id) < UNIQUE:
            assert time.monotonic() < deadline + 60, "the last worker did not finish"
            await asyncio.sleep(0.1)
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0  # and a graceful stop is clean

    m = tenant.msp_id
    assert (await q(m, "SELECT count(*) AS n FROM telemetry_event WHERE msp_id = :m"))["n"] == UNIQUE
    assert (await q(m, "SELECT count(*) AS n FROM link_sample WHERE msp_id = :m"))["n"] == 8_000
    assert (await q(m, "SELECT sum(samples) AS n FROM link_sample_5m WHERE msp_id = :m"))["n"] == 8_000
    assert (await q(m, "SELECT count(*) AS n FROM backup_run WHERE msp_id = :m"))["n"] == 200
    state = await q(m, f"SELECT last_bytes, consecutive_failures FROM backup_job_state WHERE msp_id = :m AND backup_job_id = '{job.id}'")
    assert state == {"last_bytes": 199, "consecutive_failures": 0}
    beat = await q(m, "SELECT last_heartbeat_at FROM agent_state WHERE msp_id = :m")
    assert beat["last_heartbeat_at"] == base + timedelta(seconds=10 * 799)
