"""Prometheus counters, exposed by the worker in the standard text format (`seawall worker`, when
SEAWALL_WORKER_METRICS_PORT is set). The stall row and the dead letters are what people read; these
are for alerting an operator on rates across every MSP (docs/decisions/0006-dead-letters.md)."""

from __future__ import annotations

from prometheus_client import Counter, start_http_server

TELEMETRY_BATCH_FAILURES = Counter(
    "seawall_telemetry_batch_failures", "Telemetry batches that failed for a reason other than their events (rolled back, retried)",
    ["error_type"])
TELEMETRY_EVENTS_SET_ASIDE = Counter(
    "seawall_telemetry_events_set_aside", "Recorded events set aside as dead letters because they are invalid", ["code"])


def serve(port: int, host: str = "127.0.0.1") -> None:
    """The /metrics endpoint on its own port, in a thread of this process."""
    start_http_server(port, addr=host)
