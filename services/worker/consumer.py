"""The telemetry consumer: wakes on the API's NOTIFY, sweeps for anything missed, drains MSPs.

The API's whole contract is one `pg_notify('seawall_telemetry', msp_id)` per request, delivered at
commit. Notifications can be lost (no listener at that moment, a dropped connection), so a sweep
through `telemetry_pending_msps()` — the only cross-tenant question the worker asks — runs every
few seconds and after every (re)connection. MSPs are served round-robin one batch at a time, so
a tenant with a deep backlog cannot starve the others; several processes may run this at once
(processing.py lets one worker hold an MSP at a time, the others skip it).

Live telemetry goes before scheduled work in the same process: the consumer installs the pacing
gate (services/core/pacing.py) that holds a scheduled job's next unit while batches are queued
or being applied, for a bounded time.

Batch sizes adapt per MSP: a full batch doubles the next one (up to MAX_BATCH_SIZE), a partial one
sets it to the smallest size that would have taken all it found (the base size once caught up).
Much of a batch's cost is per batch, not per event (the state hooks evaluate alert rules once per
practice per batch), so a backlog drains in fewer, larger batches while a quiet MSP keeps small ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque

import psycopg
import structlog
from sqlalchemy import text

from services.core import pacing
from services.core.db import Database
from services.core.telemetry.inbox import CHANNEL
from services.core.telemetry.processing import BATCH_SIZE, BUSY, MAX_BATCH_SIZE, process_batch

log = structlog.get_logger("seawall.worker.consumer")

SWEEP_SECONDS = 5.0
RECONNECT_SECONDS = 2.0
# After a failed batch the MSP waits 1 s, 2 s, 4 s … up to a minute before it is tried again, so a
# bug that fails every batch does not spin the CPU; other MSPs are served meanwhile.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0


class TelemetryConsumer:
    def __init__(self, db: Database, listen_conninfo: str, workers: int = 2, batch_size: int = BATCH_SIZE,
                 sweep_seconds: float = SWEEP_SECONDS) -> None:
        self.db = db
        self.listen_conninfo = listen_conninfo
        self.workers = max(1, workers)
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self._queue: deque[uuid.UUID] = deque()
        self._queued: set[uuid.UUID] = set()
        self._busy: set[uuid.UUID] = set()
        self._again: set[uuid.UUID] = set()  # notified while being processed: one more pass after
        self._sizes: dict[uuid.UUID, int] = {}  # the next batch size per MSP
        self._failures: dict[uuid.UUID, int] = {}  # failed batches in a row per MSP
        self._hold_until: dict[uuid.UUID, float] = {}  # an MSP in back-off is not queued before this (monotonic)
        self.max_batch_size = max(batch_size, MAX_BATCH_SIZE)
        self._ready = asyncio.Condition()
        self._idle = asyncio.Event()  # nothing queued or being applied (the pacing gate waits on it)
        self._idle.set()
        self.listening = asyncio.Event()
        self.processed = 0

    async def run(self) -> None:
        """Run until cancelled; a batch in flight when cancelled rolls back and is redone later."""
        tasks = [asyncio.create_task(self._listen(), name="telemetry-listen"),
                 asyncio.create_task(self._sweep_forever(), name="telemetry-sweep")]
        tasks += [asyncio.create_task(self._work(), name=f"telemetry-worker-{i}") for i in range(self.workers)]
        pacing.install(self.idle_or_timeout)
        try:
            await asyncio.gather(*tasks)
        finally:
            pacing.install(None)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def idle_or_timeout(self, seconds: float) -> None:
        """The pacing gate: return once no telemetry is queued or being applied, or after `seconds`."""
        if self._idle.is_set():
            await asyncio.sleep(0)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)

    def _update_idle(self) -> None:
        if self._queue or self._busy:
            self._idle.clear()
        else:
            self._idle.set()

    async def wake(self, msp_ids) -> None:
        now = asyncio.get_running_loop().time()
        async with self._ready:
            for msp_id in msp_ids:
                if self._hold_until.get(msp_id, 0.0) > now:
                    continue  # in back-off: a later sweep queues it again
                if msp_id in self._busy:
                    self._again.add(msp_id)
                elif msp_id not in self._queued:
                    self._queued.add(msp_id)
                    self._queue.append(msp_id)
            self._update_idle()
            self._ready.notify_all()

    async def sweep(self) -> None:
        async with self.db.transaction() as session:
            pending = list(await session.scalars(text("SELECT telemetry_pending_msps()")))
        if pending:
            await self.wake(pending)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("telemetry_sweep_failed")
            await asyncio.sleep(self.sweep_seconds)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.listen_conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    await self.sweep()  # whatever was notified while nobody listened
                    async for note in conn.notifies():
                        try:
                            await self.wake([uuid.UUID(note.payload)])
                        except ValueError:
                            log.warning("telemetry_bad_notification", payload=note.payload[:80])
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening.clear()
                log.exception("telemetry_listen_failed")
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _next(self) -> uuid.UUID:
        async with self._ready:
            while not self._queue:
                await self._ready.wait()
            msp_id = self._queue.popleft()
            self._queued.discard(msp_id)
            self._busy.add(msp_id)
            return msp_id

    async def _done(self, msp_id: uuid.UUID, more: bool) -> None:
        async with self._ready:
            self._busy.discard(msp_id)
            if (more or msp_id in self._again) and msp_id not in self._queued:
                self._queued.add(msp_id)
                self._queue.append(msp_id)  # to the back: the other MSPs get their turn first
                self._ready.notify()
            self._again.discard(msp_id)
            self._update_idle()

    def _settle_size(self, msp_id: uuid.UUID, n: int) -> None:
        """After a partial batch of n events: the smallest size (base × 2^k) that would have taken
        them all. Falling back to the base size instead made a busy MSP climb back up through
        small batches, each paying the per-batch costs in full (one MSP at 5,000 events/s, stress
        mix: 1,000-event batches took 250-400 ms to apply, 8,000-event ones 500-900 ms)."""
        size = self.batch_size
        while size < n and size < self.max_batch_size:
            size *= 2
        if size > self.batch_size:
            self._sizes[msp_id] = min(size, self.max_batch_size)
        else:
            self._sizes.pop(msp_id, None)

    async def _work(self) -> None:
        while True:
            msp_id = await self._next()
            more, n = False, 0
            size = self._sizes.get(msp_id, self.batch_size)
            try:
                n = await process_batch(self.db, msp_id, size)
                self._failures.pop(msp_id, None)
                self._hold_until.pop(msp_id, None)
                self.processed += max(n, 0)
                # A full batch means more is waiting; BUSY means another worker has the MSP
                # (it drains it, and the sweep catches anything it leaves).
                more = n >= size  # more than size when events were set aside besides a full batch
                if more:
                    self._sizes[msp_id] = min(size * 2, self.max_batch_size)
                elif n != BUSY:
                    # BUSY says nothing about the backlog (another process has the MSP); resetting
                    # then kept one busy MSP at the base size with two workers.
                    self._settle_size(msp_id, n)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if _stopping():
                    # Stopped mid-batch (SIGTERM): the cancelled query's rollback can surface as a
                    # driver error ("the connection is closed") rather than as the cancellation.
                    # The batch rolled back and stays pending for the next worker: not a failure.
                    log.info("telemetry_batch_interrupted", msp_id=str(msp_id), error=type(error).__name__)
                    raise asyncio.CancelledError from error
                # process_batch logged the failure and recorded the MSP's stall; the batch rolled
                # back and is retried after the back-off, its MSP's later telemetry waiting behind it.
                failures = self._failures[msp_id] = self._failures.get(msp_id, 0) + 1
                delay = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (failures - 1))
                self._hold_until[msp_id] = asyncio.get_running_loop().time() + delay
                self._again.discard(msp_id)
                log.warning("telemetry_batch_retry_later", msp_id=str(msp_id), failures=failures, retry_in_seconds=delay,
                            error_type=type(error).__name__)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._done(msp_id, more))
            if n == BUSY:
                await asyncio.sleep(0.05)


def _stopping() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
