"""Scheduled work gives way to live telemetry within one worker process.

A worker runs the telemetry consumer and the scheduled jobs (time-based rule evaluation every
minute, readiness rescoring, the hourly full rescore) on one event loop. Those jobs are bursts of
CPU — a second or more for a few hundred practices — and while one runs, the consumer's batches
get only part of the loop, so telemetry lag jumps at every minute (measured: worst-case lag per
second from ~0.4 s to ~1.2 s at 5,000 events/s; 25 s of ~0.9 s during the hourly rescore).

So jobs that walk many practices call `await background_turn()` between their units (a
transaction of a few dozen practices). In a worker, the consumer installs a gate that holds the
caller while telemetry is queued or being applied, for at most MAX_WAIT: the jobs run in the
consumer's idle moments, and still progress when it never has any. Outside a worker (tests, the
CLI) there is no gate and the call returns at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

MAX_WAIT = 0.25  # seconds a unit of scheduled work waits for live telemetry at most

_gate: Callable[[float], Awaitable[None]] | None = None


def install(gate: Callable[[float], Awaitable[None]] | None) -> None:
    """Set (or with None, remove) the process's gate: an awaitable that returns once live work is
    idle or the given number of seconds has passed."""
    global _gate
    _gate = gate


async def background_turn(max_wait: float = MAX_WAIT) -> None:
    """Let live telemetry go first (see the module docstring); a plain yield when there is no gate."""
    if _gate is None:
        await asyncio.sleep(0)
        return
    await _gate(max_wait)
