"""The consumer wakes on the API's NOTIFY and catches up with whatever was recorded while it was away."""

from __future__ import annotations

import asyncio
import time

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
