"""The in-memory rate-limit storage: limits enforced, expired entries freed on a clock, not per hit."""

from __future__ import annotations

import asyncio

import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from services.core import ratelimit
from services.core.ratelimit import SweptMemoryStorage


async def test_a_moving_window_refuses_the_hit_past_its_budget_and_admits_again_after_it():
    limiter = MovingWindowRateLimiter(SweptMemoryStorage())
    item = parse("3/second")
    assert [await limiter.hit(item, "ingest", "a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit(item, "ingest", "b")  # another agent has its own budget
    await asyncio.sleep(1.05)
    assert await limiter.hit(item, "ingest", "a")


async def test_hits_do_not_start_a_sweep_each_but_one_per_interval():
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    sweeps = []
    sweep = storage.sweep
    storage.sweep = lambda: sweeps.append(1) or sweep()
    item = parse("20/second")
    for i in range(500):
        await limiter.hit(item, "ingest", f"agent-{i % 100}")
    assert len(sweeps) == 0  # the interval since the storage was made has not passed

    storage.last_sweep -= ratelimit.SWEEP_EVERY
    for i in range(50):
        await limiter.hit(item, "ingest", f"agent-{i}")
    await storage.timer
    # Exactly one: the library called the replaced hook on a hit, and later hits found it too soon.
    assert len(sweeps) == 1


async def test_a_sweep_frees_expired_windows_and_counters_and_keeps_live_ones(monkeypatch):
    monkeypatch.setattr(ratelimit, "SWEEP_SLICE", 100)  # several slices, with requests between them
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    for i in range(250):
        await limiter.hit(parse("5/second"), "old", str(i))
    await storage.incr("counter", expiry=1)
    await asyncio.sleep(1.05)
    for i in range(3):
        await limiter.hit(parse("5/minute"), "live", str(i))
    await limiter.hit(parse("5/minute"), "live", "0")

    await storage.sweep()

    assert sorted(storage.events) == sorted(f"LIMITER/live/{i}/5/1/minute" for i in range(3))
    assert [len(storage.events[f"LIMITER/live/{i}/5/1/minute"]) for i in range(3)] == [2, 1, 1]
    assert "counter" not in storage.storage and "counter" not in storage.expirations
    assert not any(key.startswith("LIMITER/old/") for key in storage.locks)
    # A freed key starts afresh; a live one still counts what it had.
    assert (await limiter.get_window_stats(parse("5/minute"), "live", "0")).remaining == 3


async def test_the_api_uses_the_swept_storage_without_redis(monkeypatch):
    monkeypatch.setattr(ratelimit, "get_settings", lambda: type("S", (), {"redis_url": None})())
    ratelimit._limiter.cache_clear()
    try:
        assert isinstance(ratelimit.limiter().storage, SweptMemoryStorage)
        await ratelimit.hit("2/second", "test", "k")
        await ratelimit.hit("2/second", "test", "k")
        with pytest.raises(ratelimit.RateLimited):
            await ratelimit.hit("2/second", "test", "k")
    finally:
        ratelimit._limiter.cache_clear()
