"""The consumer wakes on the API's NOTIFY and catches up with whatever was recorded while it was away."""

from __future__ import annotations

import asyncio
import time
import uuid

import psycopg

from services.core.database_server import libpq
from services.worker.consumer import TelemetryConsumer
from tests.factories_inventory import create_job
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, job_state, pending, run_event, send


async def _until(predicate, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < timeout, "timed out"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_events_recorded_while_no_consumer_ran_are_found_and_new_ones_are_processed_on_notify(
        client, db, tenant, database_urls):
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    await send(client, agent, [run_event("nas", at(60), at(50))])  # nobody listening yet
    # A sweep interval far longer than the test: only the NOTIFY (and the sweep at connect) can wake it.
    consumer = TelemetryConsumer(db, libpq(database_urls[1]), workers=2, sweep_seconds=3600)
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.listening.wait(), 10)
        await _until(lambda: _none_pending(db, tenant.msp_id))
        finished = at(1)
        await send(client, agent, [run_event("nas", at(5), finished)])
        lag = await _until(lambda: _none_pending(db, tenant.msp_id))
        assert lag < 5
        assert (await job_state(db, tenant.msp_id, job.id))["last_success_at"] == finished
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _none_pending(db, msp_id) -> bool:
    return await pending(db, msp_id) == 0


async def test_scheduled_work_waits_for_queued_telemetry_but_never_longer_than_its_bound(db, database_urls, monkeypatch):
    """pacing.background_turn: in a worker, a unit of scheduled work goes after the telemetry
    already queued, but a consumer that is never idle holds it for at most the bound; a granted
    turn lasts pacing.SLICE."""
    from services.core import pacing

    consumer = TelemetryConsumer(db, libpq(database_urls[1]), workers=1)
    busy = uuid.UUID(int=1)
    pacing.install(consumer.idle_or_timeout)
    try:
        started = time.monotonic()
        await pacing.background_turn(5.0)
        assert time.monotonic() - started < 0.5, "an idle consumer holds nothing up"

        await consumer.wake([busy])  # queued, not yet applied
        started = time.monotonic()
        await pacing.background_turn(5.0)
        assert time.monotonic() - started < 0.5, "within the turn just granted, units go on"

        monkeypatch.setattr(pacing, "SLICE", 0.0)  # every unit asks from here on
        waiting = asyncio.create_task(pacing.background_turn(5.0))
        await asyncio.sleep(0.2)
        assert not waiting.done(), "queued telemetry goes first"
        await consumer._next()  # a batch takes it: still not idle
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await consumer._done(busy, more=False)  # applied, nothing left
        await asyncio.wait_for(waiting, 1.0)

        await consumer.wake([busy])
        started = time.monotonic()
        await pacing.background_turn(0.3)
        assert 0.25 <= time.monotonic() - started < 2.0, "bounded: scheduled work still progresses"
    finally:
        pacing.install(None)


async def test_a_worker_stopped_mid_batch_logs_no_failure(db, database_urls, monkeypatch):
    """SIGTERM cancels a batch in flight; the driver may report that as an error of its own while
    the transaction rolls back. That is an interruption (the batch stays pending), not a failure."""
    from services.worker import consumer as consumer_module

    class Log:
        def __init__(self):
            self.seen: list[tuple[str, str]] = []

        def __getattr__(self, level):
            return lambda event, **kw: self.seen.append((level, event))

    log = Log()
    monkeypatch.setattr(consumer_module, "log", log)
    started = asyncio.Event()

    async def batch_cut_off(db, msp_id, size):
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise psycopg.OperationalError("the connection is closed")  # what the rollback reported
        return 0

    monkeypatch.setattr(consumer_module, "process_batch", batch_cut_off)
    consumer = TelemetryConsumer(db, libpq(database_urls[1]), workers=1, sweep_seconds=3600)
    task = asyncio.create_task(consumer.run())
    await consumer.wake([uuid.uuid4()])
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ("info", "telemetry_batch_interrupted") in log.seen
    assert not [e for level, e in log.seen if level in ("exception", "error")]


async def test_a_batch_size_survives_a_turn_taken_by_another_worker(db, database_urls, monkeypatch):
    """With two worker processes, one MSP is applied by one of them at a time and the other is told
    BUSY. That says nothing about the backlog: the MSP's grown batch size must stay (resetting it
    kept a single busy MSP at the base size with two workers, halving its drain rate)."""
    from services.core.telemetry.processing import BUSY
    from services.worker import consumer as consumer_module

    msp = uuid.uuid4()
    outcomes = ["full", BUSY, "full", "full"]
    asked: list[int] = []
    done = asyncio.Event()

    async def scripted(database, msp_id, size):
        if msp_id != msp:
            return 0  # other tests' MSPs, found by the first sweep
        asked.append(size)
        outcome = outcomes.pop(0) if outcomes else 0
        if not outcomes:
            done.set()
        return size if outcome == "full" else outcome

    monkeypatch.setattr(consumer_module, "process_batch", scripted)
    consumer = TelemetryConsumer(db, libpq(database_urls[1]), workers=1, batch_size=2, sweep_seconds=3600)
    task = asyncio.create_task(consumer.run())
    try:
        await consumer.wake([msp])
        async def asked_twice() -> bool:
            return len(asked) == 2

        await _until(asked_twice)  # full at 2, then BUSY at 4: not queued again by itself
        await asyncio.sleep(0.1)
        await consumer.wake([msp])  # the other worker's notification: more arrived
        await asyncio.wait_for(done.wait(), 10)
        assert asked == [2, 4, 4, 8]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
