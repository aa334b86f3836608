"""Worker benchmark: processing lag at a sustained rate, and backlog drain with 1 and 2 worker processes,
for events from many MSPs (a SaaS: 20 MSPs × 25 agents by default) and from a single MSP.

    .venv/bin/python bench/worker_bench.py [--rate 5000] [--seconds 60] [--backlog 100000] [--workers 1 2]
                                            [--layouts multi single] [--in-process] [--concurrency 2] [--timeline]
                                            [--down-share 0.02] [--run-share 0.01] [--stale-statistics]

Creates a throw-away embedded PostgreSQL under a temp dir, migrates it and seeds two worlds: --msps
MSPs with --agents agents each ("multi"), and one MSP with --msps × --agents agents ("single"), five
agents (sites) per practice, two links and a backup job per agent. Then, per layout and worker count:

1. sustained: starts N real `seawall worker` processes and records events into the inbox at
   --rate events/s for --seconds (chunks every 50 ms, one transaction and one pg_notify per MSP
   per chunk, as the API does); the mix is about 2/3 link samples, 1/3 heartbeats, 1 % backup
   runs (--run-share; --down-share sets how many samples report a link down). Lag is measured from outside: a monitor polls each MSP's oldest pending seq every 20 ms,
   and an event counts as done when that has moved past it, i.e. when its batch (state updated,
   hooks run, marked processed) is COMMITTED and visible; lag = that moment − the moment the
   event's own insert committed. The first --warmup seconds (default 15) are sent at the same
   rate but not measured, then --seconds are: a freshly started worker first works off what the
   earlier phases left (every practice dirty for readiness, the first time-based evaluation),
   which is a restart transient, not the steady state; --timeline shows it. (processed_at is set when the
   batch is claimed, so processed_at − received_at would understate the lag by the batch's duration.)
   STATS_AFTER seconds into a layout's first warm-up (or half-way through a shorter one), the
   benchmark runs ANALYZE, as autovacuum would within a minute or so, and prints when it finished
   (--stale-statistics leaves it to autovacuum, as do drain-only runs, --skip-sustained): the seeded MSPs, and
   their state rows created by the first batches, are newer than the tables' statistics, and until
   they are counted the planner takes each MSP for a row or two and picks nested loops that rescan
   one side per row of the other (one MSP of 500 agents, 1,000-event batches: 139 ms a batch
   instead of 87; bench/batch_cost_bench.py --stale-statistics). That is a new MSP's first minute,
   not the steady state this measures. Before 2026-11-24 the benchmark left statistics to
   autovacuum, so a run of only the single layout spent its first minute on those plans.
2. drain: stops the workers, records a backlog of --backlog events spread over the layout's MSPs,
   starts N workers and measures how fast the backlog empties: events / (drained − first batch
   committed), and the wall time including process start-up.

--in-process additionally drains a backlog in this process through processing.process_batch with
the production hooks registered, timing the hooks (alert rule evaluation, readiness dirty-marking)
separately from the rest of the batch.

Events are written straight into telemetry_event (the ingest API is benchmarked by
bench/ingest_bench.py); everything else is the production code path. Not a test: the figures go
to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

# The arrays go binary (%b): psycopg builds a text array in Python, element by element, and at
# 5,000 events/s that took ~29 ms of this process's CPU per 50-ms chunk — more than half a core
# taken from the workers and PostgreSQL being measured, for load that agents generate on their own
# machines. Binary: ~7 ms (2026-11-23, session 9; docs/performance.md).
INSERT = (
    "WITH ins AS (INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)"
    " SELECT %s, * FROM unnest(%b::uuid[], %b::text[], %b::uuid[], %b::uuid[], %b::text[], %b::timestamptz[], %b::jsonb[])"
    " RETURNING seq) SELECT max(seq) FROM ins"
)


class World:
    """The seeded MSPs: per MSP a list of agents (agent, practice, site, links, job)."""

    def __init__(self, msps: dict[uuid.UUID, list[tuple]], down_share: float = 0.02, run_share: float = 0.01) -> None:
        self.msps = msps
        self.analyzed = False  # statistics taken (analyze_soon)
        self.rng = random.Random(7)
        self.counter = 0
        # Share of link samples reporting the link down. The default makes every link flap every
        # few dozen samples (a stress test of the link state machine and of alerting); real
        # traffic is ~99 % healthy samples and heartbeats, which --down-share 0 models.
        self.down_share = down_share
        # Share of events that are backup runs (a tenth of them failed). The default 1 % puts a run
        # of nearly every practice into every batch; real agents send one per ~300–5,000 events
        # (1–24 runs a day against a few events a minute), which --run-share 0.002 models.
        self.run_share = run_share

    def events(self, msp_id: uuid.UUID, n: int, now: datetime) -> list[tuple]:
        rows = []
        agents = self.msps[msp_id]
        for _ in range(n):
            agent, practice, site, links, job = agents[self.rng.randrange(len(agents))]
            self.counter += 1
            roll = self.rng.random()
            if roll < self.run_share:
                started = now - timedelta(minutes=30)
                kind, payload = "backup_run", {"job_id": str(job), "status": "success" if roll > self.run_share / 10 else "failed",
                                               "started_at": started.isoformat(), "finished_at": now.isoformat(),
                                               "bytes": self.rng.randint(10**9, 10**11), "restore_point_at": started.isoformat(),
                                               "verified": True}
            elif roll < self.run_share + 0.33:
                kind, payload = "heartbeat", {"agent_version": "0.1.0"}
            else:
                kind, payload = "link_sample", {"link_id": str(links[self.rng.randrange(2)]), "up": self.rng.random() >= self.down_share,
                                                "latency_ms": round(self.rng.uniform(5, 60), 1), "loss_pct": 0.0,
                                                "jitter_ms": round(self.rng.uniform(0, 5), 1)}
            # Agents report in order: each event a little later than the one before it.
            rows.append((agent, f"b{self.counter}", practice, site, kind, now + timedelta(microseconds=len(rows)),
                         json.dumps(payload)))
        return rows


def record(conn: psycopg.Connection, world: World, per_msp: dict[uuid.UUID, int], notify: bool = True) -> dict[uuid.UUID, int]:
    """One transaction; returns each MSP's highest seq recorded."""
    now = datetime.now(timezone.utc)
    top = {}
    with conn.transaction():
        for msp_id, n in per_msp.items():
            if not n:
                continue
            rows = world.events(msp_id, n, now)
            top[msp_id] = conn.execute(INSERT, (msp_id, *map(list, zip(*rows)))).fetchone()[0]
            if notify:
                conn.execute("SELECT pg_notify('seawall_telemetry', %s)", (str(msp_id),))
    return top


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


# `seawall worker --concurrency` (telemetry batches and jobs in flight per process). 2, not the
# CLI's default 4: on the 2-core machine, with the loop saturated, more batches in flight only
# stretch each one (stress mix, 1 worker: lag p50 285–352 ms with 2, 500–512 ms with 4).
CONCURRENCY = 2
TIMELINE = False  # --timeline


def start_workers(owner_url: str, n: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": owner_url, "SEAWALL_ENVIRONMENT": "development", "SEAWALL_LOG_LEVEL": "WARNING"}
    return [subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--concurrency", str(CONCURRENCY)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, start_new_session=True) for _ in range(n)]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM telemetry_event WHERE processed_at IS NULL").fetchone()[0]


def any_pending(conn: psycopg.Connection) -> bool:
    # Not count(*): counting a backlog of 100,000 rows 20 times a second competed with the worker
    # being measured, on the same PostgreSQL (finding the first pending row is an index probe).
    return conn.execute("SELECT EXISTS (SELECT 1 FROM telemetry_event WHERE processed_at IS NULL)").fetchone()[0]


def wait_drained(conn: psycopg.Connection, timeout: float) -> float:
    started = time.monotonic()
    while any_pending(conn):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not drained after {timeout:.0f} s ({pending(conn)} pending)")
        time.sleep(0.05)
    return time.monotonic() - started


class Monitor(threading.Thread):
    """Polls each MSP's oldest pending seq (a committed-state view of progress) every `every` seconds.

    Each MSP's oldest pending seq is one probe of the pending index, as the worker's own claim makes.
    The number of pending rows (a count over the whole backlog: too dear to take 20 times a second
    while the worker drains it) is taken, when `count` is set, only up to the first committed batch.
    """

    def __init__(self, owner_url: str, msps: list[uuid.UUID], every: float = 0.02, count: bool = False) -> None:
        super().__init__(daemon=True)
        self.owner_url, self.msps, self.every, self.count = owner_url, msps, every, count
        self.polls: list[tuple[float, dict[uuid.UUID, int], int | None]] = []  # (monotonic, msp → min pending seq, pending count)
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            first: dict[uuid.UUID, int] | None = None
            while not self.stop.is_set():
                rows = conn.execute("SELECT m, (SELECT min(seq) FROM telemetry_event WHERE msp_id = m AND processed_at IS NULL)"
                                    " FROM unnest(%s::uuid[]) AS m", (self.msps,)).fetchall()
                low = {m: seq for m, seq in rows if seq is not None}
                first = low if first is None else first
                moved = low != first
                left = pending(conn) if self.count else None
                self.polls.append((time.monotonic(), low, left))
                if moved:
                    self.count = False  # counted once more, at the first committed batch
                time.sleep(self.every)

    def done_at(self, after: float, msp_id: uuid.UUID, seq: int) -> float | None:
        """The first poll after `after` at which every event of msp_id up to seq was processed and committed."""
        lo, hi = 0, len(self.polls)
        while lo < hi:  # polls are in time order: find the first one after `after`
            mid = (lo + hi) // 2
            if self.polls[mid][0] <= after:
                lo = mid + 1
            else:
                hi = mid
        for at, low, _ in self.polls[lo:]:
            if low.get(msp_id, seq + 1) > seq:
                return at
        return None


def _percentile(weighted: list[tuple[float, int]], q: float) -> float:
    weighted = sorted(weighted)
    total = sum(w for _, w in weighted)
    running = 0
    for value, w in weighted:
        running += w
        if running >= q * total:
            return value
    return weighted[-1][0]


def sustained(conn: psycopg.Connection, world: World, owner_url: str, workers: int, rate: int, seconds: float) -> dict:
    procs = start_workers(owner_url, workers)
    # No cyclic GC in this process while it measures: a full collection would pause the monitor
    # thread too (the GIL) and add its pause to the lag of every event in flight.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return _sustained(conn, world, owner_url, procs, rate, seconds)
    finally:
        gc.enable()
        gc.unfreeze()
        stop_workers(procs)


WARMUP = 15.0  # --warmup
STATS_AFTER = 5.0  # seconds into a layout's first warm-up (see the module docstring)
STALE_STATISTICS = False  # --stale-statistics


def analyze(owner_url: str) -> None:
    """Statistics for every table, as autovacuum takes them (also used by the other benchmarks)."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def analyze_soon(owner_url: str, world: World) -> None:
    """ANALYZE STATS_AFTER seconds from now (half the warm-up if that is shorter), once per world,
    on a connection of its own (the generator's must not wait for it); says when it is done."""
    if STALE_STATISTICS or world.analyzed:
        return
    world.analyzed = True
    started = time.monotonic()

    def run() -> None:
        try:
            analyze(owner_url)
            print(f"# statistics taken {time.monotonic() - started:.1f} s into the warm-up", flush=True)
        except Exception as error:  # reported, and the run goes on with autovacuum's statistics
            print(f"# ANALYZE failed: {error!r}", flush=True)

    timer = threading.Timer(min(STATS_AFTER, WARMUP / 2), run)
    timer.daemon = True
    timer.start()


def _sustained(conn: psycopg.Connection, world: World, owner_url: str, procs: list, rate: int, seconds: float) -> dict:
    time.sleep(6)  # start-up: imports, partition upkeep, LISTEN
    analyze_soon(owner_url, world)
    monitor = Monitor(owner_url, list(world.msps))
    monitor.start()
    msps = list(world.msps)
    tick = 0.05
    per_tick = rate * tick
    t0 = time.monotonic()
    sent, carry, next_at = 0, 0.0, t0
    behind = 0.0
    chunks: list[tuple[float, dict[uuid.UUID, int], dict[uuid.UUID, int]]] = []
    while time.monotonic() - t0 < WARMUP + seconds:
        carry += per_tick
        n = int(carry)
        carry -= n
        per_msp = {m: 0 for m in msps}
        for i in range(n):
            per_msp[msps[(sent + i) % len(msps)]] += 1
        top = record(conn, world, per_msp)
        chunks.append((time.monotonic(), top, per_msp))
        sent += n
        next_at += tick
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            behind = max(behind, -delay)
    elapsed = time.monotonic() - t0
    drain_after = wait_drained(conn, 600)
    time.sleep(0.1)
    monitor.stop.set()
    monitor.join()
    lags = []
    for committed, top, per_msp in chunks:
        if committed - t0 < WARMUP:
            continue
        for msp_id, seq in top.items():
            done = monitor.done_at(committed, msp_id, seq)
            lags.append(((done - committed) * 1000 if done else float("inf"), per_msp[msp_id]))
    if TIMELINE:
        # The worst lag of the chunks recorded in each second (clock second in brackets): shows
        # whether the misses are spread out or bunched (e.g. at the minute's scheduled jobs).
        worst: dict[int, float] = {}
        for committed, top, _ in chunks:
            for msp_id, seq in top.items():
                done = monitor.done_at(committed, msp_id, seq)
                second = int(committed - t0)
                worst[second] = max(worst.get(second, 0.0), (done - committed) * 1000 if done else float("inf"))
        wall0 = time.time() - (time.monotonic() - t0)
        def line(seconds):
            return " ".join(f"{v:.0f}[{int(wall0 + s) % 60}]" for s, v in seconds)
        ordered = sorted(worst.items())
        print(f"# worst lag per second, ms [clock second]: warm-up {line(s for s in ordered if s[0] < WARMUP)}"
              f" | measured {line(s for s in ordered if s[0] >= WARMUP)}", flush=True)
    return {"offered_events_per_s": round(sent / elapsed), "generator_max_behind_ms": round(behind * 1000),
            "lag_p50_ms": round(_percentile(lags, 0.5)), "lag_p99_ms": round(_percentile(lags, 0.99)),
            "lag_max_ms": round(max(v for v, _ in lags)), "measured_events": sum(w for _, w in lags),
            "left_pending_at_end_drained_in_s": round(drain_after, 2)}


def drain(conn: psycopg.Connection, world: World, owner_url: str, workers: int, backlog: int) -> dict:
    msps = list(world.msps)
    chunk = 10_000
    for start in range(0, backlog, chunk):
        n = min(chunk, backlog - start)
        record(conn, world, {m: n // len(msps) + (1 if i < n % len(msps) else 0) for i, m in enumerate(msps)}, notify=False)
    total = pending(conn)
    monitor = Monitor(owner_url, msps, every=0.05, count=True)
    monitor.start()
    procs = start_workers(owner_url, workers)
    try:
        wall = wait_drained(conn, 1800)
        end = time.monotonic()
    finally:
        stop_workers(procs)
    monitor.stop.set()
    monitor.join()
    # From the first committed batch on: the events still pending then, over the time they took.
    first, left = next(((at, left) for at, _, left in monitor.polls if left is not None and left < total), (end, 0))
    span = end - first
    return {"backlog": total, "events_per_s": round(left / span) if span > 0 else None,
            "processing_span_s": round(span, 2), "wall_s_including_startup": round(wall, 2)}


async def in_process(owner_url: str, app_url: str, world: World, backlog: int) -> dict:
    """Drain a backlog through process_batch in this process, timing the state hooks separately."""
    import services.core.alerts.evaluate  # noqa: F401  registers rule evaluation, as the worker does
    import services.core.readiness.service  # noqa: F401  registers dirty-marking
    from services.core.db import Database
    from services.core.telemetry import hooks, processing

    with psycopg.connect(owner_url, autocommit=True) as conn:
        msps = list(world.msps)
        for start in range(0, backlog, 10_000):
            n = min(10_000, backlog - start)
            record(conn, world, {m: n // len(msps) + (1 if i < n % len(msps) else 0) for i, m in enumerate(msps)}, notify=False)
    spent: dict[str, float] = {}
    original = list(hooks.ON_STATE_CHANGED)

    def timed(hook):
        async def run(session, msp_id, practice_ids, now):
            t = time.perf_counter()
            await hook(session, msp_id, practice_ids, now)
            spent[hook.__module__] = spent.get(hook.__module__, 0.0) + time.perf_counter() - t
        return run

    hooks.ON_STATE_CHANGED[:] = [timed(h) for h in original]
    db = Database.connect(app_url, pool_size=2)
    results = {}
    try:
        # Half the backlog with the base batch size, the rest with the largest (a backlogged MSP's).
        for size, goal in ((processing.BATCH_SIZE, backlog // 2), (processing.MAX_BATCH_SIZE, backlog)):
            spent.clear()
            t0, c0, done, batches = time.perf_counter(), time.process_time(), 0, 0
            while done < goal:
                n_round = 0
                for m in msps:
                    n = await processing.process_batch(db, m, size)
                    if n > 0:
                        n_round += n
                        batches += 1
                done += n_round
                if not n_round:
                    break
            wall = time.perf_counter() - t0
            hook_s = sum(spent.values())
            results[f"batch {size}"] = {
                "events": done, "batches": batches, "events_per_s": round(done / wall),
                "events_per_s_without_hooks": round(done / (wall - hook_s)),
                "hooks_ms_per_batch": {k.rsplit(".", 1)[-1]: round(v / batches * 1000, 1) for k, v in spent.items()},
                "hooks_share": f"{hook_s / wall:.0%}", "worker_cpu_ms_per_1000_events": round((time.process_time() - c0) / done * 1e6)}
    finally:
        hooks.ON_STATE_CHANGED[:] = original
        await db.dispose()
    return results


def main() -> int:
    global CONCURRENCY, TIMELINE, WARMUP, STALE_STATISTICS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--msps", type=int, default=20)
    parser.add_argument("--agents", type=int, default=25, help="agents per MSP (the single MSP gets msps × agents)")
    parser.add_argument("--layouts", nargs="+", choices=["multi", "single"], default=["multi", "single"])
    parser.add_argument("--skip-sustained", action="store_true")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY,
                        help="each worker's --concurrency (telemetry batches and jobs in flight; default 2)")
    parser.add_argument("--warmup", type=float, default=WARMUP,
                        help="seconds sent at the rate before the measured --seconds (default 15)")
    parser.add_argument("--stale-statistics", action="store_true",
                        help="no ANALYZE in the first warm-up: statistics are left to autovacuum")
    parser.add_argument("--timeline", action="store_true", help="print the worst lag of each second of a sustained run")
    parser.add_argument("--down-share", type=float, default=0.02,
                        help="share of link samples reporting down (default 0.02: every link flaps; 0: healthy traffic)")
    parser.add_argument("--run-share", type=float, default=0.01,
                        help="share of events that are backup runs (default 0.01; real agents: ~0.0002–0.003)")
    args = parser.parse_args()
    CONCURRENCY, TIMELINE, WARMUP = args.concurrency, args.timeline, args.warmup
    STALE_STATISTICS = args.stale_statistics

    from embedded_db import embedded_database

    with embedded_database("seawall-worker-bench-") as db:
        return _run(args, db.owner, db.app)


def _run(args: argparse.Namespace, owner: str, app: str) -> int:
    from services.core.database_server import libpq

    worlds = {}
    if "multi" in args.layouts:
        worlds["multi"] = World(asyncio.run(seed(app, args.msps, args.agents)), args.down_share, args.run_share)
    if "single" in args.layouts:
        worlds["single"] = World(asyncio.run(seed(app, 1, args.msps * args.agents)), args.down_share, args.run_share)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"# worker benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} CPUs,"
          f" Python {platform.python_version()}, load average at start {load}; multi = {args.msps} MSPs × {args.agents} agents,"
          f" single = 1 MSP × {args.msps * args.agents} agents; {args.down_share:.0%} of link samples down,"
          f" {args.run_share:.1%} of events backup runs", flush=True)
    results = {}
    with psycopg.connect(libpq(owner), autocommit=True) as conn:
        for layout, world in worlds.items():
            for n in args.workers:
                if not args.skip_sustained:
                    results[f"{layout}: sustained {args.rate}/s, {n} worker(s)"] = sustained(
                        conn, world, libpq(owner), n, args.rate, args.seconds)
                    print(json.dumps(results, indent=2), flush=True)
                results[f"{layout}: drain, {n} worker(s)"] = drain(conn, world, libpq(owner), n, args.backlog)
                print(json.dumps(results, indent=2), flush=True)
            if args.in_process:
                results[f"{layout}: in-process"] = asyncio.run(in_process(libpq(owner), app, world, args.backlog))
                print(json.dumps(results, indent=2), flush=True)
    with open("/proc/loadavg") as f:
        print(f"# load average at end {' '.join(f.read().split()[:3])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
