"""Garbage-collector set-up shared by the long-running processes (API, worker)."""

from __future__ import annotations

import gc

from sqlalchemy.orm import configure_mappers


def freeze_startup_heap() -> None:
    """Take what start-up left alive out of the cyclic garbage collector's reach.

    Start-up leaves ~200,000 long-lived objects (modules, routes, pydantic and SQLAlchemy models)
    in the collector's oldest generation, and every full collection walks all of them. A request
    that builds a large response (the portfolio page: 50 practices with 30-day trends) promotes
    enough short-lived objects to set off a full collection every ~13 requests, and each one took
    120 ms on the 2-core VM while collecting nothing: that was the portfolio's p95 (issue 6,
    docs/performance.md). `gc.freeze()` moves the start-up objects to a permanent generation;
    full collections then walk only what was allocated since, and cycles among those are still
    collected. Run once per process, before serving (each uvicorn worker runs the lifespan; the
    telemetry worker calls it once its task modules are imported).
    """
    configure_mappers()
    gc.collect()
    gc.freeze()
