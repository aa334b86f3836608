"""Rate limits (the `limits` library): in memory per process by default, Redis when configured,
so that several API replicas share one budget."""

from __future__ import annotations

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


@lru_cache
def _limiter(thread: int) -> MovingWindowRateLimiter:
    """One limiter per thread: an asyncio storage (memory locks, a Redis connection) belongs to one
    event loop, and a process may run more than one (a test server in a thread)."""
    url = get_settings().redis_url
    storage = storage_from_string(url.replace("redis://", "async+redis://", 1)) if url else MemoryStorage()
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
