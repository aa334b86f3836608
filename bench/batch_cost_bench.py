"""Per-batch cost of the telemetry worker: wall time, worker CPU and statements per batch, in process.

    .venv/bin/python bench/batch_cost_bench.py [--agents 25] [--batch 60] [--batches 300] [--phases] [--stale-statistics]

The worker's lag with many MSPs is roughly a round of one small batch per MSP (20 MSPs at 5,000
events/s: ~60 events each), so it moves with what one small batch costs, most of it per batch
rather than per event. worker_bench.py measures the lag itself, but its figures swing by a third
between identical runs on a shared 2-core VM; this one isolates the batch: one MSP (--agents agents,
five per practice, two links and a backup job each, seeded as worker_bench.py does), --batches
batches of --batch events recorded into the inbox, then `processing.process_batch` in a loop with
the production hooks registered (alert rule evaluation, readiness dirty-marking). It prints, per
batch: wall ms, this process's CPU ms (PostgreSQL's is the difference, roughly), and the
statements sent to PostgreSQL (counted in libpq's protocol trace of a few more batches); --phases adds wall and CPU of the batch's parts (the claim, the link upsert, the hooks, the
scope). Healthy traffic (--down-share 0, --run-share 0.002) by default. Statistics are taken (ANALYZE)
after the warm-up batches, as autovacuum would soon after an MSP's first minute; --stale-statistics
measures that first minute, with the MSP newer than the planner's statistics. Not a test: the figures go
to docs/performance.md, best compared back to back with the code before a change
(`git worktree add`, then run the worktree's copy with PYTHONPATH set to it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402

import worker_bench  # noqa: E402

WARM_UP_BATCHES = 20  # prepared statements, caches, the first evaluation of every practice
TRACED_BATCHES = 20  # after the timed ones, with the protocol traced (tracing costs time)


def _timed(spent: collections.Counter, module, name: str) -> None:
    """Wrap module.name (a coroutine function) to add its wall and CPU time to `spent`."""
    original = getattr(module, name)

    @functools.wraps(original)
    async def run(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return await original(*args, **kwargs)
        finally:
            spent[f"{name} wall"] += time.perf_counter() - wall
            spent[f"{name} cpu"] += time.thread_time() - cpu

    setattr(module, name, run)


def _statements(trace: Path) -> int:
    """Statements sent in a libpq protocol trace: Executes of the extended protocol and simple
    Queries (BEGIN and COMMIT included). Round trips cannot be told from the trace: in pipeline
    mode libpq logs answers as it reads them, between the client's own messages."""
    n = 0
    with open(trace, errors="replace") as f:
        for line in f:
            fields = line.split("\t")
            if len(fields) > 2 and fields[0] == "F" and fields[2].strip() in ("Execute", "Query"):
                n += 1
    return n


async def measure(owner_url: str, app_url: str, world: worker_bench.World, batch: int, batches: int, phases: bool,
                  analyze: bool = True) -> dict:
    import services.core.alerts.evaluate  # noqa: F401  registers rule evaluation, as the worker does
    import services.core.readiness.service  # noqa: F401  registers dirty-marking
    from sqlalchemy import event

    import services.core.db as db_module
    from services.core.db import Database
    from services.core.telemetry import hooks, processing

    msp = next(iter(world.msps))
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for _ in range(WARM_UP_BATCHES + batches + TRACED_BATCHES):
            worker_bench.record(conn, world, {msp: batch}, notify=False)
    spent: collections.Counter = collections.Counter()
    if phases:
        for name in ("claim_and_append", "update_links", "apply_batch"):
            _timed(spent, processing, name)
        _timed(spent, hooks, "state_changed")
        _timed(spent, db_module, "set_scope")
    db = Database.connect(app_url, pool_size=1)
    trace = Path(tempfile.mkstemp(prefix="seawall-batch-trace-")[1])
    try:
        for _ in range(WARM_UP_BATCHES):
            await processing.process_batch(db, msp, batch)
        if analyze:
            # After the warm-up: the state rows of the MSP's agents and links exist by then. What
            # autovacuum would see within a minute or so; without it, the plans are a new MSP's.
            worker_bench.analyze(owner_url)
        spent.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(batches):
            n = await processing.process_batch(db, msp, batch)
            if n != batch:
                raise RuntimeError(f"a batch applied {n} events, not {batch}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        timed = dict(spent)  # the traced batches below are slower, and not counted

        # A few more with the protocol traced from their connection's checkout to its checkin.
        with open(trace, "w") as out:
            def on_checkout(dbapi_connection, record, proxy):
                pgconn = dbapi_connection.driver_connection.pgconn
                pgconn.trace(out.fileno())
                pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

            def on_checkin(dbapi_connection, record):
                dbapi_connection.driver_connection.pgconn.untrace()

            event.listen(db.engine.sync_engine, "checkout", on_checkout)
            event.listen(db.engine.sync_engine, "checkin", on_checkin)
            for _ in range(TRACED_BATCHES):
                await processing.process_batch(db, msp, batch)
            event.remove(db.engine.sync_engine, "checkout", on_checkout)
            event.remove(db.engine.sync_engine, "checkin", on_checkin)
        statements = _statements(trace)
    finally:
        await db.dispose()
        trace.unlink(missing_ok=True)
    result = {"batch_events": batch, "batches": batches, "wall_ms_per_batch": round(wall / batches * 1000, 2),
              "worker_cpu_ms_per_batch": round(cpu / batches * 1000, 2),
              "statements_per_batch": round(statements / TRACED_BATCHES, 1)}
    if phases:
        result["phases_ms_per_batch"] = {k: round(v / batches * 1000, 2) for k, v in sorted(timed.items())}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=25, help="agents of the one MSP (five per practice)")
    parser.add_argument("--batch", type=int, default=60, help="events per batch")
    parser.add_argument("--batches", type=int, default=300, help="batches measured")
    parser.add_argument("--phases", action="store_true", help="also time the batch's parts (adds a little overhead)")
    parser.add_argument("--stale-statistics", action="store_true",
                        help="skip the ANALYZE after the warm-up batches: the planner's view of a new MSP in its first minute")
    parser.add_argument("--down-share", type=float, default=0.0)
    parser.add_argument("--run-share", type=float, default=0.002)
    args = parser.parse_args()

    import json

    from embedded_db import embedded_database
    from services.core.database_server import libpq

    with embedded_database("seawall-batch-bench-") as db:
        world = worker_bench.World(asyncio.run(worker_bench.seed(db.app, 1, args.agents)), args.down_share, args.run_share)
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print(f"# batch cost benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} CPUs,"
              f" Python {platform.python_version()}, load average at start {load}; one MSP × {args.agents} agents", flush=True)
        result = asyncio.run(measure(libpq(db.owner), db.app, world, args.batch, args.batches, args.phases,
                                     analyze=not args.stale_statistics))
        print(json.dumps(result, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
