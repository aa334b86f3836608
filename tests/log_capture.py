"""Capturing structlog events in a test, whatever ran before it.

The application caches each logger on first use (services/core/logging.py), and a cached logger
keeps the processors it was built with, so `structlog.testing.capture_logs` alone misses a module
whose logger an earlier test already used. Fresh loggers replace the modules' for the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
import structlog


@contextmanager
def captured_logs(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as logs:
        for module in modules:
            monkeypatch.setattr(module, "log", structlog.get_logger(module.__name__))
        yield logs
