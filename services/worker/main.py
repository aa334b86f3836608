"""`seawall worker`: the procrastinate worker (scheduled and deferred jobs) and the telemetry
consumer, in one process. Run as many as the load needs; they coordinate through PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from services.core import metrics
from services.core.database_server import libpq, resolve
from services.core.db import Database
from services.core.heap import freeze_startup_heap
from services.core.logging import configure
from services.core.settings import get_settings
from services.core.telemetry import partitions
from services.worker import context
from services.worker.app import app
from services.worker.consumer import TelemetryConsumer
# Registers rule evaluation on ON_STATE_CHANGED before the consumer processes its first batch
# (procrastinate imports the tasks_* modules only once its own worker loop starts).
import services.core.alerts.evaluate  # noqa: E402,F401

log = structlog.get_logger("seawall.worker")


async def run_worker(concurrency: int = 4) -> int:
    settings = get_settings()
    configure(settings)
    urls = resolve(settings)
    db = Database.connect(urls.app, pool_size=concurrency + 2)
    if settings.worker_metrics_port:
        metrics.serve(settings.worker_metrics_port)
    context.set_database(db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Every tasks_* module (and the state hooks they register) is loaded before the first batch.
        app.perform_import_paths()
        # Before anything is processed: a fresh database (or a long-stopped worker) has partitions.
        await partitions.upkeep(db)
        freeze_startup_heap()  # as the API does: no full collection walks the start-up objects again
        async with app.open_async():
            consumer = TelemetryConsumer(db, libpq(urls.app), workers=min(concurrency, 4))
            tasks = [
                asyncio.create_task(app.run_worker_async(concurrency=concurrency, install_signal_handlers=False,
                                                         delete_jobs="successful"), name="procrastinate"),
                asyncio.create_task(consumer.run(), name="telemetry-consumer"),
            ]
            stopper = asyncio.create_task(stop.wait())
            log.info("worker_started", concurrency=concurrency)
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for t in [stopper, *tasks]:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            failed = [r for t, r in zip(tasks, results) if t in done and isinstance(r, BaseException)
                      and not isinstance(r, asyncio.CancelledError)]
            for error in failed:
                log.error("worker_task_failed", error=repr(error))
            log.info("worker_stopped")
            return 1 if failed else 0
    finally:
        with contextlib.suppress(Exception):
            await db.dispose()
        context.set_database(None)
