"""Rate limiter cost per hit: the `limits` strategies on the in-memory storage, as the API uses them.

    .venv/bin/python bench/ratelimit_bench.py [--hits 60000] [--keys 10 1000 10000]

Hits a "20/second" limit for --keys distinct keys (an API process's agents) round-robin, yielding
to the event loop every 50 hits as a server does (so the storage's background expiry runs), and
prints wall and CPU time per hit for each strategy, on the library's in-memory storage and on the
API's (services/core/ratelimit.py: the same storage with its expiry pass run on a clock). Not a
test: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from services.core.ratelimit import SweptMemoryStorage

STRATEGIES = (MovingWindowRateLimiter, SlidingWindowCounterRateLimiter, FixedWindowRateLimiter)
STORAGES = (MemoryStorage, SweptMemoryStorage)


async def per_hit(strategy, storage, keys: int, hits: int) -> tuple[float, float]:
    limiter = strategy(storage())
    item = parse("20/second")
    names = [f"agent-{i}" for i in range(keys)]
    for name in names:  # every key seen once, as in a process that has served its agents
        await limiter.hit(item, "ingest", name)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(hits):
        await limiter.hit(item, "ingest", names[i % keys])
        if i % 50 == 0:
            await asyncio.sleep(0)
    return (time.perf_counter() - wall) / hits * 1e6, (time.process_time() - cpu) / hits * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=60_000)
    parser.add_argument("--keys", type=int, nargs="+", default=[10, 1000, 10000])
    args = parser.parse_args()
    for strategy in STRATEGIES:
        for storage in STORAGES:
            for keys in args.keys:
                wall, cpu = await per_hit(strategy, storage, keys, args.hits)
                print(f"{strategy.__name__:34s} {storage.__name__:18s} {keys:6d} keys: {wall:7.1f} µs wall,"
                      f" {cpu:7.1f} µs CPU per hit", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
