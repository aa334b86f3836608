"""Scheduled work gives way to live telemetry within one worker process.

A worker runs the telemetry consumer and the scheduled jobs (time-based rule evaluation every
minute, readiness rescoring, the hourly full rescore) on one event loop. Those jobs are bursts of
CPU — a second or more for a few hundred practices — and while one runs, the consumer's batches
get only part of the loop, so telemetry lag jumps at every minute (measured: worst-case lag per
second from ~0.4 s to ~1.2 s at 5,000 events/s; 25 s of ~0.9 s during the hourly rescore).

So jobs that walk many practices call `await background_turn()` between their units (a
transaction of a few dozen practices, or one small MSP). In a worker, the consumer installs a gate
that holds the caller while telemetry is queued or being applied, for at most MAX_WAIT. A turn,
once granted, lasts SLICE: units that follow within it go on without asking again, so a pass over
a thousand small MSPs is not a thousand waits. Scheduled work thus runs in the consumer's idle
moments, and still progresses (at least SLICE in every SLICE + MAX_WAIT) when it has none. Outside
a worker (tests, the CLI) there is no gate and the call only yields to the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

MAX_WAIT = 0.25  # seconds scheduled work waits for live telemetry at most, per turn
SLICE = 0.1  # seconds a granted turn lasts

_gate: Callable[[float], Awaitable[None]] | None = None
_granted_at = float("-inf")


def install(gate: Callable[[float], Awaitable[None]] | None) -> None:
    """Set (or with None, remove) the process's gate: an awaitable that returns once live work is
    idle or the given number of seconds has passed."""
    global _gate, _granted_at
    _gate, _granted_at = gate, float("-inf")


async def background_turn(max_wait: float = MAX_WAIT) -> None:
    """Let live telemetry go first (see the module docstring); a plain yield when there is no gate
    or the current turn is not over."""
    global _granted_at
    if _gate is None or time.monotonic() - _granted_at < SLICE:
        await asyncio.sleep(0)
        return
    await _gate(max_wait)
    _granted_at = time.monotonic()
