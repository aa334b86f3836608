"""Structured logs: JSON in production, readable in a terminal; UTC; a request id on every line."""

from __future__ import annotations

import logging
import sys

import structlog

from services.core.settings import Settings

# Keys whose values must never reach a log line, whatever a caller passes.
_SECRET_KEYS = {"password", "token", "credential", "secret", "authorization", "cookie", "code", "recovery_code"}


def _redact(_, __, event_dict):
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def configure(settings: Settings) -> None:
    renderer = structlog.processors.JSONRenderer() if settings.log_json or settings.is_production else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(settings.log_level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
