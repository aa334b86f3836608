"""Rate limits (the `limits` library): in memory per process by default, Redis when configured,
so that several API replicas share one budget."""

from __future__ import annotations

import asyncio
import bisect
import math
import threading
import time
from functools import lru_cache

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter

from services.core.errors import RateLimited
from services.core.settings import get_settings

SWEEP_EVERY = 2.0  # seconds between two passes freeing what has expired
SWEEP_SLICE = 1_000  # keys looked at before the sweep lets requests run again


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory storage, with what has expired freed on a clock instead of after every hit.

    The library starts an expiry pass after every hit unless one is running, and each pass walks every
    key the process has seen, handing each key's list to a thread (asyncio.to_thread) for one bisect:
    with 1,000–10,000 agents, 60–101 µs of CPU per hit (bench/ratelimit_bench.py), the largest single
    cost in a profile of the API under ingest load. Nothing depends on the pass for correctness (a hit compares with
    its own window; a counter's expiry is checked when it is read): it only frees memory. So here it
    runs at most every SWEEP_EVERY seconds, in the event loop, yielding every SWEEP_SLICE keys.

    It replaces the two private methods of limits 5.8's MemoryStorage that schedule and run the pass
    (the version is pinned; tests/core/test_ratelimit.py fails if they stop being called)."""

    last_sweep = 0.0  # a class default too: the library's __setstate__ restores a copy without __init__

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_sweep = time.monotonic()

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the library's hook, called on every hit
        if self.timer is not None and not self.timer.done():
            return
        if time.monotonic() - self.last_sweep < SWEEP_EVERY:
            return
        self.last_sweep = time.monotonic()
        self.timer = asyncio.create_task(self.sweep())

    async def _MemoryStorage__expire_events(self) -> None:  # the library's pass, should anything call it
        await self.sweep()

    async def sweep(self) -> None:
        """Drop expired moving-window entries, empty keys and expired counters."""
        now = time.time()
        # No await between reading a key and writing it back, so no hit can interleave with either.
        for n, key in enumerate(list(self.events)):
            if n and n % SWEEP_SLICE == 0:
                await asyncio.sleep(0)
                now = time.time()
            events = self.events.get(key)
            if events:  # newest first: keep those whose expiry is still ahead
                events = events[:bisect.bisect_left(events, -now, key=lambda entry: -entry.expiry)]
            if events:
                self.events[key] = events
            else:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


@lru_cache
def _limiter(thread: int) -> MovingWindowRateLimiter:
    """One limiter per thread: an asyncio storage (memory locks, a Redis connection) belongs to one
    event loop, and a process may run more than one (a test server in a thread)."""
    url = get_settings().redis_url
    storage = storage_from_string(url.replace("redis://", "async+redis://", 1)) if url else SweptMemoryStorage()
    return MovingWindowRateLimiter(storage)


def limiter() -> MovingWindowRateLimiter:
    return _limiter(threading.get_ident())


async def hit(limit: str, *keys: str) -> None:
    """Count one hit; raise RateLimited (429 with Retry-After) when the budget is spent."""
    item = parse(limit)
    current = limiter()
    if not await current.hit(item, *keys):
        stats = await current.get_window_stats(item, *keys)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))


async def clear(limit: str, *keys: str) -> None:
    await limiter().clear(parse(limit), *keys)
